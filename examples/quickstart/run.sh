#!/usr/bin/env bash
# The quick start: validate, plan and apply against the embedded Amigo emulator,
# then plan again to show that nothing is left to do.
set -euo pipefail
python=${1:-python3}
# Make a relative interpreter path (.venv/bin/python) survive the cd below.
case "$python" in */*) python="$(cd "$(dirname "$python")" && pwd)/$(basename "$python")" ;; esac
cd "$(dirname "$0")"
export AMIGO_API_KEY=${AMIGO_API_KEY:-demo-api-key}
run() { echo "$ webhookctl $*"; "$python" -m webhookctl "$@"; echo; }
run validate
run plan
run apply --auto-approve
run plan
echo "Signing secrets were written under examples/quickstart/.webhookctl/secrets/ (0600 files)."
