# lab-description: reconciling a live table: restart = zero ops, one weight = one edit, no connection dropped
# lab-timeout: 240
#
# lvsd's reconciler (ipvs::Reconciler over the netlink backend — the code the
# daemon's services component runs) is driven by `ipvs-apply apply CONFIG`,
# which reconciles a config's services into the kernel once and prints every
# operation it sent.
#  1. An operator built the table with ipvsadm (NAT web and echo services,
#     plus a service that is not in lvsd's config). lvsd "starts" on it with
#     a config that describes the same services: zero operations.
#  2. Long-lived connections (echo round trips, an HTTP hold) run through the
#     VIP while the config changes one weight: exactly one netlink edit; then
#     the scheduler: one edit of the service in place. Every connection
#     survives, and the foreign service is never touched.
#  3. Starting again on the changed table: zero operations.
#  4. With `ownership: WHOLE_TABLE` the foreign service is lvsd's to delete: one op.
lab_require ipvs-apply

topo_create --clients 1 --directors 1 --servers 2
for rs in $LAB_SERVERS; do rs_serve "$rs"; done
dir_vip dir1 "$VIP"
dir_nat_gw dir1
rs_nat $LAB_SERVERS

step "the operator's table, built with ipvsadm"
ipvs dir1 -A -t "$VIP:80" -s wrr
ipvs dir1 -a -t "$VIP:80" -r 10.1.0.101:80 -m -w 1
ipvs dir1 -a -t "$VIP:80" -r 10.1.0.102:80 -m -w 2
ipvs dir1 -A -t "$VIP:7" -s wlc
ipvs dir1 -a -t "$VIP:7" -r 10.1.0.101:7 -m -w 1
ipvs dir1 -a -t "$VIP:7" -r 10.1.0.102:7 -m -w 1
ipvs dir1 -A -t "$VIP:443" -s rr
ipvs dir1 -a -t "$VIP:443" -r 10.1.0.101:443 -m -w 1
http_count client "$VIP:80" 6 || fail "HTTP through the VIP failed"
expect_no_errors

# config WEB_WEIGHT_2 SCHED OWNERSHIP: lvsd's config for the same services.
config() {
  cat <<EOF
director { name: "dir1" }
ipvs { ownership: $3 }
virtual_service {
  name: "web" address: "$VIP:80" scheduler: "$2" forwarding: NAT
  real_server { address: "10.1.0.101:80" weight: 1 }
  real_server { address: "10.1.0.102:80" weight: $1 }
}
virtual_service {
  name: "echo" address: "$VIP:7" scheduler: "wlc" forwarding: NAT
  real_server { address: "10.1.0.101:7" weight: 1 }
  real_server { address: "10.1.0.102:7" weight: 1 }
}
EOF
}

# apply NAME: reconcile $LAB_STATE/NAME.conf; the ops land in NAME.out.
apply() {
  ns dir1 ipvs-apply apply "$LAB_STATE/$1.conf" >"$LAB_STATE/$1.out" 2>&1 ||
    fail "ipvs-apply apply $1 failed: $(cat "$LAB_STATE/$1.out")"
  sed 's/^/lab:   /' "$LAB_STATE/$1.out"
  sed -n 's/^ops=\([0-9]*\) .*/\1/p' "$LAB_STATE/$1.out"
}

step "lvsd starts on a table it already matches"
config 2 wrr OWNED >"$LAB_STATE/same.conf"
ns dir1 ipvsadm -Sn >"$LAB_STATE/before.save"
ops=$(apply same | tail -n 1)
expect_eq "$ops" 0 "operations when starting on a matching table"
ns dir1 ipvsadm -Sn >"$LAB_STATE/after.save"
cmp -s "$LAB_STATE/before.save" "$LAB_STATE/after.save" || fail "the table changed"
result restart_ops="$ops"

step "long-lived connections through the VIP"
lab_bg echo client labnet echo "$VIP:7" -n 120 --interval-ms 100 --timeout-ms 3000
lab_bg hold client labnet hold "$VIP:80" --seconds 10
wait_for 10 "the echo connection" sh -c "grep -q '^server' '$LAB_STATE/echo.log'"
wait_for 10 "the held HTTP connection" sh -c "grep -q '^server' '$LAB_STATE/hold.log'"
conns_before=$(ns dir1 ipvsadm -Lnc | grep -c ESTABLISHED)
log "established connections: $conns_before"
[ "$conns_before" -ge 2 ] || fail "expected 2 established connections, got $conns_before"

step "one weight changes in the config"
config 5 wrr OWNED >"$LAB_STATE/weight.conf"
ops=$(apply weight | tail -n 1)
expect_eq "$ops" 1 "operations for one weight change"
grep -q '^op edit-destination service tcp 10.0.0.100:80: destination 10.1.0.102:80 forwarding=nat weight=5$' \
  "$LAB_STATE/weight.out" || fail "the one operation is not the weight edit: $(cat "$LAB_STATE/weight.out")"
ns dir1 ipvsadm -Ln -t "$VIP:80" | grep -q '10.1.0.102:80 *Masq *5 ' || fail "weight 5 not in the kernel"
result weight_change_ops="$ops"

step "the scheduler changes: an edit in place, not delete + add"
config 5 wlc OWNED >"$LAB_STATE/sched.conf"
ops=$(apply sched | tail -n 1)
expect_eq "$ops" 1 "operations for a scheduler change"
grep -q '^op edit-service service tcp 10.0.0.100:80 scheduler=wlc$' "$LAB_STATE/sched.out" ||
  fail "not an edit-service: $(cat "$LAB_STATE/sched.out")"

step "no connection was dropped"
wait "$(cat "$LAB_STATE/echo.pid")"
echo_rc=$?
[ "$echo_rc" = 0 ] && grep -q '^ok 120$' "$LAB_STATE/echo.log" ||
  fail "echo connection broke (status $echo_rc): $(cat "$LAB_STATE/echo.log")"
wait "$(cat "$LAB_STATE/hold.pid")"
hold_rc=$?
[ "$hold_rc" = 0 ] && grep -q '^released$' "$LAB_STATE/hold.log" ||
  fail "held HTTP connection broke (status $hold_rc): $(cat "$LAB_STATE/hold.log")"
log "ok: 120 echo round trips on one connection and a 10 s HTTP hold survived both edits"

step "starting again on the changed table"
ops=$(apply sched | tail -n 1)
expect_eq "$ops" 0 "operations on the second start"
ns dir1 ipvsadm -Ln -t "$VIP:443" | grep -q '10.1.0.101:443' || fail "the foreign service was touched"
log "ok: the service lvsd does not own ($VIP:443) is untouched"

step "ownership: WHOLE_TABLE deletes what is not in the config"
config 5 wlc WHOLE_TABLE >"$LAB_STATE/whole.conf"
ops=$(apply whole | tail -n 1)
expect_eq "$ops" 1 "operations with ownership WHOLE_TABLE"
grep -q "^op delete-service service tcp $VIP:443\$" "$LAB_STATE/whole.out" || fail "expected the foreign service's deletion"
ns dir1 ipvsadm -Ln | grep -q ":443" && fail "the foreign service is still there"
result restart_ops=0 weight_change_ops=1 sched_change_ops=1 connections_kept=2
