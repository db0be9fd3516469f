#!/usr/bin/env bash
# Assembles the runner runtime directory that the shim mounts read-only at /opt/dstack-runner:
#   jre/    jlink-ed Java runtime with only the modules the runner needs
#   lib/    runner jar and its dependencies, plus runner.aot (AOT cache trained at the mount path)
#   glibc/  this machine's glibc and dynamic loader (images may have none), setpriv + libcap-ng
#   locale/ that glibc's C.UTF-8 locale (the JVM's codeset whatever the image's locale)
#   bin/dstack-runner  the /bin/sh launcher
# Usage: build-runtime.sh TARGET_DIR RUNTIME_DIR VERSION   (run by Maven in the package phase)
set -euo pipefail
target=$(cd "$1" && pwd) version=$3
mkdir -p "$2" && out=$(cd "$2" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
: "${JAVA_HOME:?JAVA_HOME must point at the JDK that builds the runner}"
say() { printf 'runner-runtime: %s\n' "$*" >&2; }
# java.rmi: JGit's ssh transport (Apache MINA) needs java.rmi.ServerException for ssh:// clones.
# jdk.httpserver: the com.sun.net.httpserver API that the HTTP server (robaho httpserver) implements.
modules=java.base,java.logging,java.management,java.rmi,jdk.httpserver
mount=/opt/dstack-runner

mkdir -p "$out"
# jlink only when the JDK or the module list changed (it takes a while).
stamp="$modules $(readlink -f "$JAVA_HOME")"
if [ ! -x "$out/jre/bin/java" ] || [ "$(cat "$out/jre/.stamp" 2>/dev/null)" != "$stamp" ]; then
  rm -rf "$out/jre"
  say "jlink $modules"
  "$JAVA_HOME/bin/jlink" --add-modules "$modules" --strip-debug --no-header-files --no-man-pages \
    --compress=zip-6 --output "$out/jre"
  "$out/jre/bin/java" -Xshare:dump -XX:+UseSerialGC >/dev/null 2>&1 || true
  echo "$stamp" > "$out/jre/.stamp"
fi

# Jars: the runner and its runtime dependencies.
rm -rf "$out/lib.new" && mkdir -p "$out/lib.new"
cp "$target"/runner-*.jar "$out/lib.new/runner.jar"
# runtime-classpath.txt names exactly the runtime dependencies (libs/ may hold stale jars).
tr ':' '\n' < "$target/runtime-classpath.txt" | while read -r jar || [ -n "$jar" ]; do
  if [ -n "$jar" ]; then cp "$target/libs/$(basename "$jar")" "$out/lib.new/"; fi
done
classpath="$mount/lib/runner.jar"
for j in "$out"/lib.new/*.jar; do
  n=$(basename "$j"); [ "$n" = runner.jar ] || classpath="$classpath:$mount/lib/$n"
done

# glibc, its loader and every library the JRE and setpriv link against, from this machine.
rm -rf "$out/glibc" && mkdir -p "$out/glibc"
setpriv=$(command -v setpriv || true)
[ -n "$setpriv" ] || { say "setpriv not found (Debian: util-linux)"; exit 1; }
libs=$( (ldd "$out/jre/bin/java"; ldd "$out/jre/lib/server/libjvm.so"; for so in "$out"/jre/lib/*.so; do ldd "$so"; done; ldd "$setpriv") 2>/dev/null \
  | awk '/=> \// {print $3} /^\s*\/.*ld-linux/ {print $1}' | grep -v "^$out/" | sort -u)
for lib in $libs; do cp -L "$lib" "$out/glibc/$(basename "$lib")"; done
cp -L /lib64/ld-linux-x86-64.so.2 "$out/glibc/ld-linux-x86-64.so.2"
cp -L "$setpriv" "$out/glibc/setpriv"
# The C.UTF-8 locale of that glibc: the JVM runs under it whatever the image's locale (launcher).
rm -rf "$out/locale" && mkdir -p "$out/locale"
[ -d /usr/lib/locale/C.utf8 ] || { say "/usr/lib/locale/C.utf8 not found (Debian: libc-bin)"; exit 1; }
cp -r /usr/lib/locale/C.utf8 "$out/locale/C.utf8"

# The launcher, with the classpath at the mount path (the AOT cache checks it) and the version.
mkdir -p "$out/bin"
sed -e "s|@VERSION@|$version|" -e "s|@CLASSPATH@|$classpath|" "$here/dstack-runner.sh" > "$out/bin/dstack-runner.new"
chmod 0755 "$out/bin/dstack-runner.new"

# Keep a trained cache when nothing it depends on changed.
old_sum=$(cat "$out/lib/.sum" 2>/dev/null || true)
new_sum=$(cat "$out"/lib.new/*.jar "$out/bin/dstack-runner.new" "$out/jre/.stamp" | sha256sum | cut -d' ' -f1)
if [ "$old_sum" = "$new_sum" ] && [ -f "$out/lib/runner.aot" ]; then
  cp "$out/lib/runner.aot" "$out/lib.new/runner.aot"
fi
echo "$new_sum" > "$out/lib.new/.sum"
rm -rf "$out/lib" && mv "$out/lib.new" "$out/lib"
mv "$out/bin/dstack-runner.new" "$out/bin/dstack-runner"

# AOT cache, trained in a container where the runtime sits at its real mount path. Optional:
# without Docker (or the base image) the runner simply starts without it.
if [ ! -f "$out/lib/runner.aot" ] && [ "${RUNNER_AOT:-1}" != 0 ]; then
  image=dstack-local/base:bookworm
  if docker image inspect "$image" >/dev/null 2>&1; then
    work=$(mktemp -d)
    chmod 0777 "$work"
    say "training the AOT cache in $image (at $mount)"
    if docker run --rm --label ai.dstack.agent.test=true -v "$out:$mount:ro" -v "$work:/aot" \
        -v "$here/train-aot.sh:/train-aot.sh:ro" "$image" /bin/bash /train-aot.sh >"$work/train.log" 2>&1 \
        && [ -s "$work/runner.aot" ]; then
      cp "$work/runner.aot" "$out/lib/runner.aot"
      say "AOT cache: $(du -h "$out/lib/runner.aot" | cut -f1)"
    else
      say "AOT training failed; the runner starts without a cache. Log:"
      tail -20 "$work/train.log" >&2 || true
    fi
    rm -rf "$work"
  else
    say "no Docker engine or no $image: skipping the AOT cache"
  fi
fi
say "runtime ready: $out ($(du -sh "$out" | cut -f1))"
