#!/usr/bin/env bash
# Installs iplatform-sync into .venv and runs the demo: a local hub plus one
# agent per industry on the embedded SQLite default (see scripts/demo.py).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e .
exec .venv/bin/python scripts/demo.py "$@"
