#!/bin/sh
# dstack-runner launcher (Java runner). Needs nothing from the image but /bin/sh: the runtime
# directory (jlink-ed JRE, jars, glibc and its loader) is found next to this script or at
# /opt/dstack-runner, where the shim mounts it read-only. The JVM is started through the bundled
# dynamic loader, so images without glibc work, and LD_LIBRARY_PATH is never set for jobs.
VERSION="${DSTACK_REPORTED_VERSION:-@VERSION@}"

# --version is answered by the shell (also on the host, where the shim checks the component).
skip=0
for arg in "$@"; do
  if [ "$skip" = 1 ]; then skip=0; continue; fi
  case "$arg" in
    --version|-v) echo "dstack-runner version $VERSION"; exit 0 ;;
    --temp-dir|--http-address|--http-port|--ssh-port|--ssh-authorized-key|--ssh-log-level|--home-dir|--log-level) skip=1 ;;
  esac
done

self="$0"
case "$self" in */*) ;; *) self=$(command -v -- "$0") ;; esac
home=$(cd "$(dirname "$self")/.." 2>/dev/null && pwd)
[ -x "$home/jre/bin/java" ] || home=/opt/dstack-runner
if [ ! -x "$home/jre/bin/java" ]; then
  echo "dstack-runner: runtime not found next to $self nor at /opt/dstack-runner" >&2
  exit 1
fi

# AOT cache: trained at /opt/dstack-runner by the build; a cache that does not fit is ignored.
aot="-XX:AOTCache=$home/lib/runner.aot"
if [ -n "${DSTACK_RUNNER_AOT_RECORD:-}" ]; then
  aot="-XX:AOTMode=record -XX:AOTConfiguration=$DSTACK_RUNNER_AOT_RECORD"
  unset DSTACK_RUNNER_AOT_RECORD
elif [ -n "${DSTACK_RUNNER_AOT_CREATE:-}" ]; then
  aot="-XX:AOTMode=create -XX:AOTConfiguration=$DSTACK_RUNNER_AOT_CREATE.conf -XX:AOTCache=$DSTACK_RUNNER_AOT_CREATE"
  unset DSTACK_RUNNER_AOT_CREATE
elif [ ! -f "$home/lib/runner.aot" ]; then
  aot=""
fi

# Bytes, not the image's locale: the JVM decodes file names, environment values and arguments with
# the locale's codeset, ASCII in images without LANG. It runs under the bundled C.UTF-8 locale; the
# image's own LC_ALL/LOCPATH are handed back to every process the runner starts (ImageEnvironment).
image_lc_all=unset; [ -n "${LC_ALL+x}" ] && image_lc_all="=$LC_ALL"
image_locpath=unset; [ -n "${LOCPATH+x}" ] && image_locpath="=$LOCPATH"
if [ -d "$home/locale/C.utf8" ]; then
  export LC_ALL=C.UTF-8 LOCPATH="$home/locale"
fi
# RDMA jobs need locked memory: unlimited where the container has CAP_SYS_RESOURCE (as Go's runner).
ulimit -l unlimited 2>/dev/null || true

# -XX:-MaxFDLimit: the JVM would raise its RLIMIT_NOFILE soft limit to the hard one, and every
# process the runner starts (job, sshd) would inherit that instead of the container's limit.
exec "$home/glibc/ld-linux-x86-64.so.2" --library-path "$home/glibc:$home/jre/lib:$home/jre/lib/server" \
  "$home/jre/bin/java" \
  -XX:+UseSerialGC -Xms8m -Xmx40m -XX:MinHeapFreeRatio=5 -XX:MaxHeapFreeRatio=20 -Xss512k -XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=24m \
  -XX:MaxMetaspaceSize=64m -XX:CICompilerCount=1 -XX:-UsePerfData -XX:-MaxFDLimit -Xlog:disable -Xlog:all=error:stderr $aot \
  --enable-native-access=ALL-UNNAMED \
  -Djdk.lang.Process.launchMechanism=FORK -Ddstack.runner.home="$home" \
  -Ddstack.runner.image.LC_ALL="$image_lc_all" -Ddstack.runner.image.LOCPATH="$image_locpath" \
  -cp "@CLASSPATH@" ai.dstack.runner.Main "$@"
