#!/usr/bin/env bash
# Shim footprint (issue 16): start -> first healthcheck 200 and RSS (VmRSS of the shim's JVM).
#   start:  RUNS (5) starts of bin/dstack-shim in this source tree with nothing to rebuild, and of
#           the distribution's launcher unpacked into a fresh directory (dist/target tarball, when
#           built; its first start, which trains the AOT cache there, is reported apart).
#   memory: one shim (bin/dstack-shim): idle (10 s after start), after 10 tasks (busybox stub
#           runner, bridge) and 10 s of API load (4 keep-alive clients), peak while 10,000 hostile
#           requests (seeded, malformed, 8 connections at a time) are served, right after them, and
#           how long until it is back to idle (≤ idle + 8 MiB; sampled for up to SETTLE_S, 60).
# Figures are medians (min-max). Hostile requests answered 5xx or not at all are counted.
set -euo pipefail
source "$(dirname "$0")/../bin/lib/common.sh"
find_jdk
RUNS=${RUNS:-5}
HOSTILE=${HOSTILE:-10000}
SETTLE_S=${SETTLE_S:-60}
work=$(mktemp -d)
bench_stub_runner "$work/dstack-runner"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  ids=$(docker ps -aq --filter "label=ai.dstack.shim.home=$work/home")
  [ -n "$ids" ] && docker rm -f $ids >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_shim LAUNCHER LOG: starts a shim on a free port; sets shim_pid and shim_port
start_shim() {
  shim_port=$(free_port)
  DSTACK_SHIM_HOME="$work/home" DSTACK_SHIM_HTTP_PORT=$shim_port DSTACK_RUNNER_BINARY_PATH="$work/dstack-runner" \
    DSTACK_SHIM_LOG_LEVEL=warn "$1" --runner-runtime-dir "" >>"$2" 2>&1 &
  shim_pid=$!
  pids+=("$shim_pid")
}
stop_shim() { kill "$shim_pid" 2>/dev/null || true; wait "$shim_pid" 2>/dev/null || true; }
cat > "$work/poll.py" <<'PY'
import http.client, os, sys, time
port, pid = int(sys.argv[1]), int(sys.argv[2])
deadline = time.time() + 120
while time.time() < deadline:
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        c.request("GET", "/api/healthcheck")
        if c.getresponse().status == 200:
            f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            print((int(f[11]) + int(f[12])) * 1000 // os.sysconf("SC_CLK_TCK"))
            sys.exit(0)
    except OSError:
        pass
    if not os.path.exists(f"/proc/{pid}"):
        sys.exit("shim exited before answering")
    time.sleep(0.005)
sys.exit("no healthcheck 200 in 120 s")
PY
# time_start LAUNCHER: "MS CPU": ms from exec to the first 200 from /api/healthcheck (polled every
# 5 ms) and the CPU ms the shim's JVM had used by then (what load on the machine does not inflate)
time_start() {
  local t0 ms cpu
  t0=$(date +%s%N)
  start_shim "$1" "$work/start.log"
  cpu=$(python3 "$work/poll.py" "$shim_port" "$shim_pid") || { tail -20 "$work/start.log" >&2; exit 1; }
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  stop_shim
  echo "$ms $cpu"
}
minmax() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {printf "%d-%d", a[1], a[NR]}'; }
spread() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:int((a[NR/2]+a[NR/2+1])/2); printf "%d (%d-%d)", m, a[1], a[NR]}'; }
median_of() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2)?a[(NR+1)/2]:int((a[NR/2]+a[NR/2+1])/2)}'; }

"$AGENT_ROOT/bin/dstack-shim" --help >/dev/null 2>&1 || true  # builds (and trains) if needed, outside the timing
# --- start times --------------------------------------------------------------------------------
# start_times NAME TARGET_MS LAUNCHER: RUNS starts, printed and reported as a row
start_times() {
  local ms=() cpu=() r
  for _ in $(seq 1 "$RUNS"); do
    r=$(time_start "$3"); ms+=("${r% *}"); cpu+=("${r#* }")
  done
  echo "shim start -> healthcheck 200, $1: $(spread "${ms[@]}") ms, JVM CPU until then $(spread "${cpu[@]}") ms (target ≤ $2 ms, median of $RUNS)"
  bench_row "shim start → healthcheck 200, $1" "$(median_of "${ms[@]}") ms (CPU $(median_of "${cpu[@]}") ms)" \
    "$(minmax "${ms[@]}") ms" "–" "≤ $2 ms" "$( [ "$(median_of "${ms[@]}")" -le "$2" ] && echo yes || echo no)"
}
# A cache made at an earlier build is replaced by the first start; wait for that training outside the timing.
wait_training() { local i; for i in $(seq 1 1200); do [ -d "$1.lock" ] || return 0; sleep 0.2; done; }
first=$(time_start "$AGENT_ROOT/bin/dstack-shim"); wait_training "$AGENT_ROOT/agent-core/target/agent-core.aot"
start_times "bin/dstack-shim (source tree, nothing to rebuild)" 1500 "$AGENT_ROOT/bin/dstack-shim"

tarball=$(ls "$AGENT_ROOT"/dist/target/dstack-shim-*-linux-x86_64.tar.gz 2>/dev/null | head -1 || true)
if [ -n "$tarball" ]; then
  mkdir -p "$work/dist"
  tar -C "$work/dist" -xzf "$tarball"
  launcher=$(ls "$work"/dist/*/bin/dstack-shim)
  t0=$(date +%s)
  first=$(time_start "$launcher"); wait_training "$(dirname "$launcher")/../lib/agent-core.aot"
  echo "distribution unpacked in a fresh dir: first start ${first% *} ms (no AOT cache yet; training it there took $(( $(date +%s) - t0 )) s in the background)"
  start_times "distribution launcher (unpacked tarball)" 1000 "$launcher"
else
  echo "shim start, distribution launcher: not measured (no dist/target tarball; build it with mvn package -pl dist -am)"
  bench_row "shim start → healthcheck 200, distribution launcher" "not built" "" "–" "≤ 1000 ms" "?"
fi

# --- memory -------------------------------------------------------------------------------------
start_shim "$AGENT_ROOT/bin/dstack-shim" "$work/shim.log"
python3 - "$shim_port" "$shim_pid" "$BUSYBOX_IMAGE" "$HOSTILE" "$SETTLE_S" >"$work/mem.out" <<'PY' || { cat "$work/mem.out"; tail -30 "$work/shim.log" >&2; exit 1; }
import http.client, json, random, socket, statistics, sys, threading, time
port, pid, image, hostile, settle_s = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])

def rss_mib():
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
def call(method, path, body=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request(method, path, body=None if body is None else json.dumps(body),
              headers={"Content-Type": "application/json"} if body is not None else {})
    r = c.getresponse(); data = r.read(); c.close()
    return r.status, data
def sample(seconds):  # median RSS over `seconds`, sampled every 0.5 s
    xs = []
    end = time.time() + seconds
    while time.time() < end:
        xs.append(rss_mib()); time.sleep(0.5)
    return statistics.median(xs)

deadline = time.time() + 120
while True:
    try:
        if call("GET", "/api/healthcheck")[0] == 200: break
    except OSError: pass
    if time.time() > deadline: sys.exit("shim did not answer")
    time.sleep(0.05)
time.sleep(8)
idle = sample(2)

# 10 tasks, one after another, each to running and the stub runner answering, then removed
for i in range(10):
    tid = f"fp-{i}-{random.randrange(1 << 30)}"
    st, body = call("POST", "/api/tasks", {"id": tid, "name": f"fp-{i}", "image_name": image, "network_mode": "bridge"})
    if st != 200: sys.exit(f"submit: {st} {body[:200]}")
    t_end = time.time() + 120
    while True:
        st, body = call("GET", f"/api/tasks/{tid}")
        task = json.loads(body)
        if task.get("status") == "running": break
        if task.get("status") == "terminated" or time.time() > t_end: sys.exit(f"task did not run: {body[:300]}")
        time.sleep(0.05)
    call("POST", f"/api/tasks/{tid}/terminate", {"timeout": 0})
    call("POST", f"/api/tasks/{tid}/remove")

# 10 s of API load: 4 keep-alive clients
stop = time.time() + 10
served = [0]
def load():
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    paths = ["/api/healthcheck", "/api/tasks", "/api/instance/health", "/api/components", "/api/tasks/nope"]
    n = 0
    while time.time() < stop:
        c.request("GET", paths[n % len(paths)]); c.getresponse().read(); n += 1
    served[0] += n
ts = [threading.Thread(target=load) for _ in range(4)]
[t.start() for t in ts]; [t.join() for t in ts]
after_load = rss_mib()

# hostile requests: seeded, malformed in many ways, 8 connections at a time
rnd = random.Random(16)
def deep(n): return ("[" * n) + ("]" * n)
FAMILIES = [
    lambda r: bytes(r.randrange(256) for _ in range(r.randrange(1, 2048))),                          # garbage
    lambda r: b"GET /" + b"a" * r.randrange(1, 70000) + b" HTTP/1.1\r\nHost: x\r\n\r\n",           # long URI
    lambda r: b"GET /api/healthcheck HTTP/1.1\r\n" + b"".join(b"X-%d: %s\r\n" % (i, b"v" * r.randrange(1, 512)) for i in range(r.randrange(1, 400))) + b"\r\n",
    lambda r: b"GET /api/healthcheck HTTP/1.1\r\nX: " + b"h" * r.randrange(8000, 80000) + b"\r\n\r\n",  # huge header
    lambda r: b"POST /api/tasks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{\"id\":" % r.randrange(10, 10**9),  # short body
    lambda r: b"POST /api/tasks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: -1\r\n\r\n{}",
    lambda r: (lambda b: b"POST /api/tasks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(b), b))(deep(r.randrange(100, 20000)).encode()),
    lambda r: (lambda b: b"POST /api/tasks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(b), b))(json.dumps({"id": "x" * r.randrange(1, 300000), "image_name": "\u0000\ud7ff" * 3}).encode()),
    lambda r: (lambda b: b"POST /api/tasks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(b), b))(bytes(r.randrange(256) for _ in range(r.randrange(1, 4096)))),
    lambda r: b"POST /api/tasks HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + b"%x\r\n" % r.randrange(1, 1 << 40) + b"zz\r\n",
    lambda r: b"%s /api/tasks HTTP/1.1\r\nHost: x\r\n\r\n" % r.choice([b"get", b"PUT", b"DELETE", b"BREW", b"\x00GET", b"GET\tX"]),
    lambda r: b"GET /api/tasks/%s HTTP/1.1\r\nHost: x\r\n\r\n" % r.choice([b"..%2f..%2fetc", b"%00", b"%ff%fe", b"a" * 5000, b"%"]),
    lambda r: b"GET /api/healthcheck HTTP/9.9\r\n\r\n",
    lambda r: b"GET /api/healthcheck HTTP/1.1\r\nHost: x\r\n\r\n" * r.randrange(2, 50),             # pipelined
    lambda r: (lambda b: b"POST /api/tasks/x/terminate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(b), b))(json.dumps({"timeout": r.choice([-1, 1e308, "x", None, [1] * 1000])}).encode()),
    lambda r: (lambda b: b"POST /api/components/install HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(b), b))(json.dumps({"name": "x" * r.randrange(1, 1000), "url": "file:///etc/passwd"}).encode()),
]
reqs = [FAMILIES[i % len(FAMILIES)](rnd) for i in range(hostile)]
rnd.shuffle(reqs)
peak = [0.0]; no_answer = [0]; fivexx = [0]; idx = [0]; lock = threading.Lock()
def hostile_worker():
    while True:
        with lock:
            if idx[0] >= len(reqs): return
            req = reqs[idx[0]]; idx[0] += 1
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            try:
                s.sendall(req)
            except OSError:
                pass  # the server may refuse early and close
            s.shutdown(socket.SHUT_WR)
            data = b""
            while len(data) < 16:
                chunk = s.recv(4096)
                if not chunk: break
                data += chunk
            s.close()
            if data[9:10] == b"5": fivexx[0] += 1
            elif not data: no_answer[0] += 1
        except OSError:
            no_answer[0] += 1
def sampler():
    while idx[0] < len(reqs):
        peak[0] = max(peak[0], rss_mib()); time.sleep(0.1)
t0 = time.time()
sm = threading.Thread(target=sampler); sm.start()
ws = [threading.Thread(target=hostile_worker) for _ in range(8)]
[w.start() for w in ws]; [w.join() for w in ws]; sm.join()
took = time.time() - t0
after_hostile = rss_mib(); peak[0] = max(peak[0], after_hostile)
back_s, now = None, after_hostile
t1 = time.time()
while time.time() - t1 < settle_s:
    now = rss_mib()
    if now <= idle + 8: back_s = time.time() - t1; break
    time.sleep(1)
print(f"idle={idle:.0f} after_load={after_load:.0f} load_requests={served[0]} peak={peak[0]:.0f} after_hostile={after_hostile:.0f} "
      f"back_s={'-' if back_s is None else f'{back_s:.0f}'} settled={now:.0f} hostile_s={took:.1f} fivexx={fivexx[0]} no_answer={no_answer[0]}")
PY
stop_shim
read -r idle after_load load_n peak after_h back settled hs fivexx noans < <(sed 's/[a-z_]*=//g' "$work/mem.out")
echo "shim RSS idle: $idle MiB (target ≤ 96)"
echo "shim RSS after 10 tasks and 10 s of API load ($load_n requests): $after_load MiB (target ≤ 96)"
echo "shim RSS through $HOSTILE hostile requests ($hs s): peak $peak MiB, right after $after_h MiB (target ≤ 160); back to idle+8 MiB after ${back} s (RSS then $settled MiB); answered 5xx: $fivexx, unanswered: $noans"
ok() { [ "$1" -le "$2" ] && echo yes || echo no; }
bench_row "shim RSS idle" "$idle MiB" "" "–" "≤ 96 MiB" "$(ok "$idle" 96)"
bench_row "shim RSS after 10 tasks + 10 s API load" "$after_load MiB" "" "–" "≤ 96 MiB" "$(ok "$after_load" 96)"
bench_row "shim RSS peak through $HOSTILE hostile requests" "$peak MiB" "" "–" "≤ 160 MiB" "$(ok "$peak" 160)"
bench_row "shim RSS back to idle after hostile requests" "$settled MiB after ${back} s" "" "idle $idle MiB" "≤ idle + 8 MiB" "$( [ "$back" != - ] && echo yes || echo no)"
