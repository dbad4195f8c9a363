# lab-description: 200 long-lived DR streams survive kill -9 of the MASTER's lvsd and the loss of its links
# lab-timeout: 600
#
# Two directors run lvsd from one config: native heartbeats on the LAN, the
# VIP on the WAN side, an echo service (DR, or NAT with the real servers'
# gateway moving with the VIP), kernel connection sync on eth1 following the
# election, and the TLS peer channel. 200 TCP streams from the client
# through the VIP, each sending a line every 100 ms and checking the echo
# (labnet echo). The MASTER's kernel sync daemon sends their state to the
# BACKUP's backup daemon (started and checked by lvsd). Then the MASTER's
# lvsd is killed with SIGKILL and both its links are cut (a dead machine).
# The BACKUP's lvsd takes over: election, VIP + gratuitous ARP, and its sync
# daemons switch backup -> master, new one first. A stream survives when all
# its round trips come back intact without reconnecting (labnet's 20 s
# timeout covers the takeover). Prints RESULT method=dr survived=N/200.
#
# SYNC_METHOD=nat (sync-survive-nat) and SYNC_CONTROL=nosync
# (sync-survive-nosync: sync off, the streams must all die) reuse this file.

METHOD=${SYNC_METHOD:-dr}
STREAMS=${SYNC_STREAMS:-200}
CONTROL=${SYNC_CONTROL:-}

topo_create --directors 2 --servers 2
for rs in $LAB_SERVERS; do
  if [ "$METHOD" = nat ]; then rs_nat "$rs"; else rs_dr "$rs" "$VIP"; fi
  rs_serve "$rs"
done

fwd=DR
gw=
if [ "$METHOD" = nat ]; then
  fwd=NAT
  # The real servers' gateway moves with the VIP.
  gw="vip { address: \"$LAN_GW/24\" interface: \"eth1\" }"
fi
sync='sync {
  kernel { enabled: true interface: "eth1" sync_id: 3 }
  peer_channel { enabled: true psk_hex: "8f0e2d4c6a8b1c3e5f7a9b0d2e4f6a8c" }
}'
[ "$CONTROL" = nosync ] && sync=
cat >"$LAB_STATE/lvsd.conf" <<CONF
$(lvsd_pair_conf)
vip_group {
  name: "web"
  vip { address: "$VIP/32" interface: "eth0" }
  $gw
  announce { repeat: 3 interval_ms: 100 }
}
virtual_service {
  name: "echo"
  address: "$VIP:7"
  scheduler: "rr"
  forwarding: $fwd
  real_server { address: "$(lan_ip rs1):7" }
  real_server { address: "$(lan_ip rs2):7" }
  instance: "web"
}
$sync
CONF

holder() { vip_holders "$VIP" dir1 dir2; }
holds() { [ "$(holder)" = "$1" ]; }
daemons() { nsx "$1" ipvsadm -L --daemon 2>/dev/null | awk '{ print $1 }' | sort | tr '\n' ' '; }
runs() { [ "$(daemons "$1")" = "$2 " ]; }
established() { # NODE -> ESTABLISHED connections to VIP:7
  nsx "$1" cat /proc/net/ip_vs_conn | awk '$8 == "ESTABLISHED" && $5 == "0007" { n++ } END { print n + 0 }'
}
has_established() { [ "$(established "$1")" -ge "$2" ]; }

step "lvsd on dir1 (priority 150) and dir2 (100); $METHOD echo service $VIP:7"
lvsd_director dir1
lvsd_director dir2
wait_for 30 "dir1 to become MASTER and hold the VIP" holds dir1
if [ "$CONTROL" = nosync ]; then
  [ -z "$(daemons dir1)$(daemons dir2)" ] || fail "sync daemons run without sync configured"
else
  wait_for 20 "dir1's master sync daemon (has: $(daemons dir1))" runs dir1 master
  wait_for 20 "dir2's backup sync daemon (has: $(daemons dir2))" runs dir2 backup
fi
ns dir1 ipvsadm -L --daemon

step "$STREAMS streams, a line every 100 ms for 40 s each"
i=1
while [ "$i" -le "$STREAMS" ]; do
  (exec nsenter --net=/run/netns/client labnet echo "$VIP:7" -n 400 --interval-ms 100 \
    --timeout-ms 20000 >"$LAB_STATE/stream-$i.log" 2>&1 </dev/null) &
  echo $! >"$LAB_STATE/stream-$i.pid"
  i=$((i + 1))
done
wait_for 90 "$STREAMS established streams on dir1" has_established dir1 "$STREAMS"
[ "$CONTROL" = nosync ] ||
  wait_for 60 "dir2 to learn the $STREAMS streams from dir1's sync daemon" has_established dir2 "$STREAMS"
echo "dir1: $(established dir1) established, dir2 (synced): $(established dir2)"
sleep 2

step "dir1 dies: kill -9 its lvsd, cut both links"
t0=$(lab_uptime_cs)
kill -9 "$(cat "$LAB_STATE/lvsd-dir1.pid")" || fail "kill -9 dir1's lvsd"
must ip -n dir1 link set eth0 down
must ip -n dir1 link set eth1 down

step "dir2's lvsd takes over"
wait_for 20 "dir2 to hold the VIP" holds dir2
t1=$(lab_uptime_cs)
[ "$CONTROL" = nosync ] || wait_for 20 "dir2's daemons to switch to master (has: $(daemons dir2))" runs dir2 master
echo "takeover after $(lab_cs_to_s $((t1 - t0))) s; dir2's sync daemons: $(daemons dir2)"
ns dir2 ipvsadm -L --daemon

step "wait for the streams to finish"
survived=0
i=1
while [ "$i" -le "$STREAMS" ]; do
  pid=$(cat "$LAB_STATE/stream-$i.pid")
  if wait "$pid"; then
    survived=$((survived + 1))
  elif [ "$i" -le 3 ] || [ $((STREAMS - survived)) -le 5 ]; then
    echo "stream $i: $(grep first-error "$LAB_STATE/stream-$i.log")"
  fi
  i=$((i + 1))
done
result method="$METHOD${CONTROL:+-$CONTROL}" survived="$survived/$STREAMS"
echo "survived: $survived of $STREAMS streams"
grep -h "sync: \|peer-channel" "$LAB_STATE/lvsd-dir2.log" | tail -n 8
if [ "$CONTROL" = nosync ]; then
  # Without an entry, dir2's IPVS ignores the streams' mid-connection
  # segments and its own stack, which holds the VIP, resets them.
  [ "$survived" -eq 0 ] || fail "$survived of $STREAMS streams survived without sync: the survival test proves nothing"
else
  [ "$METHOD" = nat ] || [ "$survived" -eq "$STREAMS" ] || fail "only $survived of $STREAMS DR streams survived"
fi
