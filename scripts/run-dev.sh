#!/usr/bin/env bash
# Run the product on one machine: the demo data (if the database has none), the background worker
# and the web server, stopped together. PORT (default 8000) is the first port tried; when it is
# taken the next free one is used, and every line printed names the port actually used.
set -euo pipefail
cd "$(dirname "$0")/.."
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
free_port() {
  .venv/bin/python - "$HOST" "$1" <<'PY'
import socket, sys
host, port = sys.argv[1], int(sys.argv[2])
for p in range(port, port + 50):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, p))
        except OSError:
            continue
        print(p)
        break
else:
    sys.exit(f"no free port in {port}-{port + 49} on {host}")
PY
}
USED_PORT="$(free_port "$PORT")"
URL="http://${HOST}:${USED_PORT}/"
if [ "$USED_PORT" != "$PORT" ]; then
  echo "  port ${PORT} is in use on ${HOST}: using ${USED_PORT}"
fi
.venv/bin/kefu demo --if-empty --url "$URL"
mkdir -p var
.venv/bin/kefu worker >var/worker.log 2>&1 &
worker=$!
trap 'kill "$worker" 2>/dev/null || true' EXIT INT TERM
echo ""
echo "  kefu 客服 is running: open ${URL}   (worker log: var/worker.log; Ctrl-C stops both)"
echo ""
.venv/bin/python manage.py runserver "${HOST}:${USED_PORT}"
