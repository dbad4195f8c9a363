# lab-description: resync: a fresh backup gets 50,000 entries at once; persistent clients keep their server after failover
# lab-timeout: 420
#
# The kernel's sync daemon never re-sends the table to a backup that joins.
# lvsd's resync does: the MASTER reads /proc/net/ip_vs_conn (connections and
# persistence templates) and multicasts it as IPVS sync protocol v1 messages
# to the backup daemons' group, paced, with the remaining timeouts. This
# checks it against the real kernel:
#  1. dir1 holds >= 50,000 entries: persistence templates of 50,000 client
#     addresses (created through dir1's own backup daemon by synthetic sync
#     messages, the fast way to fill a table under emulation) plus a real
#     client's template made by real traffic;
#  2. dir2 starts empty with its backup daemon; dir1 resyncs; dir2's
#     /proc/net/ip_vs_conn must hold every entry (RESULT entries=... seconds=...;
#     the goal is 2 s);
#  3. the real client's template names the same real server on dir2, and a
#     template read on both directors at once shows the same, aged,
#     remaining time (not the service's or the kernel's default timeout);
#  4. failover: the VIP moves to dir2, whose daemons switch backup -> master
#     (new first, checked against what the kernel reports). The client keeps
#     its real server (rs2), while a client dir2 never saw (client3) is
#     scheduled fresh (rr: rs1) - the control that shows the template, not
#     luck, kept the server.
# The resync and the daemon switches run sync/'s code (lvsd-sync-tool) by
# hand: lvsd runs the same code from its sync component once the election
# drives it (see docs/sync.md).

SYNCID=7
N=50000

topo_create --clients 3 --directors 2 --servers 2
lab_require lvsd-sync-tool
dir_vip dir1 "$VIP"
for rs in $LAB_SERVERS; do
  rs_dr "$rs" "$VIP"
  rs_serve "$rs"
done

step "the same DR service, rr with persistence (-p 900), on both directors"
for d in dir1 dir2; do
  ipvs "$d" -A -t "$VIP:80" -s rr -p 900
  for rs in $LAB_SERVERS; do ipvs "$d" -a -t "$VIP:80" -r "$(lan_ip "$rs"):80" -g; done
done

conn_count() { # entries in NODE's connection table
  nsx "$1" cat /proc/net/ip_vs_conn | awk 'NR > 1 { n++ } END { print n + 0 }'
}
# Entries bound to the service's real servers, from the kernel's per-server
# counters (PersistConn + ActiveConn + InActConn): cheap to poll, unlike the
# proc table, which the emulated kernel needs many seconds to print at 50,000.
bound_count() {
  nsx "$1" ipvsadm -Ln --persistent-conn | awk '$1 == "->" { n += $4 + $5 + $6 } END { print n + 0 }'
}
has_bound() { [ "$(bound_count "$1")" -ge "$2" ]; }
template_of() { # NODE CLIENT_ADDR -> "DEST EXPIRES" of the client's template
  _hex=$(printf '%02X%02X%02X%02X' $(echo "$2" | tr . ' '))
  nsx "$1" cat /proc/net/ip_vs_conn | awk -v c="$_hex" '$2 == c && $3 == "0000" { print $6, $9; exit }'
}

# A backup's kernel socket must absorb a resync's bursts while its sync
# thread (slow under emulation) catches up: sync.kernel.sock_size, capped by
# the global net.core.rmem_max.
SOCK=8388608
echo 16777216 >/proc/sys/net/core/rmem_max || fail "net.core.rmem_max"

step "dir1 learns $N persistence templates through its own backup daemon"
must nsx dir1 lvsd-sync-tool daemons --set backup --interface eth1 --syncid $SYNCID --sock-size $SOCK
must nsx dir2 lvsd-sync-tool inject --interface eth1 --syncid $SYNCID --count $N \
  --vip "$VIP:80" --rs "$(lan_ip rs1):80" --timeout 600 --rate 2000
t0=$(lab_uptime_cs)
wait_for 120 "dir1 to hold $N entries" has_bound dir1 $N
echo "dir1 holds $(bound_count dir1) bound entries, $(lab_cs_to_s $(($(lab_uptime_cs) - t0))) s after the injection"
t0=$(lab_uptime_cs)
n1=$(conn_count dir1)
echo "reading dir1's proc table once ($n1 entries) takes $(lab_cs_to_s $(($(lab_uptime_cs) - t0))) s here"
[ "$n1" -eq $N ] || fail "dir1 holds $n1 entries, not $N"
step "dir1 becomes MASTER: master daemon first, then the backup daemon goes"
must nsx dir1 lvsd-sync-tool daemons --set master --interface eth1 --syncid $SYNCID

step "real traffic on dir1: client2 takes rr's first pick, client the other server"
http_count client2 "$VIP:80" 1
first=$(the_server)
http_count client "$VIP:80" 5
mine=$(the_server)
expect_ne "$mine" "$first" "client's server on dir1 (rr moved on after client2)"
before=$(template_of dir1 "$(wan_ip client)")
[ -n "$before" ] || fail "dir1 has no template for $(wan_ip client)"
total=$(bound_count dir1)
echo "dir1 holds $total bound entries; client's template: $before"

step "dir2 joins as a fresh backup; dir1 resyncs its whole table"
[ "$(conn_count dir2)" -eq 0 ] || fail "dir2 is not fresh: $(conn_count dir2) entries"
must nsx dir2 lvsd-sync-tool daemons --set backup --interface eth1 --syncid $SYNCID --sock-size $SOCK
t0=$(lab_uptime_cs)
nsx dir1 lvsd-sync-tool resync --interface eth1 --syncid $SYNCID >"$LAB_STATE/resync.out" 2>&1 ||
  fail "resync: $(cat "$LAB_STATE/resync.out")"
t1=$(lab_uptime_cs)
cat "$LAB_STATE/resync.out"
read_ms=$(awk '/^prepared/ { for (i = 1; i <= NF; i++) if ($i ~ /^read_ms=/) print substr($i, 9) }' "$LAB_STATE/resync.out")
send_ms=$(awk '/^RESULT resync/ { for (i = 1; i <= NF; i++) if ($i ~ /^ms=/) print substr($i, 4) }' "$LAB_STATE/resync.out")
wait_for 120 "dir2 to hold all $total entries" has_bound dir2 "$total"
t2=$(lab_uptime_cs)
got=$(bound_count dir2)
secs=$(lab_cs_to_s $((t2 - t0)))
apply=$(lab_cs_to_s $((t2 - t1)))
result entries="$got" seconds="$secs" read_ms="$read_ms" send_ms="$send_ms" backup_apply_s="$apply"
echo "resync: $got entries on dir2 after $secs s (goal: within 2 s): reading the master's proc"
echo "table $read_ms ms, sending $send_ms ms, the backup kernel applying them $apply s after the last datagram"
echo "(all three are the emulated kernel's and qemu's speed; docs/sync.md has native numbers)"

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

step "failover: the VIP moves to dir2; dir2's daemons switch backup -> master"
must ip -n dir1 link set eth0 down
must ip -n dir1 link set eth1 down
dir_vip dir2 "$VIP"
for c in client client3 rtr; do must ip -n "$c" neigh flush all; done
must nsx dir2 lvsd-sync-tool daemons --set master --interface eth1 --syncid $SYNCID

step "client keeps $mine; client3 (never seen) is scheduled fresh: $first"
http_count client "$VIP:80" 5
expect_no_errors
expect_eq "$(the_server)" "$mine" "client's server after failover"
http_count client3 "$VIP:80" 1
expect_eq "$(the_server)" "$first" "client3's server (control: rr's first pick on dir2)"
