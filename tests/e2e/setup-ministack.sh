#!/usr/bin/env bash
# The AWS end-to-end tests' emulator: ministack in a virtual environment of its own, because it
# pins its own botocore (1.43.x) and the project's .venv pins a newer one.
# Idempotent: does nothing when the venv already holds exactly ministack-requirements.txt;
# rebuilds it otherwise.
#   tests/e2e/setup-ministack.sh                        # -> .e2e/ministack-venv
#   MINISTACK_VENV=/elsewhere PYTHON=python3.12 tests/e2e/setup-ministack.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

PYTHON="${PYTHON:-python3}"
VENV="${MINISTACK_VENV:-.e2e/ministack-venv}"
REQUIREMENTS=tests/e2e/ministack-requirements.txt
STAMP="$VENV/.installed"
WANT="$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1) $("$PYTHON" -c 'import sys; print(sys.version.split()[0])')"

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] && "$VENV/bin/python" -c "import ministack.app" 2>/dev/null; then
    exit 0
fi
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
# Nothing else: ministack runs Python Lambda functions in local processes, without Docker.
"$VENV/bin/python" -m pip install --disable-pip-version-check --quiet --no-deps -r "$REQUIREMENTS"
"$VENV/bin/python" -m pip check --disable-pip-version-check >/dev/null
"$VENV/bin/python" -c "import ministack.app"
echo "$WANT" > "$STAMP"
echo "ministack installed in $VENV: $("$VENV/bin/python" -m pip show ministack 2>/dev/null | sed -n 's/^Version: //p'), $("$VENV/bin/python" -V)"
