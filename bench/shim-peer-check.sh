#!/usr/bin/env bash
# Peer check cost (docs/api-isolation.md): time of a new connection's first request (connect,
# GET /api/healthcheck, read the answer, close) while a host-network task runs, with the check on
# and off; the difference is what the check costs per new connection. Median of N connections,
# from one Python client (its own overhead is in both figures).
set -euo pipefail
source "$(dirname "$0")/../bin/lib/common.sh"
N=${N:-400}
work=$(mktemp -d)
cat > "$work/dstack-runner" <<'STUB'
#!/bin/sh
if [ "$1" = --version ]; then echo "dstack-runner version 0.0.0-bench"; exit 0; fi
exec sleep 3600
STUB
chmod +x "$work/dstack-runner"
trap bench_cleanup EXIT
bench_prepare_shim

measure() {  # measure on|off -> prints "median min max" in microseconds
  local port; port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  DSTACK_SHIM_HOME="$work/home" DSTACK_SHIM_HTTP_PORT=$port DSTACK_RUNNER_BINARY_PATH="$work/dstack-runner" \
    DSTACK_RUNNER_RUNTIME_DIR= DSTACK_SHIM_LOG_LEVEL=warn DSTACK_SHIM_API_PEER_CHECK=$([ "$1" = on ] && echo true || echo false) \
    "$AGENT_ROOT/bin/dstack-shim" >"$work/shim-$1.log" 2>&1 &
  shim_pid=$!
  until curl -sf "http://127.0.0.1:$port/api/healthcheck" >/dev/null 2>&1; do sleep 0.02; done
  local id="peer-$1-$RANDOM"
  curl -sf -H 'Content-Type: application/json' "http://127.0.0.1:$port/api/tasks" \
    -d "{\"id\":\"$id\",\"name\":\"peer-$1\",\"image_name\":\"$BUSYBOX_IMAGE\",\"network_mode\":\"host\"}" >/dev/null
  until task=$(curl -sf "http://127.0.0.1:$port/api/tasks/$id") && [[ "$task" == *'"status":"running"'* ]]; do
    [[ "${task:-}" == *'"status":"terminated"'* ]] && { say "bench task ended: $task"; exit 1; }
    sleep 0.05
  done
  python3 - "$port" "$N" >"$work/$1.figures" <<'PY'
import socket, sys, time, statistics
port, n = int(sys.argv[1]), int(sys.argv[2])
req = b"GET /api/healthcheck HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
times = []
for i in range(n + 20):
    t = time.perf_counter()
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(req)
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(4096)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int([l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")][0])
    while len(body) < length:
        body += s.recv(4096)
    s.close()
    if b" 200 " not in data.split(b"\r\n")[0]:
        sys.exit("unexpected answer: %r" % data[:80])
    if i >= 20:  # warm-up
        times.append((time.perf_counter() - t) * 1e6)
print(int(statistics.median(times)), int(min(times)), int(max(times)))
PY
  curl -sf -H 'Content-Type: application/json' "http://127.0.0.1:$port/api/tasks/$id/terminate" -d '{"timeout":0}' >/dev/null
  curl -sf -X POST "http://127.0.0.1:$port/api/tasks/$id/remove" >/dev/null
  kill "$shim_pid"; wait "$shim_pid" 2>/dev/null || true; shim_pid=
}
measure on
measure off
read -r on_med on_min on_max <"$work/on.figures"
read -r off_med off_min off_max <"$work/off.figures"
printf 'new connection + first request, host-network task running (median of %d, min-max, µs):\n' "$N"
printf '  peer check on:  %6d  (%d-%d)\n' "$on_med" "$on_min" "$on_max"
printf '  peer check off: %6d  (%d-%d)   <- floor\n' "$off_med" "$off_min" "$off_max"
printf '  cost of the check per new connection: %.2f ms (target <= 1 ms)\n' "$(echo "($on_med - $off_med) / 1000" | bc -l)"
cost=$(echo "($on_med - $off_med) / 1000" | bc -l)
bench_row "peer check per new connection (host-network task running)" "$(printf '%.2f ms' "$cost")" "" \
  "$(printf '%d µs without the check' "$off_med")" "≤ 1 ms" "$(echo "$cost <= 1" | bc -l | sed 's/1/yes/;s/0/no/')"
