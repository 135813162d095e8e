#!/usr/bin/env bash
# Lint: ruff (the rule set of pyproject.toml: pyflakes, sorted imports, bugbear, line length) and the
# import-linter contract of the layers (pyproject.toml, [tool.importlinter]; docs/decisions.md).
# Both always run; the script fails if either does. Only checks: it never rewrites files.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN="${KEFU_VENV:-.venv}/bin"
status=0

echo "=== ruff check ==="
"$BIN/ruff" check --no-fix --output-format concise . || { status=1; "$BIN/ruff" check --no-fix --statistics . || true; }

echo "=== ruff format --check (the tree is formatted by ruff; run .venv/bin/ruff format) ==="
"$BIN/ruff" format --check . || status=1

echo "=== import-linter (layers) ==="
"$BIN/lint-imports" --no-cache || status=1

exit $status
