#!/usr/bin/env bash
# Capabilities after start, and the election's metric families (root: label
# netns). lvsd runs with --dry-run in a private network namespace with one
# running director (its peer is silent), one instance and its VIP on a veth:
#  - once started, every thread holds exactly CAP_NET_ADMIN and CAP_NET_RAW
#    (CapEff = CapPrm = CapBnd = 0x3000, CapInh = CapAmb = 0) and
#    no_new_privs is set; the log names what was kept and why;
#  - an exec check started after the drop runs with the same set;
#  - a reload still works; one that moves metrics to a port below 1024 fails
#    (no CAP_NET_BIND_SERVICE) and the old endpoint keeps serving;
#  - control: heartbeat.realtime_priority keeps CAP_SYS_NICE, a metrics port
#    below 1024 keeps CAP_NET_BIND_SERVICE (0x803400);
#  - the instance, transition and heartbeat families carry samples;
#  - under a unit-like bounding set (no cap_setpcap), effective and permitted
#    are still reduced and the log says the bounding set stayed.
set -euo pipefail
BIN=${1:?usage: lvsd_caps.sh BINDIR}
[ "$(id -u)" = 0 ] || { echo "FAIL: needs root (network namespace, capabilities)" >&2; exit 1; }
T=$(mktemp -d)
chmod 755 "$T"
NS=lvsdcaps$$
PID=
trap '[ -n "$PID" ] && kill -9 $PID 2>/dev/null; ip netns del $NS 2>/dev/null; rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; echo "--- lvsd log:" >&2; cat "$T/log" >&2 || true; exit 1; }
in_ns() { ip netns exec "$NS" "$@"; }
scrape() { in_ns curl -sS --max-time 5 "http://127.0.0.1:$1/metrics"; }

ip netns add "$NS"
in_ns ip link set lo up
in_ns ip link add v0 type veth peer name v1
in_ns ip link set v0 up
in_ns ip link set v1 up
in_ns ip addr add 10.77.0.1/24 dev v0

conf() {  # conf METRICS_PORT [HEARTBEAT_EXTRA]
  cat > "$T/lvsd.conf" <<CONF
director { name: "dir1" priority: 150 address { link: "lan" address: "10.77.0.1" } }
director { name: "dir2" priority: 100 address { link: "lan" address: "10.77.0.3" } }
heartbeat {
  interval_ms: 100
  link { name: "lan" interface: "v0" }
  key { id: 1 secret_hex: "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff" }
  ${2:-}
}
instance { name: "VI_1" vrid: 51 vip_group: "g" }
vip_group { name: "g" vip { address: "10.77.0.100/32" interface: "v0" } }
check {
  name: "caps"
  exec { argv: "/bin/sh" argv: "-c" argv: "grep -E '^(Cap|NoNewPrivs)' /proc/self/status > $T/check-caps.tmp; mv $T/check-caps.tmp $T/check-caps" }
  interval_ms: 300
  timeout_ms: 250
}
virtual_service {
  name: "web"
  address: "10.77.0.100:80"
  scheduler: "rr"
  forwarding: DR
  real_server { address: "10.77.0.2:80" }
  check: "caps"
  instance: "VI_1"
}
control { socket: "$T/lvsd.sock" }
metrics { listen: "127.0.0.1:$1" }
CONF
}
start() {  # start [WRAPPER...]: e.g. setpriv options that exec lvsd
  rm -f "$T/lvsd.sock"
  # `ip netns exec` (and setpriv) exec lvsd: $! is lvsd's pid.
  ip netns exec "$NS" "$@" "$BIN/lvsd" -f "$T/lvsd.conf" --foreground --dry-run -n dir1 2> "$T/log" &
  PID=$!
  for _ in $(seq 100); do grep -q 'capabilities: kept' "$T/log" 2>/dev/null && break; sleep 0.1; done
  grep -q 'capabilities: kept' "$T/log" || fail "lvsd did not log its capabilities"
}
stop() {
  kill -TERM $PID
  rc=0; wait $PID || rc=$?
  PID=
  [ $rc -eq 0 ] || fail "SIGTERM exit status $rc"
}
field() { awk -v k="$2:" '$1 == k { print $2 }' "$1"; }
expect_threads() {  # expect_threads MASK: every thread of $PID
  local n=0
  for st in /proc/$PID/task/*/status; do
    [ -e "$st" ] || continue
    n=$((n + 1))
    for k in CapEff CapPrm CapBnd; do
      [ "$(field "$st" $k)" = "$1" ] || fail "$st: $k $(field "$st" $k), want $1"
    done
    for k in CapInh CapAmb; do
      [ "$(field "$st" $k)" = 0000000000000000 ] || fail "$st: $k $(field "$st" $k), want 0"
    done
    [ "$(field "$st" NoNewPrivs)" = 1 ] || fail "$st: NoNewPrivs not set"
  done
  [ $n -ge 3 ] || fail "only $n thread(s) checked: lvsd runs more (loop, heartbeat, VIP, IPVS workers)"
  echo "ok: $n threads hold $1"
}

conf 9465
start
expect_threads 0000000000003000
grep -q 'capabilities: kept cap_net_admin,cap_net_raw in [0-9]* thread(s); dropped .*cap_sys_admin' "$T/log" ||
  fail "log does not say what was kept and dropped"
grep -q 'capabilities: keeping cap_net_raw: ' "$T/log" || fail "log does not say why cap_net_raw is kept"

# An exec check that ran after the drop (it runs every 300 ms).
sleep 0.3; rm -f "$T/check-caps"
for _ in $(seq 50); do [ -s "$T/check-caps" ] && break; sleep 0.1; done
[ -s "$T/check-caps" ] || fail "the exec check did not run"
[ "$(field "$T/check-caps" CapEff)" = 0000000000003000 ] || { cat "$T/check-caps" >&2; fail "exec check runs with more than lvsd keeps"; }
[ "$(field "$T/check-caps" CapBnd)" = 0000000000003000 ] || fail "exec check's bounding set not reduced"
[ "$(field "$T/check-caps" NoNewPrivs)" = 1 ] || fail "exec check without no_new_privs"

# The election's families (the peer is silent: dir1 becomes MASTER).
for _ in $(seq 50); do
  scrape 9465 > "$T/m" 2>/dev/null && grep -q '^lvsd_instance_role{lvs_instance="VI_1",role="MASTER"} 1$' "$T/m" && break
  sleep 0.1
done
grep -q '^lvsd_instance_role{lvs_instance="VI_1",role="MASTER"} 1$' "$T/m" || { cat "$T/m" >&2; fail "instance role not MASTER in the metrics"; }
grep -q '^lvsd_instance_role{lvs_instance="VI_1",role="BACKUP"} 0$' "$T/m" || fail "role BACKUP not 0"
grep -q '^lvsd_instance_priority{lvs_instance="VI_1"} 150$' "$T/m" || fail "priority not 150"
grep -Eq '^lvsd_instance_transitions_total\{lvs_instance="VI_1",from="BACKUP",to="MASTER"\} 1$' "$T/m" || fail "BACKUP -> MASTER not counted"
grep -Eq '^lvsd_heartbeat_sent_total [1-9][0-9]*$' "$T/m" || fail "heartbeats sent not counted"
grep -Eq '^lvsd_heartbeat_loop_wakeups_total [1-9][0-9]*$' "$T/m" || fail "heartbeat loop wake-ups not counted"
grep -Eq '^lvsd_heartbeat_dropped_total\{reason="bad-mac"\} 0$' "$T/m" || fail "drop reasons not exported (at 0)"
grep -Eq '^lvsd_heartbeat_loop_late_wakeups_total\{over="0.02"\} [0-9]+$' "$T/m" || fail "late wake-ups missing"
grep -Eq '^lvsd_heartbeat_loop_max_lateness_seconds [0-9.e-]+$' "$T/m" || fail "max lateness missing"
grep -Eq '^lvsd_real_server_up\{service="web",real_server="10.77.0.2:80"\} 1$' "$T/m" || fail "exec-checked server not up"

# Reload after the drop: works; a port below 1024 cannot be bound any more.
"$BIN/lvsctl" -s "$T/lvsd.sock" reload > /dev/null || fail "reload after the drop failed"
conf 81
out=$("$BIN/lvsctl" -s "$T/lvsd.sock" reload 2>&1) && fail "reload to metrics port 81 succeeded without cap_net_bind_service"
echo "$out" | grep -q '81' || fail "the failed reload does not name the address: $out"
scrape 9465 > /dev/null || fail "the old metrics endpoint stopped after the failed move"
stop

# Control: the config decides what is kept.
conf 81 "realtime_priority: 10"
start
expect_threads 0000000000803400
grep -q 'capabilities: keeping cap_sys_nice: heartbeat.realtime_priority' "$T/log" || fail "cap_sys_nice reason not logged"
grep -q 'capabilities: keeping cap_net_bind_service: metrics.listen port 81' "$T/log" || fail "cap_net_bind_service reason not logged"
scrape 81 > /dev/null || fail "no metrics on port 81"
stop

# As under the systemd unit: a bounding set without cap_setpcap (the unit's
# CapabilityBoundingSet) cannot be lowered further; effective and permitted
# still are, and the log says the bounding set stayed.
conf 9465
start setpriv --bounding-set=-all,+net_admin,+net_raw,+sys_nice
for st in /proc/$PID/task/*/status; do
  [ "$(field "$st" CapEff)" = 0000000000003000 ] || fail "$st: CapEff $(field "$st" CapEff) under a unit-like bounding set"
  [ "$(field "$st" CapBnd)" = 0000000000803000 ] || fail "$st: CapBnd $(field "$st" CapBnd), want the unit's 0x803000"
done
grep -q 'bounding set unchanged (no cap_setpcap: cap_net_admin,cap_net_raw,cap_sys_nice)' "$T/log" ||
  fail "log does not say the bounding set stayed the unit's"
stop
echo "PASS lvsd capabilities after start"
