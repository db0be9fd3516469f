#!/usr/bin/env bash
# Builds the distribution (called by Maven in the dist module's package phase):
#   target/dstack-shim-<version>-linux-x86_64.tar.gz  launcher, own Java runtime, core, plugins, runner
#   target/dstack-shim-linux-amd64                    the same as one self-extracting executable
#   target/dstack-runner-linux-amd64                  the runner runtime as one self-extracting executable
set -euo pipefail
root=$1 version=$2 reported=$3 out=$4
: "${JAVA_HOME:?JAVA_HOME must point at the JDK 25 the build uses}"
src="$root/dist/src"
name="dstack-shim-$version"
stage="$out/stage/$name"
runner_runtime="$root/runner/target/runtime"

rm -rf "$stage"
mkdir -p "$stage/bin" "$stage/lib" "$stage/plugins" "$stage/systemd"
sed "s/@REPORTED_VERSION@/$reported/g" "$src/launcher/dstack-shim" > "$stage/bin/dstack-shim"
chmod 0755 "$stage/bin/dstack-shim"
cp "$root/agent-core/target/agent-core.jar" "$stage/lib/"
cp -r "$root/agent-core/target/libs" "$stage/lib/libs"
cp "$root/agent-core/src/main/launcher/jvm.options" "$root/agent-core/src/main/launcher/shim-java.sh" "$stage/lib/"
cp "$root"/plugins/target/plugins/*.zip "$stage/plugins/"
cp "$src"/systemd/* "$stage/systemd/"
cp "$src/install.sh" "$stage/install.sh"
if [ -x "$runner_runtime/bin/dstack-runner" ]; then
  cp -a "$runner_runtime" "$stage/runner-runtime"
else
  echo "build-dist: warning: no runner runtime at $runner_runtime; the distribution has no bundled runner" >&2
fi

# The core's own runtime: only the modules the agent needs (no JDK on the host).
jre_cache="$out/jre-core"
modules=java.base,java.logging,java.management,java.naming,java.net.http,java.sql,java.xml,jdk.unsupported,jdk.zipfs,jdk.crypto.ec,jdk.management
if [ ! -x "$jre_cache/bin/java" ] || [ "$(cat "$jre_cache/.modules" 2>/dev/null)" != "$modules@$JAVA_HOME" ]; then
  rm -rf "$jre_cache"
  "$JAVA_HOME/bin/jlink" --add-modules "$modules" --strip-debug --no-header-files --no-man-pages \
    --compress=zip-6 --output "$jre_cache"
  echo "$modules@$JAVA_HOME" > "$jre_cache/.modules"
fi
cp -a "$jre_cache" "$stage/jre"
rm -f "$stage/jre/.modules"

tar -C "$out/stage" -czf "$out/$name-linux-x86_64.tar.gz" "$name"

# selfextract COMPONENT PAYLOAD_DIR OUTPUT
selfextract() {
  local component=$1 payload_dir=$2 output=$3 payload sha header lines
  payload=$(mktemp)
  tar -C "$payload_dir" -czf "$payload" .
  sha=$(sha256sum "$payload" | cut -d' ' -f1)
  header=$(mktemp)
  sed -e "s/@COMPONENT@/$component/g" -e "s/@SHA256@/$sha/g" -e "s/@REPORTED_VERSION@/$reported/g" \
    "$src/selfextract-header.sh" > "$header"
  lines=$(wc -l < "$header")
  sed -i "s/@PAYLOAD_LINE@/$((lines + 1))/" "$header"
  cat "$header" "$payload" > "$output.tmp"
  chmod 0755 "$output.tmp"
  mv "$output.tmp" "$output"
  rm -f "$payload" "$header"
}
selfextract dstack-shim "$stage" "$out/dstack-shim-linux-amd64"
if [ -d "$stage/runner-runtime" ]; then
  selfextract dstack-runner "$stage/runner-runtime" "$out/dstack-runner-linux-amd64"
fi
echo "build-dist: $(cd "$out" && ls -1sh "$name-linux-x86_64.tar.gz" dstack-*-linux-amd64 | tr '\n' ' ')" >&2
