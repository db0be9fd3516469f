#!/bin/bash
# Runs inside a container with the runtime at /opt/dstack-runner: one full job cycle with the AOT
# recorder on, then creates the cache in /aot/runner.aot.
set -u
runner=/opt/dstack-runner/bin/dstack-runner
req() { # METHOD PATH [BODY]: prints the response body (read by Content-Length)
  local body=${3:-} line len=0
  exec 3<>/dev/tcp/127.0.0.1/10999 || return 1
  printf '%s %s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s' \
    "$1" "$2" "${#body}" "$body" >&3
  while IFS= read -r line <&3; do
    line=${line%$'\r'}
    [ -z "$line" ] && break
    case "${line,,}" in content-length:*) len=${line#*:}; len=${len// /} ;; esac
  done
  [ "$len" -gt 0 ] && head -c "$len" <&3
  exec 3<&-
}
DSTACK_RUNNER_START_TIMEOUT_MS=120000 DSTACK_RUNNER_LOGS_TIMEOUT_MS=20000 \
  DSTACK_RUNNER_AOT_RECORD=/aot/runner.aot.conf $runner --log-level 4 start --temp-dir /tmp/runner --http-port 10999 &
pid=$!
for _ in $(seq 1 1200); do req GET /api/healthcheck >/dev/null 2>&1 && break; sleep 0.1; done
for _ in 1 2 3; do req GET /api/healthcheck; req GET /api/pull?timestamp=0; done
req POST /api/submit '{"run":{"id":"r","run_spec":{"run_name":"train","repo_id":"none","repo_data":{"repo_type":"virtual"}}},"job_spec":{"job_num":0,"jobs_per_replica":1,"commands":["/bin/sh","-c","echo hello; printf \"a\\rb\\n\""],"env":{"A":"1"},"repo_dir":"/workflow","repo_data":{"repo_type":"virtual"},"file_archives":[]},"job_submission":{"id":"j"},"cluster_info":{"job_ips":["127.0.0.1"],"master_job_ip":"127.0.0.1","gpus_per_job":0},"secrets":{},"log_quota_hour":1000000}'
req POST /api/run
for _ in $(seq 1 300); do
  out=$(req GET /api/pull?timestamp=0)
  case "$out" in *'"has_more":false'*) break ;; esac
  sleep 0.1
done
req POST /api/stop # the runner lingers after the final pull until stopped
wait $pid
DSTACK_RUNNER_AOT_CREATE=/aot/runner.aot $runner start
test -s /aot/runner.aot
