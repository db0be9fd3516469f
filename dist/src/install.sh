#!/bin/sh
# Installs this unpacked distribution as the systemd service dstack-shim, the way dstack's SSH
# fleets run the shim. Idempotent: run it again after unpacking a newer version.
set -eu
dist=$(cd "$(dirname -- "$0")" && pwd)
[ "$(id -u)" = 0 ] || { echo "install.sh: run as root" >&2; exit 1; }
mkdir -p /root/.dstack
ln -sfn "$dist/bin/dstack-shim" /usr/local/bin/dstack-shim
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
