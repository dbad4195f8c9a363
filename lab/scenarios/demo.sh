# lab-description: the whole mission in a minute: two lvsd directors, three real servers, traffic, a failover
# lab-timeout: 240
# lab-default: no
#
# What scripts/demo shows. Two directors run lvsd from one shared config:
# native authenticated heartbeats on the LAN, the VIP on the WAN side, a DR
# service with HTTP checks on three real servers. A client fetches the VIP
# continuously. The master is killed with SIGKILL: the backup takes the VIP
# (gratuitous ARP), the client keeps getting answers; the old master comes
# back and, having the higher priority, takes over again. Each director
# serves Prometheus metrics on its own 127.0.0.1:9465 (one namespace each);
# the demo scrapes them with busybox wget and checks that every family the
# operations guide promises for roles, heartbeats, checks, real servers,
# IPVS programming, kernel statistics and sync carries samples, and that the
# kernel's connection counters reached them.
topo_create --clients 1 --directors 2 --servers 3
for rs in $LAB_SERVERS; do rs_dr "$rs" "$VIP"; rs_serve "$rs"; done

cat > "$LAB_STATE/lvsd.conf" <<CONF
$(lvsd_pair_conf)
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
metrics { listen: "127.0.0.1:9465" }
CONF

holder() { vip_holders "$VIP" dir1 dir2; }
holds() { [ "$(holder)" = "$1" ]; }

step "start lvsd on dir1 (priority 150) and dir2 (priority 100)"
lvsd_director dir1
lvsd_director dir2
wait_for 20 "dir1 to become MASTER and hold the VIP" holds dir1
three_servers() { [ "$(nsx dir1 ipvsadm -Ln | grep -c -- '-> 10.1.0.10')" -eq 3 ]; }
wait_for 20 "three real servers in dir1's IPVS table" three_servers

echo; echo "==== lvsctl status on dir1"; lvsctl_at dir1 status; echo
lvsctl_at dir1 status | grep -q MISMATCH && fail "the directors' config digests differ"
echo "==== ipvsadm -Ln on dir1 (Debian's ipvsadm, the real kernel table)"; ns dir1 ipvsadm -Ln; echo

step "the client fetches the VIP 30 times"
http_count client "$VIP:80" 30
expect_no_errors
echo "answers: rs1=$(count_of rs1) rs2=$(count_of rs2) rs3=$(count_of rs3)"

step "scrape the directors' metrics (busybox wget in each namespace)"
scrape() { nsx "$1" wget -q -O - "http://127.0.0.1:9465/metrics"; }
# The kernel's estimator publishes counters every 2 s and lvsd's IPVS worker
# reads them every 2 s: wait for the 30 connections to show.
counted() {
  scrape dir1 > "$LAB_STATE/metrics-dir1" &&
    grep -Eq '^lvsd_ipvs_service_connections_total\{service="web"\} ([3-9][0-9]|[1-9][0-9][0-9]+)$' "$LAB_STATE/metrics-dir1"
}
wait_for 10 "dir1's metrics to count the 30 connections" counted
scrape dir2 > "$LAB_STATE/metrics-dir2" || fail "no metrics from dir2"
for fam in lvsd_instance_role lvsd_instance_transitions_total lvsd_heartbeat_sent_total \
           lvsd_heartbeat_dropped_total lvsd_heartbeat_loop_late_wakeups_total \
           lvsd_heartbeat_loop_max_lateness_seconds lvsd_check_results_total \
           lvsd_check_last_duration_seconds lvsd_check_duration_seconds_count lvsd_real_server_up \
           lvsd_real_server_weight lvsd_ipvs_applies_total lvsd_ipvs_operations_total \
           lvsd_ipvs_operation_errors_total lvsd_sync_daemon_switches_total lvsd_sync_resyncs_total \
           lvsd_ipvs_service_connections_total lvsd_ipvs_service_connections_per_second \
           lvsd_ipvs_service_bytes_per_second lvsd_ipvs_destination_active_connections \
           lvsd_ipvs_destination_connections_total lvsd_ipvs_destination_connections_per_second; do
  for d in dir1 dir2; do
    grep -Eq "^$fam(\{| )" "$LAB_STATE/metrics-$d" || fail "$d: family $fam has no samples"
  done
done
grep -q '^lvsd_instance_role{lvs_instance="web",role="MASTER"} 1$' "$LAB_STATE/metrics-dir1" || fail "dir1's metrics do not say MASTER"
grep -q '^lvsd_instance_role{lvs_instance="web",role="BACKUP"} 1$' "$LAB_STATE/metrics-dir2" || fail "dir2's metrics do not say BACKUP"
ups=$(grep -c '^lvsd_real_server_up{service="web",real_server="10.1.0.10[123]:80"} 1$' "$LAB_STATE/metrics-dir1" || true)
[ "$ups" -eq 3 ] || fail "dir1's metrics show $ups of 3 real servers up"
grep -q '^lvsd_ipvs_operation_errors_total 0$' "$LAB_STATE/metrics-dir1" || fail "IPVS operation errors on dir1"
# After start lvsd keeps only CAP_NET_ADMIN and CAP_NET_RAW (docs/operations.md "Privileges").
caps=$(awk '$1 == "CapEff:" { print $2 }' "/proc/$(cat "$LAB_STATE/lvsd-dir1.pid")/status")
[ "$caps" = 0000000000003000 ] || fail "dir1's lvsd runs with CapEff $caps, want 0000000000003000"
echo "==== $(grep -o 'capabilities: kept [^;]*' "$LAB_STATE/lvsd-dir1.log") (CapEff $caps)"
echo "==== metrics on dir1 (excerpt of $(grep -vc '^#' "$LAB_STATE/metrics-dir1") samples)"
grep -E '^lvsd_(instance_role\{.*\} 1|instance_transitions_total|heartbeat_(sent|received)_total|heartbeat_loop_max|real_server_(up|weight)\{.*10.1.0.101|check_duration_seconds_count|ipvs_operations_total|ipvs_service_connections_total|ipvs_destination_connections_total)' \
  "$LAB_STATE/metrics-dir1"
echo

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
echo; echo "==== failover events on dir2"; lvsctl_at dir2 status | head -8
result failover_ms=$(( (t1 - t0) * 10 ))

step "restore dir1: it preempts back"
# As after a reboot: links up, no VIP left over.
ns dir1 ip addr del "$VIP/32" dev eth0
ns dir1 ip link set eth0 up
ns dir1 ip link set eth1 up
lvsd_director dir1
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
echo "==== lvsctl status on dir1 after it came back"; lvsctl_at dir1 status | head -8
