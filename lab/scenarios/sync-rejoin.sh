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
#  3. the real client's template has the same real server and about the same
#     remaining time on dir2;
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
  --vip "$VIP:80" --rs "$(lan_ip rs1):80" --timeout 900 --rate 2000
t0=$(lab_uptime_cs)
wait_for 120 "dir1 to hold $N entries (has $(conn_count dir1))" sh -c "[ \$(nsenter --net=/run/netns/dir1 cat /proc/net/ip_vs_conn | wc -l) -gt $N ]"
echo "dir1 holds $(conn_count dir1) entries, $(lab_cs_to_s $(($(lab_uptime_cs) - t0))) s after the injection"
t0=$(lab_uptime_cs)
conn_count dir1 >/dev/null
echo "(reading dir1's table once takes $(lab_cs_to_s $(($(lab_uptime_cs) - t0))) s here)"
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
total=$(conn_count dir1)
echo "dir1 holds $total entries; client's template: $before"

step "dir2 joins as a fresh backup; dir1 resyncs its whole table"
[ "$(conn_count dir2)" -eq 0 ] || fail "dir2 is not fresh: $(conn_count dir2) entries"
must nsx dir2 lvsd-sync-tool daemons --set backup --interface eth1 --syncid $SYNCID --sock-size $SOCK
t0=$(lab_uptime_cs)
must nsx dir1 lvsd-sync-tool resync --interface eth1 --syncid $SYNCID
wait_for 60 "dir2 to hold all $total entries (has $(conn_count dir2))" \
  sh -c "[ \$(nsenter --net=/run/netns/dir2 cat /proc/net/ip_vs_conn | wc -l) -gt $total ]"
t1=$(lab_uptime_cs)
got=$(conn_count dir2)
secs=$(lab_cs_to_s $((t1 - t0)))
result entries="$got" seconds="$secs"
echo "resync: $got entries on dir2 after $secs s (goal: within 2 s)"

step "the client's template on dir2: same real server, remaining time preserved"
after=$(template_of dir2 "$(wan_ip client)")
echo "dir1: $before  dir2: $after"
expect_eq "${after% *}" "${before% *}" "real server of client's template on dir2"
e1=${before#* }
e2=${after#* }
[ $((e1 - e2)) -le 15 ] && [ $((e2 - e1)) -le 1 ] ||
  fail "client's template expires in $e2 s on dir2 but $e1 s on dir1 (remaining time not preserved)"
[ "$e2" -lt 900 ] || fail "dir2's template has the full 900 s, not the remaining time"

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
