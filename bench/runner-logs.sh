#!/usr/bin/env bash
# Job output throughput and log footprint, through the shim in a real container (base image).
# The job prints SIZES MiB (default "16 64") of numbered 128-byte lines to its terminal (perl,
# line-buffered like a training loop's print) and times itself; the floor is the same command
# through a bare pty to /dev/null (`script -qc CMD /dev/null >/dev/null`) in the same image.
# Logs are pulled as the server does (timestamp = previous last_updated, until the terminal
# state) while the job runs, at the server's cadence: one pull per visit to a running job, every
# PULL_EVERY s (default 2: the server's background task runs every 4 ± 2 s). A second series pulls
# back to back (the next pull as soon as one brought logs): a harsher puller than the server, on the
# same 2 CPUs as the job. Every numbered line must come back once and in order. Also the CPU
# the runner spent (host /proc) beside what `script` spent reading the bare pty. Disk: bytes the
# runner keeps (job.log + history/) per byte of job output. Medians (min–max) of RUNS (3).
set -euo pipefail
source "$(dirname "$0")/../bin/lib/common.sh"
find_jdk
runs=${RUNS:-3}
pull_every=${PULL_EVERY:-2}
sizes=${SIZES:-16 64}
runtime="$AGENT_ROOT/runner/target/runtime"
if [ ! -x "$runtime/bin/dstack-runner" ]; then
  say "building the runner runtime (mvn package)"
  mvn_run -q -pl runner -am package -DskipTests >&2
fi
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
trap bench_cleanup EXIT

bench_prepare_shim
DSTACK_SHIM_HOME="$work/home" DSTACK_SHIM_HTTP_PORT=$port DSTACK_SHIM_LOG_LEVEL=warn \
  "$AGENT_ROOT/bin/dstack-shim" >"$work/shim.log" 2>&1 &
shim_pid=$!
until curl -sf "http://127.0.0.1:$port/api/healthcheck" >/dev/null 2>&1; do sleep 0.05; done

python3 - "$port" "$work/home" "$BASE_IMAGE" "$runs" "$pull_every" $sizes <<'PY'
import base64, json, os, re, statistics, subprocess, sys, threading, time, urllib.request

shim_port, home, image, runs = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
pull_every = float(sys.argv[5])
sizes = [int(s) for s in sys.argv[6:]]
LINE = 128
# 9 digits + 118 x + "\n" = 128 bytes; perl line-buffers a terminal: one write per line
WRITE_GEN = "printf '%s\\n' 'printf(qq(%09d%s\\n), $_, q(x) x 118) for 1..shift' > /tmp/gen.pl; "
GEN = "perl /tmp/gen.pl "

def http(method, url, body=None, ctype="application/json", timeout=60):
    req = urllib.request.Request(url, data=body, method=method)
    if body is not None:
        req.add_header("Content-Type", ctype)
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, r.read()

def shim(method, path, doc=None):
    return http(method, f"http://127.0.0.1:{shim_port}{path}", None if doc is None else json.dumps(doc).encode())

def secs(t):  # "1m2.345s" as printed by the shell's `times`
    m, rest = t.rstrip("s").split("m")
    return int(m) * 60 + float(rest)

def floor_ms(lines):
    """Wall ms of the job through a bare pty, and the CPU ms of `script` itself (its children's
    CPU, perl's included, minus what the inner shell reports for itself and perl)."""
    cmd = (f"{WRITE_GEN}s=$(date +%s%N); script -qc '{GEN}{lines}; times > /tmp/inner' /dev/null >/dev/null; "
           f"e=$(date +%s%N); echo $(( (e - s) / 1000000 )); times; cat /tmp/inner")
    out = subprocess.run(["docker", "run", "--rm", "--label", "ai.dstack.agent.test=true", image, "sh", "-c", cmd],
                         check=True, capture_output=True, text=True).stdout.split("\n")
    cpu = lambda line: sum(secs(t) for t in line.split())
    return int(out[0]), 1000 * (cpu(out[2]) - cpu(out[3]) - cpu(out[4]))

class RunnerCpu(threading.Thread):
    """Samples the runner JVM's user+system CPU (host /proc) until stopped; the runner exits
    after the final pull, so the last sample counts."""
    def __init__(self, container):
        super().__init__(daemon=True)
        cid = subprocess.run(["docker", "inspect", "-f", "{{.Id}}", container], check=True, capture_output=True,
                             text=True).stdout.strip()
        self.pid = None
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if not f.read().startswith(b"/opt/dstack-runner/glibc/ld-linux"):
                        continue
                with open(f"/proc/{pid}/cgroup") as f:
                    if cid in f.read():
                        self.pid = pid
            except OSError:
                pass
        self.first = self.last = self.sample()
        self.stopped = False

    def sample(self):
        try:
            with open(f"/proc/{self.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")
        except (OSError, TypeError):
            return None

    def run(self):
        while not self.stopped:
            value = self.sample()
            if value is not None:
                self.last = value
            time.sleep(0.05)

    def ms(self):
        self.stopped = True
        self.join()
        return self.last - self.first

def submit_body(script):
    repo = {"repo_type": "virtual"}
    return {"run": {"id": "0b9f3c52-6d0e-4c1e-9a57-3f1f2b7d9e01",
                    "run_spec": {"run_name": "bench-logs", "repo_id": "none", "repo_data": repo,
                                 "configuration": {"type": "task", "image": image}}},
            "job_spec": {"job_num": 0, "jobs_per_replica": 1, "user": None, "commands": ["/bin/sh", "-c", script],
                         "env": {}, "max_duration": None, "working_dir": None, "repo_dir": "/workflow",
                         "repo_data": repo, "repo_exists_action": None, "file_archives": []},
            "job_submission": {"id": "6a2d8e14-0c55-4b7a-8f0e-2d41c9b5a7f3"},
            "cluster_info": {"job_ips": ["10.0.0.5"], "master_job_ip": "10.0.0.5", "gpus_per_job": 0,
                             "gpus_per_node": [0]},
            "secrets": {}, "repo_credentials": None, "log_quota_hour": 0}

def job_run(lines, n, every):
    """every: seconds between pulls (the server's cadence), or None for back-to-back pulls."""
    task_id = f"bench-logs-{os.getpid()}-{n}"
    shim("POST", "/api/tasks", {"id": task_id, "name": task_id, "image_name": image, "network_mode": "bridge"})
    deadline = time.time() + 120
    while True:
        task = json.loads(shim("GET", f"/api/tasks/{task_id}")[1])
        if task["status"] == "running":
            break
        if task["status"] == "terminated" or time.time() > deadline:
            raise SystemExit(f"task did not start: {task}")
        time.sleep(0.05)
    rport = next(p["host"] for p in task["ports"] if p["container"] == 10999)
    base = f"http://127.0.0.1:{rport}"
    while True:
        try:
            http("GET", base + "/api/healthcheck", timeout=2)
            break
        except OSError:
            time.sleep(0.05)
    script = f"{WRITE_GEN}s=$(date +%s%N); {GEN}{lines}; e=$(date +%s%N); echo BENCH_MS $(( (e - s) / 1000000 ))"
    http("POST", base + "/api/submit", json.dumps(submit_body(script)).encode())
    cpu = RunnerCpu(task["container_name"])
    cpu.start()
    http("POST", base + "/api/run", b"")
    # the server's pull loop: timestamp = previous last_updated, stop at the terminal state
    ts, buf, states, pulls = 0, bytearray(), [], 0
    while True:
        page = json.loads(http("GET", f"{base}/api/pull?timestamp={ts}")[1])
        pulls += 1
        if page["last_updated"] < ts:
            raise SystemExit("last_updated went back")
        ts = page["last_updated"]
        for e in page["job_logs"]:
            buf += base64.b64decode(e["message"])
        states += [s["state"] for s in page["job_states"]]
        if page["job_states"] and page["job_states"][-1]["state"] in ("done", "failed", "terminated"):
            break
        if every is not None:
            time.sleep(every)
        elif not page["job_logs"]:
            time.sleep(0.25)
    expect, job_ms, bad = 1, None, 0
    for line in buf.decode("utf-8", "replace").split("\n"):
        if len(line) == LINE - 1 and line[:9].isdigit():
            if int(line[:9]) != expect:
                bad += 1
            expect = int(line[:9]) + 1
        elif line.startswith("BENCH_MS "):
            job_ms = int(line.split()[1])
    got = expect - 1
    runner_cpu = cpu.ms()
    runner_dir = os.path.join(home, "runners", task["container_name"])
    kept = 0
    for root, _, files in os.walk(runner_dir):
        for f in files:
            if f == "job.log" or os.path.basename(root) == "history":
                kept += os.path.getsize(os.path.join(root, f))
    shim("POST", f"/api/tasks/{task_id}/terminate", {"timeout": 0})
    shim("POST", f"/api/tasks/{task_id}/remove")
    if states[-1] != "done" or job_ms is None or bad or got != lines:
        raise SystemExit(f"lines back {got}/{lines}, {bad} out of order, states {states}, job_ms {job_ms}")
    return job_ms, kept / (lines * LINE), runner_cpu

def fmt(xs, unit="", digits=0):
    f = lambda x: f"{x:.{digits}f}"
    return f"{f(statistics.median(xs))}{unit} ({f(min(xs))}–{f(max(xs))})"

for mib in sizes:
    lines = mib * 1024 * 1024 // LINE
    floors, floor_cpus = [], []
    series = {"paced": ([], [], []), "back-to-back": ([], [], [])}  # job ms, disk ratio, runner CPU
    for n in range(runs):
        wall, script_cpu = floor_ms(lines)
        floors.append(wall)
        floor_cpus.append(script_cpu)
        for name, every in (("paced", pull_every), ("back-to-back", None)):
            ms, disk, runner_cpu = job_run(lines, f"{mib}-{name}-{n}", every)
            for xs, x in zip(series[name], (ms, disk, runner_cpu)):
                xs.append(x)
    for name, (jobs, disks, cpus) in series.items():
        ratios = [j / f for j, f in zip(jobs, floors)]
        how = (f"one pull every {pull_every:g} s, the server's cadence" if name == "paced"
               else "back-to-back pulls, harsher than the server")
        print(f"job output {mib:>3} MiB of 128-byte lines ({how}): job {fmt(jobs, ' ms')} | floor (script -qc … /dev/null) "
              f"{fmt(floors, ' ms')} | ratio {fmt(ratios, '×', 2)}{' (target ≤ 1.5×)' if name == 'paced' else ''} | "
              f"{lines} lines back in order, 0 lost")
        print(f"  CPU for the same bytes: runner (pty read, job.log, job logs, serving the pulls) {fmt(cpus, ' ms')} | "
              f"floor: script reading the bare pty {fmt(floor_cpus, ' ms')} (the wall ratio above is the target; "
              f"CPU is what a loaded machine cannot hide)")
    print(f"runner disk per byte of job output ({mib} MiB, job.log + history/): {fmt(series['paced'][1], '', 2)} (target ≤ 1.5)")
    sys.stdout.flush()
PY
