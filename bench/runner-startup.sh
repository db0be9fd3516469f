#!/usr/bin/env bash
# Runner start-up benchmark, per image: the engine's floor (`docker run --rm IMG true`), the time
# from the container's State.StartedAt to the first 200 from /api/healthcheck (runner started as
# the shim starts it), and the runner JVM's idle RSS. Medians of RUNS (default 5) runs.
set -euo pipefail
source "$(dirname "$0")/../bin/lib/common.sh"
find_jdk
runs=${RUNS:-5}
runtime="$AGENT_ROOT/runner/target/runtime"
if [ ! -x "$runtime/bin/dstack-runner" ]; then
  say "building the runner runtime (mvn package)"
  mvn_run -q -pl runner -am package -DskipTests >&2
fi

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'; }
now_ms() { date +%s%3N; }

for image in "$BASE_IMAGE" "$BUSYBOX_IMAGE"; do
  floor=() ready=() rss=()
  for _ in $(seq 1 "$runs"); do
    t0=$(now_ms); docker run --rm --label ai.dstack.agent.test=true "$image" true; t1=$(now_ms)
    floor+=($((t1 - t0)))
  done
  for i in $(seq 1 "$runs"); do
    name="runner-bench-$$-$i"
    dir=$(mktemp -d)
    docker create --name "$name" --label ai.dstack.agent.test=true --network bridge -p 127.0.0.1::10999 \
      -v "$dir:/tmp/runner" -v "$runtime:/opt/dstack-runner:ro" \
      -v "$runtime/bin/dstack-runner:/usr/local/bin/dstack-runner:ro" \
      --entrypoint /bin/sh "$image" -c \
      "/usr/local/bin/dstack-runner --log-level 4 start --temp-dir /tmp/runner --http-port 10999 --ssh-port 10022" >/dev/null
    docker start "$name" >/dev/null
    port=$(docker port "$name" 10999/tcp | head -1 | cut -d: -f2)
    ok_ms=$(python3 - "$port" <<'PY'
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
)
    started=$(docker inspect -f '{{.State.StartedAt}}' "$name")
    started_ms=$(python3 -c "import sys,datetime; s=sys.argv[1].rstrip('Z'); d,f=(s.split('.')+['0'])[:2]; print(int(datetime.datetime.fromisoformat(d).replace(tzinfo=datetime.timezone.utc).timestamp()*1000)+int((f+'000')[:3]))" "$started")
    ready+=($((ok_ms - started_ms)))
    sleep 1
    kb=$(docker exec "$name" /bin/sh -c 'for p in /proc/[0-9]*; do if tr "\0" " " < $p/cmdline 2>/dev/null | grep -q "^/opt/dstack-runner/glibc/ld-linux"; then grep VmRSS $p/status; fi; done' | tr -dc 0-9)
    rss+=($((kb / 1024)))
    docker rm -f "$name" >/dev/null
    rm -rf "$dir"
  done
  printf '%-28s floor (docker run --rm IMG true): %5d ms | runner StartedAt -> first healthcheck 200: %5d ms | runner idle RSS: %3d MiB  (median of %d)\n' \
    "$image" "$(printf '%s\n' "${floor[@]}" | median)" "$(printf '%s\n' "${ready[@]}" | median)" \
    "$(printf '%s\n' "${rss[@]}" | median)" "$runs"
done
