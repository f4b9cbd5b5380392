#!/usr/bin/env bash
# Static security checks of infra/ with checkov, from its own venv (.venv-checkov).
# checkov stays out of .venv on purpose: it depends on bc-python-hcl2, which installs a module named `hcl2`
# over python-hcl2's, the parser tests/unit/test_infra.py uses.
# Usage: scripts/checkov.sh [extra checkov args]   (exit status non-zero on any failed check)
set -euo pipefail
cd "$(dirname "$0")/.."

CHECKOV_VERSION=3.3.30
PYTHON=${PYTHON:-python3}
VENV=.venv-checkov
STAMP="$VENV/.installed-checkov-$CHECKOV_VERSION"

if [ ! -f "$STAMP" ]; then
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q "checkov==$CHECKOV_VERSION"
  touch "$STAMP"
fi

# --download-external-modules false and no API key: fully offline, only the local .tf files.
exec "$VENV/bin/checkov" --directory infra --framework terraform --compact --quiet \
  --download-external-modules false --skip-download "$@"
