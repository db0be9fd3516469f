#!/usr/bin/env python3
"""Where a job's terminal output loses time: one runner, one job printing MIB MiB of 128-byte
lines (perl, one write per line), pulled while it runs; prints the job's own time and, per
runner thread and for perl, CPU ms and voluntary / involuntary context switches.

  bench/runner-alone.py MODE MIB      MODE: host | hostcg | container
    host       the runner on the host (needs /opt/dstack-runner -> runner/target/runtime, root)
    hostcg     the same, its threads moved into a fresh cgroup v1 cpu,cpuacct group "exp"
    container  the runner in dstack-local/base:bookworm, host network (EXTRA: more `docker run` flags)
  env: EVERY=S pull every S seconds (default: back to back); NOPULL=S first pull after S seconds;
       RENICE=N|batch the pty pump thread; NICE_SERVE=N the serving threads; PERF=1 record
       sched_switch/sched_wakeup for 0.3 s once perl runs (perf script -i /tmp/ss.data)
Investigation tool of bench/runner-notes.md ("what the container adds"); not run by bin/bench.
"""
import base64, json, os, subprocess, sys, time, urllib.request, glob, shutil, socket
RUNTIME = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'runner', 'target', 'runtime')
mode, mib = sys.argv[1], int(sys.argv[2])
lines = mib * 1024 * 1024 // 128
WRITE_GEN = "printf '%s\\n' 'printf(qq(%09d%s\\n), $_, q(x) x 118) for 1..shift' > /tmp/gen.pl; "
def freeport():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p
port = freeport()
tmp = f"/tmp/runner-alone-{os.getpid()}"
os.makedirs(tmp, exist_ok=True)
cmd = ["/opt/dstack-runner/bin/dstack-runner", "--log-level", "warn", "start", "--temp-dir", tmp + "/runner",
       "--http-port", str(port), "--ssh-port", str(freeport())]
cname = None
if mode.startswith("container"):
    cname = f"exp-{os.getpid()}"
    extra = os.environ.get("EXTRA", "").split()
    proc = subprocess.Popen(["docker", "run", "--rm", "--name", cname, "--network", "host", *extra, "-v",
                             RUNTIME + ":/opt/dstack-runner:ro", "dstack-local/base:bookworm", *cmd],
                            stdout=subprocess.DEVNULL, stderr=open(tmp + "/err", "w"))
else:
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(tmp + "/err", "w"))
base = f"http://127.0.0.1:{port}"
def http(method, url, body=None):
    req = urllib.request.Request(url, data=body, method=method)
    if body is not None: req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=60) as r: return r.read()
t0 = time.time()
while True:
    try: http("GET", base + "/api/healthcheck"); break
    except OSError:
        if time.time() - t0 > 30: print(open(tmp + "/err").read()); raise
        time.sleep(0.05)
# the runner JVM pid (host view)
pid = None
for p in filter(str.isdigit, os.listdir("/proc")):
    try:
        c = open(f"/proc/{p}/cmdline", "rb").read()
        if c.startswith(b"/opt/dstack-runner/glibc/ld-linux") and str(port).encode() in c: pid = p
    except OSError: pass
if mode.endswith("cg"):
    for ctl in ("cpu", "cpuacct"):
        d = f"/sys/fs/cgroup/{ctl}/exp"
        os.makedirs(d, exist_ok=True)
        for t in os.listdir(f"/proc/{pid}/task"):
            open(f"{d}/tasks", "w").write(t)
script = f"{WRITE_GEN}s=$(date +%s%N); perl /tmp/gen.pl {lines}; e=$(date +%s%N); echo BENCH_MS $(( (e - s) / 1000000 ))"
repo = {"repo_type": "virtual"}
body = {"run": {"id": "0b9f3c52-6d0e-4c1e-9a57-3f1f2b7d9e01", "run_spec": {"run_name": "x", "repo_id": "none", "repo_data": repo, "configuration": {"type": "task", "image": "i"}}},
 "job_spec": {"job_num": 0, "jobs_per_replica": 1, "user": None, "commands": ["/bin/sh", "-c", script], "env": {}, "max_duration": None, "working_dir": None, "repo_dir": tmp + "/wf", "repo_data": repo, "repo_exists_action": None, "file_archives": []},
 "job_submission": {"id": "6a2d8e14-0c55-4b7a-8f0e-2d41c9b5a7f3"},
 "cluster_info": {"job_ips": ["10.0.0.5"], "master_job_ip": "10.0.0.5", "gpus_per_job": 0, "gpus_per_node": [0]},
 "secrets": {}, "repo_credentials": None, "log_quota_hour": 0}
http("POST", base + "/api/submit", json.dumps(body).encode())
seen = {}
def sample():
    for t in os.listdir(f"/proc/{pid}/task"):
        try:
            st = open(f"/proc/{pid}/task/{t}/stat").read().rsplit(")", 1)
            name = st[0].split("(", 1)[1]; f = st[1].split()
            c = (int(f[11]) + int(f[12])) * 10
            s = dict(l.split(":\t") for l in open(f"/proc/{pid}/task/{t}/status").read().splitlines() if ":\t" in l)
            v, n = int(s["voluntary_ctxt_switches"]), int(s["nonvoluntary_ctxt_switches"])
        except OSError: continue
        if t not in seen and os.environ.get("NICE_SERVE") and (name.startswith("ForkJoin") or name in ("MasterPoller", "HTTP-Dispatcher") or name.startswith("front")):
            os.setpriority(os.PRIO_PROCESS, int(t), int(os.environ["NICE_SERVE"]))
        if name == "job-output" and t not in seen and os.environ.get("RENICE"):
            if os.environ["RENICE"] == "batch":
                os.sched_setscheduler(int(t), os.SCHED_BATCH, os.sched_param(0))
            else:
                os.setpriority(os.PRIO_PROCESS, int(t), int(os.environ["RENICE"]))
        seen[t] = (name if not name.startswith("ForkJoin") else "carriers", c, v, n)
perl = {}
def sample_perl():
    for p in filter(str.isdigit, os.listdir("/proc")):
        if p in perl or not perl:
            try:
                if open(f"/proc/{p}/cmdline", "rb").read().startswith(b"perl\0/tmp/gen.pl"):
                    st = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
                    s = dict(l.split(":\t") for l in open(f"/proc/{p}/status").read().splitlines() if ":\t" in l)
                    if not perl and os.environ.get("PERF"):
                        subprocess.Popen(["perf", "record", "-e", "sched:sched_switch", "-e", "sched:sched_wakeup", "-a", "-o", "/tmp/ss.data", "--", "sleep", "0.3"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    perl[p] = ((int(st[11]) + int(st[12])) * 10, int(st[11]) * 10, int(s["voluntary_ctxt_switches"]), int(s["nonvoluntary_ctxt_switches"]))
            except OSError: pass
def stats():
    sample(); per = {}
    for key, c, v, n in seen.values():
        a = per.setdefault(key, [0, 0, 0]); a[0] += c; a[1] += v; a[2] += n
    return per
import threading
stop = False
def sampler():
    while not stop:
        try: sample(); sample_perl()
        except OSError: pass
        time.sleep(0.02)
s0 = stats()
threading.Thread(target=sampler, daemon=True).start()
http("POST", base + "/api/run", b"")
if os.environ.get("NOPULL"): time.sleep(float(os.environ["NOPULL"]))
ts, buf, pulls, s1 = 0, bytearray(), 0, None
while True:
    page = json.loads(http("GET", f"{base}/api/pull?timestamp={ts}")); pulls += 1
    ts = page["last_updated"]
    for e in page["job_logs"]: buf += base64.b64decode(e["message"])
    if page["job_states"] and page["job_states"][-1]["state"] in ("done", "failed", "terminated"):
        s1 = stats(); stop = True; break
    if os.environ.get("EVERY"): time.sleep(float(os.environ["EVERY"]))
    elif not page["job_logs"]: time.sleep(0.25)
job_ms = [l for l in buf.decode().split("\n") if l.startswith("BENCH_MS")]
got = sum(1 for l in buf.split(b"\n") if len(l) == 127)
d = {k: [a - b for a, b in zip(v, s0.get(k, [0, 0, 0]))] for k, v in s1.items()}
tot = [sum(x[i] for x in d.values()) for i in range(3)]
print("perl cpu/user/vol/inv", list(perl.values()))
print(mode, mib, job_ms, "lines", got == lines, "pulls", pulls, "cpu/vol/inv total", tot,
      {k: v for k, v in d.items() if v[0] or v[1] > 100})
if cname: subprocess.run(["docker", "rm", "-f", cname], capture_output=True)
else: proc.kill()
proc.wait(); shutil.rmtree(tmp, ignore_errors=True)
