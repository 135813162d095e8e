#!/usr/bin/env bash
# Run the product on one machine: the background worker and the web server, stopped together.
set -euo pipefail
cd "$(dirname "$0")/.."
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
mkdir -p var
.venv/bin/kefu worker >var/worker.log 2>&1 &
worker=$!
trap 'kill "$worker" 2>/dev/null || true' EXIT INT TERM
echo ""
echo "  kefu 客服 is running: open http://${HOST}:${PORT}/   (worker log: var/worker.log; Ctrl-C stops both)"
echo ""
.venv/bin/python manage.py runserver "${HOST}:${PORT}"
