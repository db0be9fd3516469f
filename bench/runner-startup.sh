#!/usr/bin/env bash
# Runner start-up benchmark, per image: the engine's floor (`docker run --rm IMG true`), the time
# from the container's State.StartedAt to the first 200 from /api/healthcheck (runner started as
# the shim starts it), and the runner JVM's idle RSS. Medians of RUNS (default 5) runs.
set -euo pipefail
source "$(dirname "$0")/../bin/lib/common.sh"
find_jdk
runs=${RUNS:-5}
runtime=${RUNNER_RUNTIME:-$AGENT_ROOT/runner/target/runtime}
if [ ! -x "$runtime/bin/dstack-runner" ] && [ -z "${RUNNER_RUNTIME:-}" ]; then
  say "building the runner runtime (mvn package)"
  mvn_run -q -pl runner -am package -DskipTests >&2
fi

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'; }
# "median (min-max)"
spread() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {m=(NR % 2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2); printf "%d (%d-%d)", m, a[1], a[NR]}'; }
now_ms() { date +%s%3N; }
py=$(command -v /usr/bin/python3 || command -v python3)
# sets $pid to the runner JVM's pid inside the container
runner_pid='for p in /proc/[0-9]*; do if tr "\0" " " < $p/cmdline 2>/dev/null | grep -q "^/opt/dstack-runner/glibc/ld-linux"; then pid=${p#/proc/}; fi; done; [ -n "$pid" ]'

for image in "$BASE_IMAGE" "$BUSYBOX_IMAGE"; do
  floor=() ready=() rss=() cpu=()
  for _ in $(seq 1 "$runs"); do
    t0=$(now_ms); docker run --rm --label ai.dstack.agent.test=true "$image" true; t1=$(now_ms)
    floor+=($((t1 - t0)))
  done
  for i in $(seq 1 "$runs"); do
    name="runner-bench-$$-$i"
    dir=$(mktemp -d)
    port=$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    docker create --name "$name" --label ai.dstack.agent.test=true --network bridge -p "127.0.0.1:$port:10999" \
      -v "$dir:/tmp/runner" -v "$runtime:/opt/dstack-runner:ro" \
      -v "$runtime/bin/dstack-runner:/usr/local/bin/dstack-runner:ro" \
      --entrypoint /bin/sh "$image" -c \
      "/usr/local/bin/dstack-runner --log-level 4 start --temp-dir /tmp/runner --http-port 10999 --ssh-port 10022" >/dev/null
    # the poller runs before the container starts, so its own start-up is not counted
    "$py" - "$port" > "$dir.ok" <<'PY' &
import sys, time, http.client
port = int(sys.argv[1])
deadline = time.time() + 60
while time.time() < deadline:
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        c.request("GET", "/api/healthcheck")
        if c.getresponse().status == 200:
            print(int(time.time() * 1000)); break
    except OSError:
        pass
    time.sleep(0.002)
PY
    poller=$!
    sleep 0.3
    docker start "$name" >/dev/null
    wait "$poller"
    ok_ms=$(cat "$dir.ok"); rm -f "$dir.ok"
    started=$(docker inspect -f '{{.State.StartedAt}}' "$name")
    started_ms=$("$py" -c "import sys,datetime; s=sys.argv[1].rstrip('Z'); d,f=(s.split('.')+['0'])[:2]; print(int(datetime.datetime.fromisoformat(d).replace(tzinfo=datetime.timezone.utc).timestamp()*1000)+int((f+'000')[:3]))" "$started")
    ready+=($((ok_ms - started_ms)))
    # CPU the runner JVM used until it answered (utime+stime, 100 Hz ticks): what load cannot inflate
    ticks=$(docker exec "$name" /bin/sh -c "$runner_pid"' && cut -d" " -f14,15 /proc/$pid/stat' | awk '{print $1 + $2}')
    cpu+=($((ticks * 10)))
    sleep 1
    kb=$(docker exec "$name" /bin/sh -c "$runner_pid"' && grep VmRSS /proc/$pid/status' | tr -dc 0-9)
    rss+=($((kb / 1024)))
    docker rm -f "$name" >/dev/null
    rm -rf "$dir"
  done
  printf '%-28s floor (docker run --rm IMG true): %s ms | runner StartedAt -> first healthcheck 200: %s ms | runner CPU until then: %s ms | runner idle RSS: %s MiB  (median (min-max) of %d)\n' \
    "$image" "$(spread "${floor[@]}")" "$(spread "${ready[@]}")" "$(spread "${cpu[@]}")" "$(spread "${rss[@]}")" "$runs"
done
printf 'runtime %s: %s (jre %s, lib %s of which AOT cache %s, glibc %s)\n' "$runtime" "$(du -sh "$runtime" | cut -f1)" \
  "$(du -sh "$runtime/jre" | cut -f1)" "$(du -sh "$runtime/lib" | cut -f1)" \
  "$( [ -f "$runtime/lib/runner.aot" ] && du -h "$runtime/lib/runner.aot" | cut -f1 || echo none)" "$(du -sh "$runtime/glibc" | cut -f1)"
