# Shared by the project's scripts: find a JDK, make sure packages, a Docker engine and the local
# images exist. Source it; every function says what it does and stops with advice when it cannot.

AGENT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
AGENT_JDK_MIN=25
AGENT_DOCKERD_PIDFILE=/var/run/dstack-agent-dockerd.pid
AGENT_DOCKERD_LOG=/var/log/dstack-agent-dockerd.log

say() { printf '%s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# java_major JAVA_BIN -> prints the feature version (17, 25, ...) or nothing
java_major() {
  # The JDK's release file answers without starting a JVM (a start costs 0.1-1 s on a busy host).
  local release; release="$(dirname "$1")/../release"
  if [ -r "$release" ] && grep -q '^JAVA_VERSION="[0-9]' "$release"; then
    sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$release" | head -1
    return
  fi
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p' | head -1
}

# find_jdk: exports JAVA_HOME pointing at a JDK >= 25 (JAVA_HOME if suitable, else /usr/lib/jvm/*).
find_jdk() {
  local candidates=() c v looked=()
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  for c in /usr/lib/jvm/*; do [ -d "$c" ] && candidates+=("$c"); done
  for c in "${candidates[@]}"; do
    looked+=("$c")
    [ -x "$c/bin/java" ] && [ -x "$c/bin/javac" ] && [ -x "$c/bin/jlink" ] || continue
    v=$(java_major "$c/bin/java")
    if [ -n "$v" ] && [ "${v%%.*}" -ge "$AGENT_JDK_MIN" ] 2>/dev/null; then
      export JAVA_HOME="$c"
      export PATH="$JAVA_HOME/bin:$PATH"
      return 0
    fi
  done
  die "a JDK ${AGENT_JDK_MIN} or newer (with javac and jlink) is needed; looked at: ${looked[*]:-nothing} (JAVA_HOME and /usr/lib/jvm/*). Install one, e.g. Temurin 25, or point JAVA_HOME at it."
}

is_root() { [ "$(id -u)" = 0 ]; }
is_debian_like() { [ -r /etc/os-release ] && grep -qiE '^(ID|ID_LIKE)=.*(debian|ubuntu)' /etc/os-release; }

# ensure_packages PKG... : installs the Debian packages that are missing (root, Debian/Ubuntu only).
ensure_packages() {
  local missing=() p
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  is_root && is_debian_like || die "missing packages: ${missing[*]}; install them (Debian/Ubuntu: apt-get install ${missing[*]})"
  say "installing Debian packages: ${missing[*]}"
  if [ -z "${AGENT_APT_UPDATED:-}" ]; then
    apt-get update -q >&2 || die "apt-get update failed"
    AGENT_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 \
    || die "apt-get install ${missing[*]} failed"
}

# engine_get PATH: true when the engine on the local socket answers GET PATH with 2xx (curl talks to
# the socket in a few ms, the docker CLI takes 0.1-0.3 s per call); 2 when that cannot be asked so.
engine_get() {
  local sock
  case "${DOCKER_HOST:-}" in
    "") sock=/var/run/docker.sock ;;
    unix://*) sock=${DOCKER_HOST#unix://} ;;
    *) return 2 ;;
  esac
  command -v curl >/dev/null 2>&1 || return 2
  curl -sf --max-time 10 --unix-socket "$sock" "http://docker$1" >/dev/null 2>&1
}
docker_answers() {
  local rc=0
  engine_get /_ping || rc=$?
  [ "$rc" = 2 ] || return "$rc"
  docker info >/dev/null 2>&1
}

# ensure_docker: a Docker engine answers on DOCKER_HOST (default socket). Installs Debian's
# docker.io when no engine is installed at all (root, Debian/Ubuntu), starts an installed but
# stopped one, never replaces an existing engine.
ensure_docker() {
  if ! command -v docker >/dev/null 2>&1; then
    ensure_packages docker-cli 2>/dev/null || ensure_packages docker.io
  fi
  docker_answers && return 0
  if [ -n "${DOCKER_HOST:-}" ] && [ "${DOCKER_HOST}" != "unix:///var/run/docker.sock" ]; then
    die "no Docker engine answers at DOCKER_HOST=$DOCKER_HOST; start it or unset DOCKER_HOST"
  fi
  if ! command -v dockerd >/dev/null 2>&1; then
    is_root && is_debian_like || die "no Docker engine is installed; install one (Debian/Ubuntu: apt-get install docker.io) and start it"
    say "no Docker engine installed: installing Debian's docker.io"
    ensure_packages docker.io
  fi
  docker_answers && return 0
  is_root || die "the Docker engine is installed but not running; start it (e.g. 'sudo systemctl start docker' or 'sudo dockerd &')"
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    say "starting the Docker engine (systemctl start docker)"
    systemctl start docker >&2 || true
  fi
  if ! docker_answers; then
    say "starting the Docker engine (dockerd, log in $AGENT_DOCKERD_LOG)"
    setsid dockerd --pidfile "$AGENT_DOCKERD_PIDFILE" >>"$AGENT_DOCKERD_LOG" 2>&1 < /dev/null &
  fi
  local i
  for i in $(seq 1 60); do docker_answers && return 0; sleep 1; done
  die "the Docker engine did not answer within 60 s; see $AGENT_DOCKERD_LOG"
}

# stop_project_docker: stops the engine only if these scripts started it.
stop_project_docker() {
  [ -f "$AGENT_DOCKERD_PIDFILE" ] || return 0
  local pid; pid=$(cat "$AGENT_DOCKERD_PIDFILE" 2>/dev/null)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q dockerd "/proc/$pid/cmdline" 2>/dev/null; then
    say "stopping the project's Docker engine (pid $pid)"
    kill "$pid"
    local i; for i in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
  fi
  rm -f "$AGENT_DOCKERD_PIDFILE"
}

BASE_IMAGE=dstack-local/base:bookworm
BUSYBOX_IMAGE=dstack-local/busybox:1

image_exists() {
  local rc=0
  engine_get "/images/$1/json" || rc=$?
  [ "$rc" = 2 ] || return "$rc"
  docker image inspect "$1" >/dev/null 2>&1
}

# ensure_images: builds dstack-local/base:bookworm and dstack-local/busybox:1 once (no registry here).
ensure_images() {
  local tmp
  if ! image_exists "$BASE_IMAGE"; then
    ensure_packages mmdebstrap
    tmp=$(mktemp -d)
    say "building $BASE_IMAGE (Debian bookworm rootfs via mmdebstrap, about a minute)"
    mmdebstrap --quiet --variant=minbase --include=openssh-server,ca-certificates,git,procps \
      bookworm "$tmp/rootfs.tar" >&2 || { rm -rf "$tmp"; die "mmdebstrap failed"; }
    docker import \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'CMD ["/bin/bash"]' "$tmp/rootfs.tar" "$BASE_IMAGE" >/dev/null || { rm -rf "$tmp"; die "docker import failed"; }
    rm -rf "$tmp"
  fi
  if ! image_exists "$BUSYBOX_IMAGE"; then
    ensure_packages busybox-static
    tmp=$(mktemp -d)
    say "building $BUSYBOX_IMAGE (busybox-static, no C library)"
    mkdir -p "$tmp/root/bin" "$tmp/root/sbin" "$tmp/root/usr/bin" "$tmp/root/usr/sbin" "$tmp/root/etc" \
      "$tmp/root/tmp" "$tmp/root/root" "$tmp/root/home/app"
    chmod 1777 "$tmp/root/tmp"
    cp /bin/busybox "$tmp/root/bin/busybox"
    local applet
    for applet in $("$tmp/root/bin/busybox" --list-full); do
      [ -e "$tmp/root/$applet" ] || ln -s /bin/busybox "$tmp/root/$applet"
    done
    printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$tmp/root/etc/passwd"
    printf 'root:x:0:\napp:x:1000:\nnogroup:x:65534:\n' > "$tmp/root/etc/group"
    chown 1000:1000 "$tmp/root/home/app"
    tar -C "$tmp/root" -cf - . | docker import --change 'CMD ["/bin/sh"]' - "$BUSYBOX_IMAGE" >/dev/null \
      || { rm -rf "$tmp"; die "docker import failed"; }
    rm -rf "$tmp"
  fi
}

# remove_local_images: drops the images ensure_images builds (for --from-scratch).
remove_local_images() {
  docker_answers || return 0
  local ids; ids=$(docker ps -aq --filter label=ai.dstack.agent.test=true)
  [ -n "$ids" ] && docker rm -f $ids >/dev/null 2>&1
  docker rmi -f "$BASE_IMAGE" "$BUSYBOX_IMAGE" >/dev/null 2>&1 || true
}

mvn_run() {
  command -v mvn >/dev/null 2>&1 || ensure_packages maven
  MAVEN_OPTS="${MAVEN_OPTS:-} -Xmx1g" mvn -B -ntp -f "$AGENT_ROOT/pom.xml" "$@"
}

# bench_row ROW NOW SPREAD FLOOR TARGET MET: one row of bin/bench's closing table (benchmarks only;
# a no-op when a benchmark runs on its own).
bench_row() {
  [ -n "${BENCH_ROWS:-}" ] || return 0
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >> "$BENCH_ROWS"
}

# bench_stub_runner PATH: writes a stand-in runner for benchmarks (busybox httpd answering
# /api/healthcheck on 10999), so a task's start is timed without the runner's own start.
bench_stub_runner() {
  cat > "$1" <<'STUB'
#!/bin/sh
if [ "$1" = --version ]; then echo "dstack-runner version 0.0.0-bench"; exit 0; fi
mkdir -p /tmp/www/api && echo '{"service":"dstack-runner"}' > /tmp/www/api/healthcheck
exec httpd -f -p 10999 -h /tmp/www
STUB
  chmod +x "$1"
}

# bench_prepare_shim: builds the shim if its sources changed and waits for its AOT cache to be
# trained, so that a bench times a shim with nothing left to do (`--version` answers before either).
bench_prepare_shim() {
  "$AGENT_ROOT/bin/dstack-shim" --help >/dev/null 2>&1 || true
  local i
  for i in $(seq 1 600); do
    [ -d "$AGENT_ROOT/agent-core/target/agent-core.aot.lock" ] || return 0
    sleep 0.2
  done
}

# bench_cleanup: a bench's EXIT trap: stops its shim ($shim_pid), removes the containers of its
# shim home ($work/home) and its scratch dir ($work).
bench_cleanup() {
  [ -n "${shim_pid:-}" ] && kill "$shim_pid" 2>/dev/null || true
  local ids; ids=$(docker ps -aq --filter "label=ai.dstack.shim.home=$work/home")
  [ -n "$ids" ] && docker rm -f $ids >/dev/null 2>&1 || true
  rm -rf "$work"
}
