#!/usr/bin/env bash
# Runner start-up benchmark, per image: the engine's floor (`docker run --rm IMG true`), the time
# from the container's State.StartedAt to the first 200 from /api/healthcheck (runner started as
# the shim starts it), and the runner JVM's idle RSS. Medians of RUNS (default 5) runs.
# Two networks: `host` (the runner's own port, as on VM hosts) and `bridge` with a published port
# (Docker's userland proxy), whose floor is busybox httpd behind the same mapping. Polls give up
# after 100 ms and retry every 2 ms.
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
tmp=$(mktemp -d)
trap 'docker rm -f $(docker ps -aq --filter "name=runner-bench-$$-") >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
# sets $pid to the runner JVM's pid inside the container
runner_pid='for p in /proc/[0-9]*; do if tr "\0" " " < $p/cmdline 2>/dev/null | grep -q "^/opt/dstack-runner/glibc/ld-linux"; then pid=${p#/proc/}; fi; done; [ -n "$pid" ]'

free_port() { "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
cat > "$tmp/poll.py" <<'PY'
import sys, time, http.client
port = int(sys.argv[1])
deadline = time.time() + 60
while time.time() < deadline:
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=0.1)
        c.request("GET", "/api/healthcheck")
        if c.getresponse().status == 200:
            print(int(time.time() * 1000)); break
    except OSError:
        pass
    time.sleep(0.002)
PY
# ready_after_start NAME PORT [after]: starts the created container NAME and prints the ms from its
# StartedAt to the first 200 on 127.0.0.1:PORT/api/healthcheck. The poller runs before the container
# starts (its own start-up not counted), or with "after" once `docker start` has returned: a
# connection through the published port's proxy made while the container's interface is still
# coming up waits for the kernel's next neighbour (ARP) try, ~1 s, whatever listens inside, and the
# engine's clients connect only after it reported the container started anyway.
ready_after_start() {
  local poller
  if [ "${3:-}" != after ]; then
    "$py" "$tmp/poll.py" "$2" > "$tmp/ok" & poller=$!
    sleep 0.3
  fi
  docker start "$1" >/dev/null
  if [ "${3:-}" = after ]; then
    "$py" "$tmp/poll.py" "$2" > "$tmp/ok" & poller=$!
  fi
  wait "$poller"
  local started
  started=$(docker inspect -f '{{.State.StartedAt}}' "$1")
  "$py" -c "import sys,datetime; s=sys.argv[1].rstrip('Z'); d,f=(s.split('.')+['0'])[:2]; print(int(sys.argv[2]) - int(datetime.datetime.fromisoformat(d).replace(tzinfo=datetime.timezone.utc).timestamp()*1000)-int((f+'000')[:3]))" "$started" "$(cat "$tmp/ok")"
}

# The published port's own floor: busybox httpd (ready at once) behind the same -p mapping
mkdir -p "$tmp/www/api"; echo ok > "$tmp/www/api/healthcheck"
proxy_floor=()
for i in $(seq 1 "$runs"); do
  port=$(free_port)
  docker create --name "runner-bench-$$-httpd-$i" --label ai.dstack.agent.test=true -p "127.0.0.1:$port:10999" \
    -v "$tmp/www:/www:ro" "$BUSYBOX_IMAGE" httpd -f -p 10999 -h /www >/dev/null
  proxy_floor+=("$(ready_after_start "runner-bench-$$-httpd-$i" "$port" after)")
  docker rm -f "runner-bench-$$-httpd-$i" >/dev/null
done

for image in "$BASE_IMAGE" "$BUSYBOX_IMAGE"; do
  run_floor=()
  for _ in $(seq 1 "$runs"); do
    t0=$(now_ms); docker run --rm --label ai.dstack.agent.test=true "$image" true; t1=$(now_ms)
    run_floor+=($((t1 - t0)))
  done
  for network in host bridge; do
    ready=() rss=() cpu=()
    for i in $(seq 1 "$runs"); do
      name="runner-bench-$$-$network-$i"
      dir=$(mktemp -d)
      port=$(free_port)
      if [ "$network" = host ]; then
        net=(--network host); http_port=$port; ssh_port=$(free_port)
      else
        net=(--network bridge -p "127.0.0.1:$port:10999"); http_port=10999; ssh_port=10022
      fi
      docker create --name "$name" --label ai.dstack.agent.test=true "${net[@]}" \
        -v "$dir:/tmp/runner" -v "$runtime:/opt/dstack-runner:ro" \
        -v "$runtime/bin/dstack-runner:/usr/local/bin/dstack-runner:ro" \
        --entrypoint /bin/sh "$image" -c \
        "/usr/local/bin/dstack-runner --log-level 4 start --temp-dir /tmp/runner --http-port $http_port --ssh-port $ssh_port" >/dev/null
      ready+=("$(ready_after_start "$name" "$port" "$([ "$network" = bridge ] && echo after)")")
      # CPU the runner JVM used until it answered (utime+stime, 100 Hz ticks): what load cannot inflate
      ticks=$(docker exec "$name" /bin/sh -c "$runner_pid"' && cut -d" " -f14,15 /proc/$pid/stat' | awk '{print $1 + $2}')
      cpu+=($((ticks * 10)))
      sleep 1
      kb=$(docker exec "$name" /bin/sh -c "$runner_pid"' && grep VmRSS /proc/$pid/status' | tr -dc 0-9)
      rss+=($((kb / 1024)))
      docker rm -f "$name" >/dev/null
      rm -rf "$dir"
    done
    if [ "$network" = host ]; then
      floor="docker run --rm IMG true: $(spread "${run_floor[@]}")"
    else
      floor="busybox httpd behind the same published port: $(spread "${proxy_floor[@]}")"
    fi
    printf '%-28s %-6s floor (%s ms) | runner StartedAt -> first healthcheck 200: %s ms | runner CPU until then: %s ms | runner idle RSS: %s MiB  (median (min-max) of %d)\n' \
      "$image" "$network" "$floor" "$(spread "${ready[@]}")" "$(spread "${cpu[@]}")" "$(spread "${rss[@]}")" "$runs"
  done
done
printf 'runtime %s: %s (jre %s, lib %s of which AOT cache %s, glibc %s)\n' "$runtime" "$(du -sh "$runtime" | cut -f1)" \
  "$(du -sh "$runtime/jre" | cut -f1)" "$(du -sh "$runtime/lib" | cut -f1)" \
  "$( [ -f "$runtime/lib/runner.aot" ] && du -h "$runtime/lib/runner.aot" | cut -f1 || echo none)" "$(du -sh "$runtime/glibc" | cut -f1)"
