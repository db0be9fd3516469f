#!/usr/bin/env bash
# Shim task start: time from POST /api/tasks to the runner answering its healthcheck through the
# published port (bridge mode, busybox stub runner: no Java runner runtime is mounted), median of N
# runs; baseline: the same container (the shim's command, both published ports, both bind mounts)
# started with the docker CLI (`docker run -d`, then `docker port`) to the same answer. Shim and
# baseline runs alternate, so both see the same machine. Also the shim's time to its first
# healthcheck and its RSS before and after the runs.
set -euo pipefail
source "$(dirname "$0")/../bin/lib/common.sh"
N=${N:-10}
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
bench_stub_runner "$work/dstack-runner"
now_ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2))}'; }
wait_answer() { until curl -sf "http://127.0.0.1:$1/api/healthcheck" >/dev/null 2>&1; do sleep 0.01; done; }
cleanup() {
  [ -n "${shim_pid:-}" ] && kill "$shim_pid" 2>/dev/null || true
  ids=$(docker ps -aq --filter "label=ai.dstack.shim.home=$work/home" --filter label=dstack-bench=1)
  [ -n "$ids" ] && docker rm -f $ids >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

bench_prepare_shim
t0=$(now_ms)
DSTACK_SHIM_HOME="$work/home" DSTACK_SHIM_HTTP_PORT=$port DSTACK_RUNNER_BINARY_PATH="$work/dstack-runner" \
  DSTACK_SHIM_LOG_LEVEL=warn "$AGENT_ROOT/bin/dstack-shim" --runner-runtime-dir "" >"$work/shim.log" 2>&1 &
shim_pid=$!
until curl -sf "http://127.0.0.1:$port/api/healthcheck" >/dev/null 2>&1; do sleep 0.02; done
startup=$(( $(now_ms) - t0 ))
java_pid=$(pgrep -P "$shim_pid" java || echo "$shim_pid")
rss_idle=$(awk '/VmRSS/ {print $2}' /proc/"$java_pid"/status)

shim_times=()
base_times=()
cmd=""
for i in $(seq 1 "$N"); do
  id="bench-$i-$RANDOM"
  t=$(now_ms)
  curl -sf -H 'Content-Type: application/json' "http://127.0.0.1:$port/api/tasks" \
    -d "{\"id\":\"$id\",\"name\":\"bench-$i\",\"image_name\":\"$BUSYBOX_IMAGE\",\"network_mode\":\"bridge\"}" >/dev/null
  until task=$(curl -sf "http://127.0.0.1:$port/api/tasks/$id") && [[ "$task" == *'"status":"running"'* ]]; do sleep 0.01; done
  hp=$(sed -E 's/.*"host":([0-9]+),"container":10999.*/\1/' <<<"$task")
  wait_answer "$hp"
  shim_times+=($(( $(now_ms) - t )))
  if [ -z "$cmd" ]; then # the container the shim made, for the baseline to make the same one
    cmd=$(docker inspect -f '{{index .Config.Cmd 0}}' "$(sed -E 's/.*"container_id":"([0-9a-f]+)".*/\1/' <<<"$task")")
  fi
  curl -sf -H 'Content-Type: application/json' "http://127.0.0.1:$port/api/tasks/$id/terminate" -d '{"timeout":0}' >/dev/null
  curl -sf -X POST "http://127.0.0.1:$port/api/tasks/$id/remove" >/dev/null

  mkdir -p "$work/base-$i"
  t=$(now_ms)
  cid=$(docker run -d --label dstack-bench=1 -p 127.0.0.1::10999 -p 127.0.0.1::10022 -v "$work/base-$i:/tmp/runner" \
    -v "$work/dstack-runner:/usr/local/bin/dstack-runner:ro" --entrypoint /bin/sh "$BUSYBOX_IMAGE" -c "$cmd")
  hp=$(docker port "$cid" 10999/tcp | head -1 | sed 's/.*://')
  wait_answer "$hp"
  base_times+=($(( $(now_ms) - t )))
  docker rm -f "$cid" >/dev/null
done
rss_after=$(awk '/VmRSS/ {print $2}' /proc/"$java_pid"/status)

echo "shim startup to first healthcheck: ${startup} ms; RSS idle ${rss_idle} kB, after $N tasks ${rss_after} kB"
spread() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {printf "%d-%d", a[1], a[NR]}'; }
shim_med=$(printf '%s\n' "${shim_times[@]}" | median)
base_med=$(printf '%s\n' "${base_times[@]}" | median)
echo "task submit -> runner answers (shim, bridge): median $shim_med ms ($(spread "${shim_times[@]}")) over $N"
echo "baseline docker run -d (same container) -> same answer: median $base_med ms ($(spread "${base_times[@]}")) over $N"
ratio=$(awk -v a="$shim_med" -v b="$base_med" 'BEGIN {printf "%.2f", a/b}')
bench_row "submit → running ÷ engine's create+start" "${ratio}× ($shim_med ms)" "$(spread "${shim_times[@]}") ms" \
  "$base_med ms ($(spread "${base_times[@]}")) docker run -d, same container" "≤ 1.10×" "$(awk -v r="$ratio" 'BEGIN {print (r <= 1.10) ? "yes" : "no"}')"
