# lab-description: benchmark: 1,000 services x 10 real servers, lvsd's reconciler vs ipvsadm -R
# lab-default: no
# lab-timeout: 420
#
# bench/ipvs-apply/run runs this. Both tools start from an empty table in
# their own namespace and are timed the same way, from outside, as whole
# processes (ipvs-apply time): `ipvs-apply load` (read the kernel, plan,
# one pipelined netlink batch) in dir1 and `ipvsadm -R` from a file in dir2.
# Then the tables must be identical (ipvsadm -Sn of both), and a single
# weight change through the reconciler's cache is timed in dir1 (a fresh
# process that loads the table first: the change itself is measured).
lab_require ipvs-apply
SERVICES=1000
SERVERS=10

topo_create --clients 1 --directors 2 --servers 0
ipvs-apply restore-file --services $SERVICES --servers $SERVERS >"$LAB_STATE/table.restore"
[ "$(wc -l <"$LAB_STATE/table.restore")" = $((SERVICES * (SERVERS + 1))) ] || fail "restore file has the wrong size"

step "ipvsadm -R: $SERVICES services x $SERVERS real servers in dir2"
ipvs-apply time ip netns exec dir2 ipvsadm -R <"$LAB_STATE/table.restore" 2>"$LAB_STATE/ipvsadm.time" ||
  fail "ipvsadm -R failed: $(cat "$LAB_STATE/ipvsadm.time")"
ipvsadm_s=$(sed -n 's/^elapsed_s=\([0-9.]*\).*/\1/p' "$LAB_STATE/ipvsadm.time")
log "ipvsadm -R took ${ipvsadm_s}s"

step "lvsd reconciler: the same table in dir1"
ipvs-apply time ip netns exec dir1 ipvs-apply load --services $SERVICES --servers $SERVERS \
  >"$LAB_STATE/lvsd.out" 2>"$LAB_STATE/lvsd.time" || fail "ipvs-apply load failed: $(cat "$LAB_STATE/lvsd.out" "$LAB_STATE/lvsd.time")"
lvsd_s=$(sed -n 's/^elapsed_s=\([0-9.]*\).*/\1/p' "$LAB_STATE/lvsd.time")
log "lvsd: $(cat "$LAB_STATE/lvsd.out"), process took ${lvsd_s}s"
grep -q "^ops=$((SERVICES * (SERVERS + 1))) errors=0" "$LAB_STATE/lvsd.out" || fail "unexpected load result: $(cat "$LAB_STATE/lvsd.out")"

step "both tables are the same"
ns dir1 ipvsadm -Sn >"$LAB_STATE/dir1.save"
ns dir2 ipvsadm -Sn >"$LAB_STATE/dir2.save"
[ "$(wc -l <"$LAB_STATE/dir1.save")" = $((SERVICES * (SERVERS + 1))) ] || fail "dir1 has $(wc -l <"$LAB_STATE/dir1.save") lines"
cmp -s "$LAB_STATE/dir1.save" "$LAB_STATE/dir2.save" || fail "tables differ: $(diff "$LAB_STATE/dir1.save" "$LAB_STATE/dir2.save" | head -n 5)"
log "ok: ipvsadm -Sn identical ($(wc -l <"$LAB_STATE/dir1.save") lines)"

step "one weight change on the loaded table"
ns dir1 ipvsadm -C
ns dir1 ipvs-apply weight --services $SERVICES --servers $SERVERS --rounds 50 >"$LAB_STATE/weight.out" ||
  fail "weight changes failed: $(cat "$LAB_STATE/weight.out")"
log "$(cat "$LAB_STATE/weight.out")"
median=$(sed -n 's/.*weight_median_ms=\([0-9.]*\).*/\1/p' "$LAB_STATE/weight.out")
max=$(sed -n 's/.*weight_max_ms=\([0-9.]*\).*/\1/p' "$LAB_STATE/weight.out")

ratio=$(awk -v a="$ipvsadm_s" -v b="$lvsd_s" 'BEGIN { printf "%.1f", a / b }')
result lvsd_s=$lvsd_s ipvsadm_s=$ipvsadm_s ratio=$ratio services=$SERVICES servers=$SERVERS weight_median_ms=$median weight_max_ms=$max
awk -v r="$ratio" 'BEGIN { exit !(r >= 5) }' || fail "lvsd is only ${ratio}x faster than ipvsadm -R (goal: 5x)"
awk -v m="$median" 'BEGIN { exit !(m < 5) }' || fail "a weight change takes ${median} ms (goal: under 5 ms)"
