#!/bin/sh
# dstack-agent-selfextract component=@COMPONENT@ sha256=@SHA256@
# A single self-contained executable: this sh header plus a gzip'ed tar payload after the marker
# line. `--version` is answered here without unpacking; otherwise the payload is unpacked once
# (checksum-verified, atomically renamed into place, reused by later runs) and its launcher exec'ed.
# Needs only sh, tail, tar and gzip (present in Debian and busybox images).
set -e
component=@COMPONENT@
sha=@SHA256@
payload_line=@PAYLOAD_LINE@
for arg in "$@"; do
  case "$arg" in
    --version|-v|-version) echo "$component version ${DSTACK_REPORTED_VERSION:-@REPORTED_VERSION@}"; exit 0 ;;
    --) break ;;
  esac
done

self=$0
case "$self" in */*) ;; *) self=$(command -v -- "$self") ;; esac
case "$self" in /*) ;; *) self="$(cd "$(dirname -- "$self")" && pwd)/$(basename -- "$self")" ;; esac
name=$(basename -- "$self")

# Where to unpack: next to this file (host installs, and the shim's runner file via
# DSTACK_SELFEXTRACT_UNPACK_ONLY), or a temp dir when the runner runs inside a container.
if [ "$component" = dstack-runner ] && [ -z "${DSTACK_SELFEXTRACT_UNPACK_ONLY:-}" ]; then
  base="${TMPDIR:-/tmp}/.dstack-runner.d"
else
  base="$(dirname -- "$self")/.$name.d"
fi
dir="$base/$sha"

if [ ! -f "$dir/.complete" ]; then
  mkdir -p "$base"
  tmp="$base/.tmp-$$"
  rm -rf "$tmp"
  mkdir "$tmp"
  trap 'rm -rf "$tmp"' EXIT INT TERM
  if command -v sha256sum >/dev/null 2>&1; then
    got=$(tail -n +"$payload_line" "$self" | sha256sum)
    got=${got%% *}
    if [ "$got" != "$sha" ]; then
      echo "$name: payload checksum mismatch (file damaged or truncated): expected $sha, got $got" >&2
      exit 1
    fi
  fi
  tail -n +"$payload_line" "$self" | gzip -dc | tar -xf - -C "$tmp"
  : > "$tmp/.complete"
  # Atomic: a concurrent run that won the race keeps its copy, ours is dropped.
  [ -e "$dir" ] || mv "$tmp" "$dir" 2>/dev/null || true
  rm -rf "$tmp" "$dir/.tmp-$$"
  trap - EXIT INT TERM
  [ -f "$dir/.complete" ] || { echo "$name: could not unpack into $dir" >&2; exit 1; }
fi

if [ -n "${DSTACK_SELFEXTRACT_UNPACK_ONLY:-}" ]; then
  echo "$dir"
  exit 0
fi
export DSTACK_AGENT_LAUNCHER="$self"
exec "$dir/bin/$component" "$@"
exit 1
__DSTACK_PAYLOAD_BELOW__
