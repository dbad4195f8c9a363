#!/usr/bin/env bash
# The keepalived.conf samples the importer is tested with are real keepalived
# configs: Debian's keepalived (`keepalived -t`) accepts them. keepalived
# checks that the interfaces exist, so the check runs in a scratch network
# namespace holding eth0 and eth1 (a veth pair). Needs root.
set -euo pipefail
DATA=${1:?usage: keepalived_accepts.sh DATADIR}
command -v keepalived > /dev/null || { echo "FAIL: keepalived is not installed (scripts/bootstrap)" >&2; exit 1; }
NS=lvsd-ka-t-$$
trap 'ip netns del "$NS" 2>/dev/null || true' EXIT
ip netns add "$NS"
ip -n "$NS" link add eth0 type veth peer name eth1
ip -n "$NS" link set eth0 up
ip -n "$NS" link set eth1 up
for f in dr-master.conf dr-backup.conf; do
  if ! out=$(ip netns exec "$NS" keepalived -t -f "$DATA/$f" --log-console 2>&1); then
    echo "FAIL: keepalived -t rejects $f:" >&2
    echo "$out" >&2
    exit 1
  fi
done
# And it does reject a broken one, so the check above means something.
printf 'vrrp_instance X {\n  interface eth0\n}\n' > "/tmp/$NS.conf"
if ip netns exec "$NS" keepalived -t -f "/tmp/$NS.conf" > /dev/null 2>&1; then
  rm -f "/tmp/$NS.conf"
  echo "FAIL: keepalived -t accepted an instance without virtual_router_id" >&2
  exit 1
fi
rm -f "/tmp/$NS.conf"
echo "PASS keepalived -t accepts the importer's samples"
