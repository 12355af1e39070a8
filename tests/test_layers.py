"""The layering rules are the table in docs/architecture.md; every import in webhookctl/ keeps them.

Plain `ast`: each `import` and `from ... import` anywhere in a module (inside functions
and `TYPE_CHECKING` blocks too), relative ones resolved, is checked against its layer's row.
"""

from __future__ import annotations

import ast
import fnmatch
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DOCUMENT = REPO / "docs" / "architecture.md"
HEADER = "| layer | modules (globs) | may import |"


@dataclass(frozen=True)
class Layer:
    name: str
    globs: tuple[str, ...]
    may_import: frozenset[str]


def read_layers(document: Path = DOCUMENT) -> list[Layer]:
    lines = document.read_text().splitlines()
    start = lines.index(HEADER) + 2  # past the header and its |---| line
    layers: list[Layer] = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        name, globs, allowed = (cell.strip() for cell in line.strip().strip("|").split("|"))
        layers.append(Layer(name, tuple(re.findall(r"`([^`]+)`", globs)),
                            frozenset(a.strip() for a in allowed.split(",") if a.strip())))
    return layers


def module_path(root: Path, module: str) -> str | None:
    """The repository path of a webhookctl module (`webhookctl/x/y.py`), or None if there is none."""
    base = root.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate.relative_to(root).as_posix()
    return None


def layer_of(layers: list[Layer], path: str) -> Layer | None:
    return next((layer for layer in layers if any(fnmatch.fnmatchcase(path, g) for g in layer.globs)), None)


def imported_modules(root: Path, path: Path) -> list[tuple[int, str]]:
    """(line, module) for every webhookctl module `path` imports; `from a import b` names a.b if b is a module."""
    relative = path.relative_to(root)
    package = list(relative.parent.parts)
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package[: len(package) - (node.level - 1)]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            for alias in node.names:
                child = f"{base}.{alias.name}"
                found.append((node.lineno, child if module_path(root, child) else base))
    return [(line, module) for line, module in found if module.split(".")[0] == "webhookctl"]


def violations(root: Path, layers: list[Layer]) -> list[str]:
    problems: list[str] = []
    for path in sorted((root / "webhookctl").rglob("*.py")):
        source = path.relative_to(root).as_posix()
        layer = layer_of(layers, source)
        if layer is None:
            problems.append(f"{source}: in no layer of docs/architecture.md")
            continue
        for line, module in imported_modules(root, path):
            target_path = module_path(root, module)
            if target_path is None:
                continue  # a namespace package (webhookctl.config) or a name that fails at import anyway
            target = layer_of(layers, target_path)
            if target is None or (target.name != layer.name and target.name not in layer.may_import):
                problems.append(f"{source}:{line}: {layer.name} may not import {module} "
                                f"({target.name if target else 'no layer'})")
    return list(dict.fromkeys(problems))  # one line per offending import, however many names it takes


def test_every_import_keeps_the_documented_layers() -> None:
    assert violations(REPO, read_layers()) == []


def test_the_table_names_only_its_own_layers() -> None:
    layers = read_layers()
    names = {layer.name for layer in layers}
    assert len(names) == len(layers)
    for layer in layers:
        assert layer.may_import <= names, f"{layer.name} names an unknown layer"


@pytest.mark.parametrize("importer, imported", [
    # The emulators share nothing with the rest.
    ("webhookctl/emulator/amigo/app.py", "webhookctl/vendors/amigo/client.py"),
    ("webhookctl/emulator/amigo/app.py", "webhookctl/model.py"),
    # Vendor clients never reach an emulator; only embedded.py wires one in.
    ("webhookctl/vendors/amigo/client.py", "webhookctl/emulator/amigo/app.py"),
    ("webhookctl/vendors/http.py", "webhookctl/emulator/common/store.py"),
    ("webhookctl/vendors/amigo/client.py", "webhookctl/vendors/amigo/embedded.py"),
    # Vendors know nothing of plans, configuration loading, sessions, CLI, output or secrets.
    *((f"webhookctl/vendors/{where}", target) for where in ("amigo/client.py", "amigo/__init__.py", "http.py")
      for target in ("webhookctl/engine/plan.py", "webhookctl/config/models.py", "webhookctl/session.py",
                     "webhookctl/cli/plan.py", "webhookctl/render/text.py", "webhookctl/presenter.py",
                     "webhookctl/secrets/record.py")),
    # Configuration never imports the engine, the session or the CLI.
    *(("webhookctl/config/load.py", target) for target in (
        "webhookctl/engine/planner.py", "webhookctl/session.py", "webhookctl/cli/validate.py")),
    # The engine never imports the CLI or the output.
    *(("webhookctl/engine/apply.py", target) for target in (
        "webhookctl/cli/apply.py", "webhookctl/render/text.py", "webhookctl/presenter.py")),
    # verify.py, for receivers, stands nearly alone.
    *(("webhookctl/verify.py", target) for target in (
        "webhookctl/config/models.py", "webhookctl/vendors/amigo/client.py", "webhookctl/engine/plan.py")),
])
def test_the_table_holds_the_required_rules(importer: str, imported: str) -> None:
    layers = read_layers()
    source, target = layer_of(layers, importer), layer_of(layers, imported)
    assert source is not None and target is not None
    assert target.name != source.name and target.name not in source.may_import


def test_the_checker_catches_a_violation_wherever_the_import_is(tmp_path: Path) -> None:
    def write(path: str, text: str) -> None:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)

    for path in ("webhookctl/__init__.py", "webhookctl/model.py", "webhookctl/engine/__init__.py",
                 "webhookctl/engine/plan.py", "webhookctl/vendors/__init__.py", "webhookctl/vendors/contract.py",
                 "webhookctl/emulator/__init__.py", "webhookctl/vendors/acme/__init__.py"):
        write(path, "")
    # A client importing the engine inside a function, relatively; one importing the model (allowed).
    write("webhookctl/vendors/acme/client.py",
          "from webhookctl.model import Issued\n\ndef f():\n    from ...engine import plan\n")
    # The emulator importing a vendor, absolutely and under TYPE_CHECKING.
    write("webhookctl/emulator/app.py",
          "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import webhookctl.vendors.acme.client\n")
    # A module in no layer.
    write("webhookctl/stray.py", "")

    found = violations(tmp_path, read_layers())
    assert found == [
        "webhookctl/emulator/app.py:3: emulator may not import webhookctl.vendors.acme.client (vendor-client)",
        "webhookctl/stray.py: in no layer of docs/architecture.md",
        "webhookctl/vendors/acme/client.py:4: vendor-client may not import webhookctl.engine.plan (engine)",
    ]


def test_only_the_conformance_kit_imports_pytest() -> None:
    # The kit is for vendor packages' tests; webhookctl itself must run without pytest.
    importers = sorted(
        path.relative_to(REPO).as_posix() for path in (REPO / "webhookctl").rglob("*.py")
        if any(isinstance(node, ast.Import | ast.ImportFrom)
               and any(name.split(".")[0] == "pytest" for name in
                       ([a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]))
               for node in ast.walk(ast.parse(path.read_text()))))
    assert importers == ["webhookctl/vendors/conformance.py"]
