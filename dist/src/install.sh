#!/bin/sh
# Installs this unpacked distribution as the systemd service dstack-shim, the way dstack's SSH
# fleets run the shim. Idempotent: run it again after unpacking a newer version.
set -eu
dist=$(cd "$(dirname -- "$0")" && pwd)
[ "$(id -u)" = 0 ] || { echo "install.sh: run as root" >&2; exit 1; }
mkdir -p /root/.dstack
ln -sfn "$dist/bin/dstack-shim" /usr/local/bin/dstack-shim
# The shim's AOT cache is trained here, for this JDK and this directory (lib/shim-java.sh): a start
# that finds none trains one in the background; this run waits for it so the service's first start
# is already fast. Without a Docker engine or on failure it is simply made later.
(export DSTACK_SHIM_PLUGINS_DIR="$dist/plugins"
 . "$dist/lib/shim-java.sh"
 key=$(shim_aot_key "$dist/jre/bin/java" "$dist/lib" "$dist/lib/agent-core.jar")
 [ "$(cat "$dist/lib/agent-core.aot.key" 2>/dev/null)" = "$key" ] || {
   shim_aot_train "$dist/jre/bin/java" "$dist/lib" "$dist/lib/agent-core.jar" "$dist/lib/agent-core.aot" "$key"
   i=0; while [ -d "$dist/lib/agent-core.aot.lock" ] && [ "$i" -lt 1800 ]; do sleep 0.1; i=$((i + 1)); done
 }) || true
# The operator's (or the dstack server's) settings are never overwritten.
[ -f /root/.dstack/shim.env ] || install -m 0600 "$dist/systemd/shim.env" /root/.dstack/shim.env
install -m 0644 "$dist/systemd/dstack-shim.service" /etc/systemd/system/dstack-shim.service
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  systemctl enable dstack-shim.service
  systemctl restart dstack-shim.service
  echo "dstack-shim.service installed and started; logs: journalctl -u dstack-shim"
else
  echo "dstack-shim.service installed; systemd is not running here: start /usr/local/bin/dstack-shim yourself"
fi
