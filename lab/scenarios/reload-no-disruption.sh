# lab-description: 20 reloads under client traffic: no failed request, no VIP move, one IPVS op per change
# lab-timeout: 240
#
# Two directors run lvsd from one config (native heartbeats, the VIP on the
# WAN side, a DR web service with HTTP checks on rs1..rs3, and an echo
# service that no reload touches). A client fetches the VIP continuously
# (labnet get, a new connection per request, 2 s timeout). The file is then
# changed 20 times, one change each, and both directors reload it
# (`lvsctl reload`): a real server's weight, or rs4 added / drained
# (weight 0, then wait for its active connections to end: what an operator
# does before removing a server, since IPVS drops the packets of a removed
# destination's connections) / removed. After each reload the kernel
# tables (Debian's ipvsadm) must show exactly the new state, and the
# "services: ipvs: OP" lines each lvsd logs (one per netlink operation
# sent) must have grown by exactly one. At the end: no failed request, dir1
# held the VIP throughout and neither lvsd logged an election transition.
# Prints RESULT reloads=20 failed_requests=N vip_moves=N ops=N changes=N
# (ops and changes of dir1; dir2's are checked too).
#
# The directors run with net.ipv4.vs.expire_nodest_conn=1, as
# docs/operations.md says directors should: with DR the director sees only
# the client's half, so every finished connection stays in its table as
# FIN_WAIT for 2 minutes, and without that setting a new SYN that happens to
# reuse the client port of such an entry whose real server was removed is
# dropped silently (the first run of this scenario lost 2 of 2,700 requests
# that way, just after rs4 was removed). With it, the kernel expires the
# entry and schedules the SYN afresh.

topo_create --clients 1 --directors 2 --servers 4
for d in dir1 dir2; do sysctl_ns "$d" net.ipv4.vs.expire_nodest_conn=1; done
for rs in $LAB_SERVERS; do rs_dr "$rs" "$VIP"; rs_serve "$rs"; done

W1=1 W2=2 W3=3 W4=
# config: the shared file for the current W1..W4 (W4 empty = rs4 absent).
config() {
  rs4=
  [ -n "$W4" ] && rs4="real_server { address: \"10.1.0.104:80\" weight: $W4 }"
  cat <<CONF
$(lvsd_pair_conf)
vip_group { name: "web" vip { address: "$VIP/32" interface: "eth0" } }
check { name: "http" http { path: "/" } interval_ms: 500 timeout_ms: 400 rise: 1 fall: 2 }
virtual_service {
  name: "web" address: "$VIP:80" scheduler: "wrr" forwarding: DR check: "http" instance: "web"
  real_server { address: "10.1.0.101:80" weight: $W1 }
  real_server { address: "10.1.0.102:80" weight: $W2 }
  real_server { address: "10.1.0.103:80" weight: $W3 }
  $rs4
}
virtual_service {
  name: "echo" address: "$VIP:7" scheduler: "rr" forwarding: DR instance: "web"
  real_server { address: "10.1.0.101:7" }
  real_server { address: "10.1.0.102:7" }
}
CONF
}
config >"$LAB_STATE/lvsd.conf"

holds() { [ "$(vip_holders "$VIP" dir1 dir2)" = "$1" ]; }
# table NODE: the web service's real servers and weights in NODE's kernel,
# then the echo service's ("10.1.0.101:80=1 ... | 10.1.0.101:7=1 ...").
table() {
  nsx "$1" ipvsadm -Ln 2>/dev/null | awk -v web="$VIP:80" -v echo="$VIP:7" '
    $1 != "->" { cur = $2; next }
    cur == web { w = w $2 "=" $4 " " }
    cur == echo { e = e $2 "=" $4 " " }
    END { print w "| " e }'
}
expected() {
  _e="10.1.0.101:80=$W1 10.1.0.102:80=$W2 10.1.0.103:80=$W3 "
  [ -n "$W4" ] && _e="${_e}10.1.0.104:80=$W4 "
  echo "$_e| 10.1.0.101:7=1 10.1.0.102:7=1 "
}
tables_match() { _x=$(expected); [ "$(table dir1)" = "$_x" ] && [ "$(table dir2)" = "$_x" ]; }
ops_of() { grep -c 'services: ipvs: ' "$LAB_STATE/lvsd-$1.log"; }
transitions_of() { grep -c 'heartbeat: instance=.* -> ' "$LAB_STATE/lvsd-$1.log"; }
# failed LOG: failed requests, except the last one if our own lab_stop
# interrupted it (labnet reports the request in flight at SIGTERM).
failed() {
  _n=$(grep -c '^req [0-9]* error' "$1")
  grep '^req ' "$1" | tail -n 1 | grep -q ' error interrupted$' && _n=$((_n - 1))
  echo "$_n"
}
ops_are() { [ "$(ops_of dir1)" -eq "$1" ] && [ "$(ops_of dir2)" -eq "$2" ]; }
rs4_idle() { [ "$(ipvs_active dir1 "TCP $VIP:80" 10.1.0.104:80)" = 0 ]; }

step "lvsd on dir1 (150) and dir2 (100)"
lvsd_director dir1
lvsd_director dir2
wait_for 30 "dir1 to become MASTER and hold the VIP" holds dir1
wait_for 20 "both kernel tables to hold the configured services" tables_match
sleep 1
ns dir1 ipvsadm -Ln

step "continuous client traffic"
lab_bg traffic client labnet get "$VIP:80" -n 1000000 --each --timeout-ms 2000
wait_for 10 "the first answers" grep -q '^req [0-9]* rs' "$LAB_STATE/traffic.log"
ops1=$(ops_of dir1)
ops2=$(ops_of dir2)
tr1=$(transitions_of dir1)
tr2=$(transitions_of dir2)

step "20 reloads, one change each"
changes=0
moves=0
i=1
while [ "$i" -le 20 ]; do
  case $((i % 4)) in
  1) W4=2; what="add rs4 weight 2" ;;
  2) if [ $((i % 8)) = 2 ]; then W1=$((W1 + 1)); else W2=$((W2 + 1)); fi; what="weights $W1 $W2 $W3" ;;
  3) W4=0; what="rs4 weight 0 (drain)" ;;
  0) W4=; what="remove rs4" ;;
  esac
  # removing rs4: only once its connections have ended
  [ $((i % 4)) = 0 ] && wait_for 10 "rs4's active connections to end" rs4_idle
  config >"$LAB_STATE/lvsd.conf"
  changes=$((changes + 1))
  out1=$(lvsctl_at dir1 reload 2>&1) || fail "reload $i on dir1 failed: $out1"
  out2=$(lvsctl_at dir2 reload 2>&1) || fail "reload $i on dir2 failed: $out2"
  wait_for 15 "reload $i ($what): kernel tables $(expected)" tables_match
  wait_for 5 "reload $i ($what): one op each (dir1 $(($(ops_of dir1) - ops1)), dir2 $(($(ops_of dir2) - ops2)) of $changes)" \
    ops_are $((ops1 + changes)) $((ops2 + changes))
  holds dir1 || moves=$((moves + 1))
  log "reload $i: $what -> $(table dir1)"
  i=$((i + 1))
done
sleep 2  # a late extra op, a late transition
lab_stop traffic

ops=$(($(ops_of dir1) - ops1))
ops_dir2=$(($(ops_of dir2) - ops2))
moves=$((moves + $(transitions_of dir1) - tr1 + $(transitions_of dir2) - tr2))
ok=$(grep -c '^req [0-9]* rs[0-9]' "$LAB_STATE/traffic.log" || true)
bad=$(failed "$LAB_STATE/traffic.log")
echo "client: $ok answers, $bad failed; ops dir1=$ops dir2=$ops_dir2; changes=$changes"
grep 'services: ipvs: ' "$LAB_STATE/lvsd-dir1.log" | tail -n 20 | sed 's/^/lab:   /'
result reloads=20 failed_requests="$bad" vip_moves="$moves" ops="$ops" changes="$changes"
[ "$ok" -gt 20 ] || fail "the client got only $ok answers"
[ "$bad" -eq 0 ] || fail "$bad client requests failed: $(grep -m1 '^req [0-9]* error' "$LAB_STATE/traffic.log")"
[ "$moves" -eq 0 ] || fail "$moves VIP moves / election transitions during the reloads"
[ "$ops" -eq "$changes" ] || fail "dir1 sent $ops IPVS ops for $changes changes"
[ "$ops_dir2" -eq "$changes" ] || fail "dir2 sent $ops_dir2 IPVS ops for $changes changes"
