# lab-description: 200 long-lived DR streams survive the loss of the MASTER director
# lab-timeout: 600
#
# 200 TCP streams from the client through the VIP (direct routing), each
# sending a line every 100 ms and checking the echo (labnet echo). The
# MASTER's kernel sync daemon has been sending their state to the BACKUP's
# backup daemon. Then the MASTER dies: both its links are cut at once
# (lvsd killed with -9 changes nothing more for the kernel: nothing runs in
# user space on the data path). The BACKUP takes over: VIP + gratuitous ARP,
# daemons backup -> master (new first, as sync/ switches them). A stream
# survives when all its round trips come back intact without reconnecting;
# labnet's timeout (20 s) covers the takeover. Prints
# RESULT method=dr survived=N/200.
#
# Takeover is driven by hand here (VIP, ARP, lvsd-sync-tool for the
# daemons), what lvsd's vip/ and sync/ components do once the election
# drives them.

METHOD=${SYNC_METHOD:-dr}
STREAMS=${SYNC_STREAMS:-200}
CONTROL=${SYNC_CONTROL:-}  # "nosync": dir2 learns nothing (sync-survive-nosync)
SYNCID=3

topo_create --directors 2 --servers 2
lab_require lvsd-sync-tool
dir_vip dir1 "$VIP"
for rs in $LAB_SERVERS; do
  if [ "$METHOD" = nat ]; then rs_nat "$rs"; else rs_dr "$rs" "$VIP"; fi
  rs_serve "$rs"
done
[ "$METHOD" = nat ] && dir_nat_gw dir1
flag=-g
[ "$METHOD" = nat ] && flag=-m

step "echo service $VIP:7 (rr, $METHOD) on both directors"
for d in dir1 dir2; do
  ipvs "$d" -A -t "$VIP:7" -s rr
  for rs in $LAB_SERVERS; do ipvs "$d" -a -t "$VIP:7" -r "$(lan_ip "$rs"):7" $flag; done
done

if [ "$CONTROL" = nosync ]; then
  step "control: no kernel sync at all"
else
  step "kernel sync: dir1 master, dir2 backup"
  must nsx dir2 lvsd-sync-tool daemons --set backup --interface eth1 --syncid $SYNCID
  must nsx dir1 lvsd-sync-tool daemons --set master --interface eth1 --syncid $SYNCID
fi

established() { # NODE -> ESTABLISHED connections to VIP:7
  nsx "$1" cat /proc/net/ip_vs_conn | awk '$8 == "ESTABLISHED" && $5 == "0007" { n++ } END { print n + 0 }'
}

step "$STREAMS streams, a line every 100 ms for 40 s each"
i=1
while [ "$i" -le "$STREAMS" ]; do
  (exec nsenter --net=/run/netns/client labnet echo "$VIP:7" -n 400 --interval-ms 100 \
    --timeout-ms 20000 >"$LAB_STATE/stream-$i.log" 2>&1 </dev/null) &
  echo $! >"$LAB_STATE/stream-$i.pid"
  i=$((i + 1))
done
wait_for 90 "$STREAMS established streams on dir1 ($(established dir1))" \
  sh -c "[ \$(nsenter --net=/run/netns/dir1 cat /proc/net/ip_vs_conn | awk '\$8 == \"ESTABLISHED\" && \$5 == \"0007\"' | wc -l) -ge $STREAMS ]"
[ "$CONTROL" = nosync ] ||
  wait_for 60 "dir2 to learn the $STREAMS streams from dir1's sync daemon ($(established dir2))" \
    sh -c "[ \$(nsenter --net=/run/netns/dir2 cat /proc/net/ip_vs_conn | awk '\$8 == \"ESTABLISHED\" && \$5 == \"0007\"' | wc -l) -ge $STREAMS ]"
echo "dir1: $(established dir1) established, dir2 (synced): $(established dir2)"
sleep 2

step "dir1 dies: both links cut"
t0=$(lab_uptime_cs)
must ip -n dir1 link set eth0 down
must ip -n dir1 link set eth1 down

step "dir2 takes over: daemons backup -> master, VIP + gratuitous ARP"
[ "$CONTROL" = nosync ] || must nsx dir2 lvsd-sync-tool daemons --set master --interface eth1 --syncid $SYNCID
dir_vip dir2 "$VIP"
if [ "$METHOD" = nat ]; then
  dir_nat_gw dir2
  nsx dir2 arping -U -c 3 -w 2 -I eth1 "$LAN_GW" >/dev/null 2>&1
fi
nsx dir2 arping -U -c 3 -w 2 -I eth0 "$VIP" >/dev/null 2>&1
t1=$(lab_uptime_cs)
echo "takeover done after $(lab_cs_to_s $((t1 - t0))) s"

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
if [ "$CONTROL" = nosync ]; then
  # Without an entry, dir2's IPVS ignores the streams' mid-connection
  # segments and its own stack, which holds the VIP, resets them.
  [ "$survived" -eq 0 ] || fail "$survived of $STREAMS streams survived without sync: the survival test proves nothing"
else
  [ "$METHOD" = nat ] || [ "$survived" -eq "$STREAMS" ] || fail "only $survived of $STREAMS DR streams survived"
fi
