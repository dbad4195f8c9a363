# lab-description: resync: a fresh backup lvsd gets 50,000 entries at once; persistent clients keep their server after failover
# lab-timeout: 480
#
# The kernel's sync daemon never re-sends the table to a backup that joins.
# lvsd does: when a director's backup daemon runs (checked against the
# kernel), it asks its peers over the TLS peer channel; the MASTER reads
# /proc/net/ip_vs_conn (connections and persistence templates) and
# multicasts it as IPVS sync protocol v1 messages to the backup daemons'
# group, paced, with the remaining timeouts. Against the real kernel:
#  1. dir1 holds >= 50,000 entries: persistence templates of 50,000 client
#     addresses (created through dir1's own backup daemon by synthetic sync
#     messages from lvsd-sync-tool, the fast way to fill a table under
#     emulation), then lvsd starts on dir1 alone and becomes MASTER (its sync
#     daemons switch to master, new first); a real client's template comes
#     from real traffic;
#  2. lvsd starts on a fresh dir2; dir2's /proc table must hold every entry
#     (RESULT entries=... seconds=..., from dir2's lvsd start; the goal is
#     2 s; under emulation the master's proc read dominates, see the
#     breakdown);
#  3. the client's template names the same real server on dir2, and a
#     template's expiry moment agrees on both directors (remaining time,
#     not the service's or the kernel's default timeout);
#  4. failover: dir1's lvsd is killed with SIGKILL and its links cut; dir2's
#     lvsd takes over. The client keeps its real server (the one rr gave it
#     after client2 took the first pick), while a client dir2 never saw
#     (client3) gets rr's first pick - the control that shows the template,
#     not luck, kept the server.

SYNCID=7
N=50000

topo_create --clients 3 --directors 2 --servers 2
lab_require lvsd-sync-tool
for rs in $LAB_SERVERS; do
  rs_dr "$rs" "$VIP"
  rs_serve "$rs"
done

# A backup's kernel socket must absorb a resync's bursts while its sync
# thread (slow under emulation) catches up: sync.kernel.sock_size, capped by
# the global net.core.rmem_max.
SOCK=8388608
echo 16777216 >/proc/sys/net/core/rmem_max || fail "net.core.rmem_max"

cat >"$LAB_STATE/lvsd.conf" <<CONF
$(lvsd_pair_conf)
vip_group {
  name: "web"
  vip { address: "$VIP/32" interface: "eth0" }
  announce { repeat: 3 interval_ms: 100 }
}
virtual_service {
  name: "web"
  address: "$VIP:80"
  scheduler: "rr"
  forwarding: DR
  persistence { timeout_s: 900 }
  real_server { address: "$(lan_ip rs1):80" }
  real_server { address: "$(lan_ip rs2):80" }
  instance: "web"
}
sync {
  kernel { enabled: true interface: "eth1" sync_id: $SYNCID sock_size: $SOCK }
  peer_channel { enabled: true psk_hex: "8f0e2d4c6a8b1c3e5f7a9b0d2e4f6a8c" }
}
CONF
holder() { vip_holders "$VIP" dir1 dir2; }
holds() { [ "$(holder)" = "$1" ]; }
daemons() { nsx "$1" ipvsadm -L --daemon 2>/dev/null | awk '{ print $1 }' | sort | tr '\n' ' '; }
runs() { [ "$(daemons "$1")" = "$2 " ]; }

# lvsd programs this service too; it finds it already in place (no change).
step "the DR service of the config, rr with persistence (-p 900), on both directors"
for d in dir1 dir2; do
  ipvs "$d" -A -t "$VIP:80" -s rr -p 900
  for rs in $LAB_SERVERS; do ipvs "$d" -a -t "$VIP:80" -r "$(lan_ip "$rs"):80" -g; done
done

conn_count() { # entries in NODE's connection table
  nsx "$1" cat /proc/net/ip_vs_conn | awk 'NR > 1 { n++ } END { print n + 0 }'
}
# Persistence templates bound to the service's real servers, from the
# kernel's per-server counters (PersistConn): cheap to poll, unlike the proc
# table, which the emulated kernel needs many seconds to print at 50,000.
# (Connections are left out: the few short HTTP ones may expire meanwhile.)
bound_count() {
  nsx "$1" ipvsadm -Ln --persistent-conn | awk '$1 == "->" { n += $4 } END { print n + 0 }'
}
has_bound() { [ "$(bound_count "$1")" -ge "$2" ]; }
template_of() { # NODE CLIENT_ADDR -> "DEST EXPIRES" of the client's template
  _hex=$(printf '%02X%02X%02X%02X' $(echo "$2" | tr . ' '))
  nsx "$1" cat /proc/net/ip_vs_conn | awk -v c="$_hex" '$2 == c && $3 == "0000" { print $6, $9; exit }'
}

step "dir1 learns $N persistence templates through its own backup daemon"
must nsx dir1 lvsd-sync-tool daemons --set backup --interface eth1 --syncid $SYNCID --sock-size $SOCK
must nsx dir2 lvsd-sync-tool inject --interface eth1 --syncid $SYNCID --count $N \
  --vip "$VIP:80" --rs "$(lan_ip rs1):80" --timeout 600 --rate 2000
t0=$(lab_uptime_cs)
wait_for 120 "dir1 to hold $N entries" has_bound dir1 $N
echo "dir1 holds $(bound_count dir1) templates, $(lab_cs_to_s $(($(lab_uptime_cs) - t0))) s after the injection"
t0=$(lab_uptime_cs)
n1=$(conn_count dir1)
echo "reading dir1's proc table once ($n1 entries) takes $(lab_cs_to_s $(($(lab_uptime_cs) - t0))) s here"
[ "$n1" -eq $N ] || fail "dir1 holds $n1 entries, not $N"
step "lvsd starts on dir1 alone: MASTER, its daemons switch backup -> master"
lvsd_director dir1
wait_for 30 "dir1 to become MASTER and hold the VIP" holds dir1
wait_for 20 "dir1's master sync daemon (has: $(daemons dir1))" runs dir1 master
ns dir1 ipvsadm -L --daemon

step "real traffic on dir1: client2 takes rr's first pick, client the other server"
http_count client2 "$VIP:80" 1
first=$(the_server)
http_count client "$VIP:80" 5
mine=$(the_server)
expect_ne "$mine" "$first" "client's server on dir1 (rr moved on after client2)"
before=$(template_of dir1 "$(wan_ip client)")
[ -n "$before" ] || fail "dir1 has no template for $(wan_ip client)"
total=$(bound_count dir1)
echo "dir1 holds $total persistence templates; client's template: $before"

step "lvsd starts on a fresh dir2: BACKUP, backup daemon, asks dir1 for the table"
[ "$(conn_count dir2)" -eq 0 ] || fail "dir2 is not fresh: $(conn_count dir2) entries"
t0=$(lab_uptime_cs)
lvsd_director dir2
wait_for 120 "dir2 to hold all $total templates (has $(bound_count dir2))" has_bound dir2 "$total"
t1=$(lab_uptime_cs)
runs dir2 backup || fail "dir2 runs sync daemons '$(daemons dir2)', not the backup daemon"
got=$(bound_count dir2)
secs=$(lab_cs_to_s $((t1 - t0)))
done_line=$(grep -h "sync: resync done" "$LAB_STATE/lvsd-dir1.log" | tail -n 1)
echo "dir1: $done_line"
grep -h "asked\|sent a full resync\|daemons" "$LAB_STATE/lvsd-dir2.log" | tail -n 4
resync_ms=${done_line##*ms=}
result entries="$got" seconds="$secs" master_resync_ms="${resync_ms:-?}"
echo "resync: $got templates on dir2 $secs s after its lvsd started (goal: within 2 s); on dir1 the"
echo "resync itself (proc read under emulation, packing, paced send) took ${resync_ms:-?} ms"

step "the client's template on dir2 names the same real server"
after=$(template_of dir2 "$(wan_ip client)")
echo "dir1: $before  dir2: $after"
expect_eq "${after% *}" "${before% *}" "real server of client's template on dir2"

step "remaining time preserved: the same template's expiry on both directors"
# 100.64.0.1's template got 600 s when it was injected (the service's
# persistence is 900 s, a template's default 180 s), long before the resync.
# Each director's proc table takes seconds to print here, so each read gives
# the expiry moment (print time + seconds left) within its read window; the
# windows of the two directors must overlap. Had dir2 been given anything but
# the remaining time (600, 900, 180 s), its moment would lie tens of seconds
# (the template's age at the resync) or minutes away.
expiry_window() { # NODE TAG: "LOW HIGH" bounds of the expiry moment, seconds of uptime
  _s=$(lab_uptime_cs)
  _e=$(template_of "$1" 100.64.0.1)
  _t=$(lab_uptime_cs)
  _left=${_e#* }
  [ -n "$_left" ] || fail "$1 has no template for 100.64.0.1"
  echo "$((_s / 100 + _left - 1)) $((_t / 100 + _left + 1)) $_left"
}
w1=$(expiry_window dir1)
w2=$(expiry_window dir2)
set -- $w1 $w2
echo "100.64.0.1 expires at uptime $1..$2 s on dir1 ($3 s left when read), $4..$5 s on dir2 ($6 s left when read)"
[ "$1" -le "$5" ] && [ "$4" -le "$2" ] ||
  fail "100.64.0.1's template expires at $4..$5 s on dir2 but $1..$2 s on dir1: remaining time not preserved"

step "failover: kill -9 dir1's lvsd, cut its links; dir2's lvsd takes over"
kill -9 "$(cat "$LAB_STATE/lvsd-dir1.pid")" || fail "kill -9 dir1's lvsd"
must ip -n dir1 link set eth0 down
must ip -n dir1 link set eth1 down
wait_for 20 "dir2 to hold the VIP" holds dir2
wait_for 20 "dir2's daemons to switch to master (has: $(daemons dir2))" runs dir2 master
for c in client client3; do must ip -n "$c" neigh flush all; done

step "client keeps $mine; client3 (never seen) is scheduled fresh: $first"
http_count client "$VIP:80" 5
expect_no_errors
expect_eq "$(the_server)" "$mine" "client's server after failover"
http_count client3 "$VIP:80" 1
expect_eq "$(the_server)" "$first" "client3's server (control: rr's first pick on dir2)"
