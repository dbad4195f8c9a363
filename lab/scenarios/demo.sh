# lab-description: the whole mission in a minute: two lvsd directors, three real servers, traffic, a failover
# lab-timeout: 240
# lab-default: no
#
# What scripts/demo shows. Two directors run lvsd from one shared config:
# native authenticated heartbeats on the LAN, the VIP on the WAN side, a DR
# service with HTTP checks on three real servers. A client fetches the VIP
# continuously. The master is killed with SIGKILL: the backup takes the VIP
# (gratuitous ARP), the client keeps getting answers; the old master comes
# back and, having the higher priority, takes over again.
topo_create --clients 1 --directors 2 --servers 3
for rs in $LAB_SERVERS; do rs_dr "$rs" "$VIP"; rs_serve "$rs"; done

cat > "$LAB_STATE/lvsd.conf" <<CONF
director { name: "dir1" priority: 150 address { link: "lan" address: "10.1.0.2" } }
director { name: "dir2" priority: 100 address { link: "lan" address: "10.1.0.3" } }
heartbeat {
  interval_ms: 200
  dead_count: 3
  failover_limit_ms: 2000
  link { name: "lan" interface: "eth1" }
  key { id: 1 secret_hex: "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff" }
}
instance { name: "web" vrid: 51 vip_group: "web" }
vip_group {
  name: "web"
  vip { address: "$VIP/32" interface: "eth0" }
  announce { repeat: 3 interval_ms: 100 }
}
check { name: "http" http { path: "/" } interval_ms: 1000 timeout_ms: 500 rise: 1 fall: 2 }
virtual_service {
  name: "web"
  address: "$VIP:80"
  scheduler: "rr"
  forwarding: DR
  real_server { address: "10.1.0.101:80" }
  real_server { address: "10.1.0.102:80" }
  real_server { address: "10.1.0.103:80" }
  check: "http"
  instance: "web"
}
CONF

start_director() {
  # One file, one digest: each director's control socket comes from -s.
  lvsd_start "$1" -f "$LAB_STATE/lvsd.conf" --foreground -n "$1" -s "/run/lvsd-$1.sock"
}
ctl() { _d=$1; shift; ns "$_d" lvsctl -s "/run/lvsd-$_d.sock" "$@"; }
holder() { vip_holders "$VIP" dir1 dir2; }
holds() { [ "$(holder)" = "$1" ]; }

step "start lvsd on dir1 (priority 150) and dir2 (priority 100)"
start_director dir1
start_director dir2
wait_for 20 "dir1 to become MASTER and hold the VIP" holds dir1
three_servers() { [ "$(nsx dir1 ipvsadm -Ln | grep -c -- '-> 10.1.0.10')" -eq 3 ]; }
wait_for 20 "three real servers in dir1's IPVS table" three_servers

echo; echo "==== lvsctl status on dir1"; ctl dir1 status; echo
ctl dir1 status | grep -q MISMATCH && fail "the directors' config digests differ"
echo "==== ipvsadm -Ln on dir1 (Debian's ipvsadm, the real kernel table)"; ns dir1 ipvsadm -Ln; echo

step "the client fetches the VIP 30 times"
http_count client "$VIP:80" 30
expect_no_errors
echo "answers: rs1=$(count_of rs1) rs2=$(count_of rs2) rs3=$(count_of rs3)"

step "continuous traffic, then kill -9 the master's lvsd"
lab_bg traffic client labnet get "$VIP:80" -n 1000000 --each --timeout-ms 500
sleep 2
t0=$(lab_uptime_cs)
kill -9 "$(cat "$LAB_STATE/lvsd-dir1.pid")" || fail "kill -9 dir1's lvsd"
# lvsd was killed, so its VIP stays on dir1's interface: cut dir1 off the
# way a dead machine is (its links go down).
ns dir1 ip link set eth0 down
ns dir1 ip link set eth1 down
wait_for 10 "dir2 to hold the VIP" holds dir2
t1=$(lab_uptime_cs)
sleep 2
echo; echo "==== failover events on dir2"; ctl dir2 status | head -8
result failover_ms=$(( (t1 - t0) * 10 ))

step "restore dir1: it preempts back"
# As after a reboot: links up, no VIP left over.
ns dir1 ip addr del "$VIP/32" dev eth0
ns dir1 ip link set eth0 up
ns dir1 ip link set eth1 up
start_director dir1
wait_for 20 "dir1 to take the VIP back" holds dir1
sleep 2
lab_stop traffic
ok=$(grep -c '^req [0-9]* rs[0-9]' "$LAB_STATE/traffic.log" || true)
bad=$(grep -c '^req [0-9]* error' "$LAB_STATE/traffic.log" || true)
after=$(sed -n "/^req [0-9]* error/,\$p" "$LAB_STATE/traffic.log" | grep -c '^req [0-9]* rs[0-9]' || true)
echo; echo "==== client during the whole demo: $ok answers, $bad failed requests (during takeover), $after answers after the first failure"
result answers=$ok failed=$bad
[ "$ok" -gt 50 ] || fail "client got only $ok answers"
[ "$bad" -eq 0 ] || [ "$after" -gt 10 ] || fail "client got no answers after the failover"
echo "==== lvsctl status on dir1 after it came back"; ctl dir1 status | head -8
