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

exec "$home/glibc/ld-linux-x86-64.so.2" --library-path "$home/glibc:$home/jre/lib:$home/jre/lib/server" \
  "$home/jre/bin/java" \
  -XX:+UseSerialGC -Xms8m -Xmx40m -XX:MinHeapFreeRatio=5 -XX:MaxHeapFreeRatio=20 -Xss512k -XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=24m \
  -XX:MaxMetaspaceSize=64m -XX:CICompilerCount=1 -XX:-UsePerfData -Xlog:disable -Xlog:all=error:stderr $aot \
  --enable-native-access=ALL-UNNAMED \
  -Djdk.lang.Process.launchMechanism=FORK -Ddstack.runner.home="$home" -Dsun.jnu.encoding=UTF-8 \
  -cp "@CLASSPATH@" ai.dstack.runner.Main "$@"
