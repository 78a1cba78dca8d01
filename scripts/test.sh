#!/usr/bin/env bash
# Installs the project with its test dependencies into .venv and runs every
# check CI runs: lint, types, generated-code drift, buf lint, the test suites.
# PostgreSQL tests skip without a server unless IPLAT_REQUIRE_PG=1 (CI sets it).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "install (.venv)"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'

step "ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .

step "mypy (strict: agent, hub, installer)"
.venv/bin/mypy

step "generated protobuf code matches proto/"
PYTHON=.venv/bin/python bash scripts/gen_proto.sh >/dev/null
if ! git diff --quiet -- proto/ || [ -n "$(git ls-files --others --exclude-standard proto/)" ]; then
  echo "generated code differs from proto/: run scripts/gen_proto.sh and commit" >&2
  git status --short proto/ >&2
  exit 1
fi

step "buf lint"
if command -v npx >/dev/null; then
  npx --yes @bufbuild/buf@1.75.0 lint
else
  echo "npx not found: skipping buf lint (install Node.js to run it)"
fi

step "Prometheus alert rules (deploy/prometheus)"
if command -v promtool >/dev/null; then
  promtool check rules deploy/prometheus/alerts.yml
  (cd deploy/prometheus && promtool test rules alerts_test.yml)
else
  echo "promtool not found: skipping (apt-get install prometheus; .ci/run installs it)"
fi

step "tests"
.venv/bin/python -m pytest "$@"
