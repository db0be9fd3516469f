# Sourced (POSIX sh) by bin/dstack-shim and the distribution's launcher: how the shim's JVM starts.
#   shim_java JAVA LIBDIR JAR CACHE ARGS...   execs JAVA with LIBDIR/jvm.options, the AOT cache CACHE
#                                             when it fits, and the shim's ARGS
# The AOT cache (JDK 25, JEP 483/514) holds the classes the shim loads and links at start, so a start
# skips most of that work. It is only valid for the same JDK, class path and JVM options, so it is
# made where it is used: when CACHE is missing or was made from other files (CACHE.key), this start
# runs without it and a training run in the background (a shim on a free port with a scratch home,
# stopped once it listens) writes a new one for the next start. A cache the JVM still rejects is
# ignored silently; nothing here can stop the shim from starting.

# shim_aot_key JAVA LIBDIR JAR: what the cache was made from (sizes and times of the JVM's runtime,
# the options, the jar and its libraries)
shim_aot_key() {
  { stat -L -c '%s %Y %n' "$1" "$(dirname -- "$1")/../lib/modules" "$2/jvm.options" "$3" "$(dirname -- "$3")"/libs/* \
      2>/dev/null || true; } | cksum
}

# shim_aot_train JAVA LIBDIR JAR CACHE KEY: one training run in the background (at most one at a time)
shim_aot_train() {
  [ -w "$(dirname -- "$4")" ] || return 0
  # A lock left by a training run that died is taken over after 10 minutes.
  if ! mkdir "$4.lock" 2>/dev/null; then
    [ -n "$(find "$4.lock" -maxdepth 0 -mmin +10 2>/dev/null)" ] || return 0
    rm -rf "$4.lock"; mkdir "$4.lock" 2>/dev/null || return 0
  fi
  (
    tmp=$(mktemp -d) || exit 0
    trap 'rm -rf "$tmp" "$4.lock"' EXIT
    DSTACK_SHIM_HOME="$tmp/home" DSTACK_SHIM_HTTP_PORT=0 DSTACK_SHIM_LOG_LEVEL=info DSTACK_SERVICE_MODE=false \
      "$1" @"$2/jvm.options" -XX:AOTCacheOutput="$tmp/shim.aot" -Xlog:aot=off -Xlog:cds=off -jar "$3" >"$tmp/out" 2>&1 &
    pid=$!
    i=0
    until grep -q 'dstack-shim listening' "$tmp/home/shim.log" 2>/dev/null; do
      i=$((i + 1))
      { [ "$i" -gt 1200 ] || ! kill -0 "$pid" 2>/dev/null; } && { kill -9 "$pid" 2>/dev/null; exit 0; }
      sleep 0.1
    done
    kill -TERM "$pid"  # a graceful stop: the JVM writes the cache as it exits
    wait "$pid"
    if [ -s "$tmp/shim.aot" ]; then
      mv -f "$tmp/shim.aot" "$4.new" && mv -f "$4.new" "$4" && echo "$5" > "$4.key"
    fi
  ) </dev/null >/dev/null 2>&1 &
}

shim_java() {
  java=$1 libdir=$2 jar=$3 cache=$4
  shift 4
  key=$(shim_aot_key "$java" "$libdir" "$jar")
  if [ -f "$cache" ] && [ "$(cat "$cache.key" 2>/dev/null)" = "$key" ]; then
    exec "$java" @"$libdir/jvm.options" -XX:AOTCache="$cache" -Xlog:aot=off -Xlog:cds=off -jar "$jar" "$@"
  fi
  shim_aot_train "$java" "$libdir" "$jar" "$cache" "$key"
  exec "$java" @"$libdir/jvm.options" -jar "$jar" "$@"
}
