#!/usr/bin/env bash
# Trains the runner runtime's AOT cache (RUNTIME_DIR/lib/runner.aot) when it is missing, inside
# dstack-local/base:bookworm with the runtime at /opt/dstack-runner (the cache is valid only at
# that path). Run by the build and by bin/dstack-shim (which first makes sure the engine and the
# image exist). Exit 0: a cache is there; 1: none could be trained (the runner then starts
# without one).
# Usage: train-aot-cache.sh RUNTIME_DIR
set -euo pipefail
out=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
image=dstack-local/base:bookworm
mount=/opt/dstack-runner
say() { printf 'runner-runtime: %s\n' "$*" >&2; }

[ -f "$out/lib/runner.aot" ] && exit 0
if ! docker image inspect "$image" >/dev/null 2>&1; then
  say "no Docker engine or no $image: skipping the AOT cache"
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 0777 "$work"
say "training the AOT cache in $image (at $mount)"
if docker run --rm --label ai.dstack.agent.test=true -v "$out:$mount:ro" -v "$work:/aot" \
    -v "$here/train-aot.sh:/train-aot.sh:ro" "$image" /bin/bash /train-aot.sh >"$work/train.log" 2>&1 \
    && [ -s "$work/runner.aot" ]; then
  # Atomically: a runner starting meanwhile sees either no cache or the whole one.
  cp "$work/runner.aot" "$out/lib/runner.aot.new"
  mv "$out/lib/runner.aot.new" "$out/lib/runner.aot"
  say "AOT cache: $(du -h "$out/lib/runner.aot" | cut -f1)"
else
  say "AOT training failed; the runner starts without a cache. Log:"
  tail -20 "$work/train.log" >&2 || true
  exit 1
fi
