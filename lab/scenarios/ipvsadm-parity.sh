# lab-description: lvsctl ipvsadm answers like Debian ipvsadm 1.31, and each lists the other's table identically
# lab-timeout: 720
#
# 1. The ipvsadm session (lab/scenarios/ipvsadm-capture.sh: every scheduler,
#    method, flag, IPv6, fwmark, listing format, -S, -R and error message)
#    runs with Debian's ipvsadm in dir1 and with `lvsctl ipvsadm` in dir2;
#    every answer (stdout, stderr, status) must be identical, except the few
#    whose order depends on the kernel's per-namespace hash ("~" lines).
# 2. In each namespace, both tools list the table (every format, --nosort,
#    -S) and must print the same bytes: a table programmed by lvsctl is
#    listed identically by ipvsadm and vice versa.
# 3. With real NAT traffic: counters (--stats, --exact, --rate), connections
#    (-c, also with names and --persistent-conn) and zeroing match.
# 4. `ipvsadm -Sn` of dir1 restored by `lvsctl ipvsadm -R` into an empty dir2
#    gives the same `-Sn`.
IPVSADM_SESSION_LIB=1
# shellcheck source=ipvsadm-capture.sh
. /lab/scenarios/ipvsadm-capture.sh
lab_require lvsctl

topo_create --clients 1 --directors 2 --servers 2

step "the session: Debian ipvsadm in dir1, lvsctl ipvsadm in dir2"
ipvsadm_session ipvsadm dir1 "$LAB_STATE/debian"
ipvsadm_session "lvsctl ipvsadm" dir2 "$LAB_STATE/lvsctl"
# Drop the answers whose order is the kernel's (compared below, per namespace).
strip_kernel_order() { awk '/^### / { keep = ($3 != "~") } keep' "$1"; }
strip_kernel_order "$LAB_STATE/debian" >"$LAB_STATE/debian.cmp"
strip_kernel_order "$LAB_STATE/lvsctl" >"$LAB_STATE/lvsctl.cmp"
n=$(grep -c '^###' "$LAB_STATE/debian.cmp")
if ! cmp -s "$LAB_STATE/debian.cmp" "$LAB_STATE/lvsctl.cmp"; then
  diff "$LAB_STATE/debian.cmp" "$LAB_STATE/lvsctl.cmp" | head -n 40
  fail "lvsctl ipvsadm answered differently (diff above: < ipvsadm, > lvsctl)"
fi
log "ok: $n commands, identical stdout, stderr and status"

# same_listing NODE ARGS...: both tools print the same bytes in NODE. Retries
# a few times when counters or rates move between the runs. Connection
# listings (-c) tick every second: their expiry column is compared apart,
# allowing the two runs to be up to 2 s apart.
same_listing() {
  _node=$1
  shift
  _try=0
  while :; do
    ns "$_node" ipvsadm "$@" >"$LAB_STATE/l.debian" 2>&1
    _a=$?
    ns "$_node" lvsctl ipvsadm "$@" >"$LAB_STATE/l.lvsctl" 2>&1
    _b=$?
    case " $* " in
    *c\ * | *-c* | *--connection*)
      expiry_close "$LAB_STATE/l.debian" "$LAB_STATE/l.lvsctl" || { _b=expiry; }
      for _f in l.debian l.lvsctl; do
        sed -E 's/^([A-Z]+ +)[0-9][0-9]:[0-9][0-9]/\1mm:ss/' "$LAB_STATE/$_f" >"$LAB_STATE/$_f.m"
        mv "$LAB_STATE/$_f.m" "$LAB_STATE/$_f"
      done
      ;;
    esac
    if [ "$_a" = "$_b" ] && cmp -s "$LAB_STATE/l.debian" "$LAB_STATE/l.lvsctl"; then
      log "ok: $_node: ipvsadm $* ($(wc -l <"$LAB_STATE/l.debian") lines, status $_a)"
      return 0
    fi
    _try=$((_try + 1))
    if [ "$_try" -ge 5 ]; then
      diff "$LAB_STATE/l.debian" "$LAB_STATE/l.lvsctl" | head -n 20
      fail "$_node: 'ipvsadm $*' differs (status $_a vs $_b; diff above: < ipvsadm, > lvsctl)"
    fi
    sleep 0.3
  done
}

# expiry_close A B: the connection lines' mm:ss columns differ by at most 2 s.
expiry_close() {
  paste -d '|' "$1" "$2" | awk -F'|' '
    { split($1, a, " "); split($2, b, " ") }
    a[2] ~ /^[0-9][0-9]:[0-9][0-9]$/ {
      split(a[2], x, ":"); split(b[2], y, ":")
      d = (x[1] * 60 + x[2]) - (y[1] * 60 + y[2]); if (d < 0) d = -d
      if (d > 2) bad = 1
    }
    END { exit bad }'
}

LISTINGS="-Ln|-L|-l|-Ln --stats|-Ln --stats --exact|-Ln --rate|-Ln --thresholds|-Ln --persistent-conn|-Ln --tun-info|-L --tun-info|-Ln --nosort|-L --nosort --stats|-Sn|-S|-Sn --nosort|-Lnc|-Ln --timeout|-Ln --daemon"
list_all_formats() {
  _node=$1
  _old=$IFS
  IFS='|'
  for _args in $LISTINGS; do
    IFS=$_old
    # shellcheck disable=SC2086
    same_listing "$_node" $_args
    IFS='|'
  done
  IFS=$_old
}

step "dir1 (programmed by ipvsadm) and dir2 (programmed by lvsctl), listed by both"
list_all_formats dir1
list_all_formats dir2
cmp -s "$LAB_STATE/debian" /dev/null && fail "empty session capture"
ns dir1 ipvsadm -Sn >"$LAB_STATE/dir1.save"
ns dir2 ipvsadm -Sn >"$LAB_STATE/dir2.save"
cmp -s "$LAB_STATE/dir1.save" "$LAB_STATE/dir2.save" || fail "the two tables differ: $(diff "$LAB_STATE/dir1.save" "$LAB_STATE/dir2.save" | head -n 5)"
log "ok: both sessions built the same table ($(wc -l <"$LAB_STATE/dir1.save") lines of -Sn)"

step "traffic through dir1's NAT service 10.0.0.101:80 (rs1:8080)"
for rs in $LAB_SERVERS; do rs_serve "$rs"; done
dir_vip dir1 "$VIP2"
dir_nat_gw dir1
rs_nat rs1 rs2
ns dir1 ipvsadm -e -t "$VIP2:80" -r 10.1.0.101:8080 -m -w 9
ns dir1 ipvsadm -a -t "$VIP2:80" -r 10.1.0.102:8080 -m -w 1
http_count client "$VIP2:80" 30 || fail "HTTP through the NAT service failed"
expect_no_errors
ns dir1 ipvsadm -Ln --stats -t "$VIP2:80" | grep -q '10.1.0.101:8080' || fail "no stats for rs1"
for args in "-Lnc" "-Lc" "-Lnc --persistent-conn" "-Ln --stats" "-L --stats" "-Ln --stats --exact" \
  "-Ln --rate" "-Ln --rate --exact" "-Ln --thresholds" "-Ln --persistent-conn" "-Ln -t $VIP2:80 --stats"; do
  # shellcheck disable=SC2086
  same_listing dir1 $args
done
[ "$(ns dir1 ipvsadm -Lnc | tail -n +3 | wc -l)" -gt 0 ] || fail "expected connection entries after traffic"
ns dir1 lvsctl ipvsadm -Z -t "$VIP2:80" || fail "lvsctl ipvsadm -Z failed"
same_listing dir1 -Ln --stats -t "$VIP2:80"
ns dir1 ipvsadm -Ln --stats -t "$VIP2:80" | awk 'NR > 2 { for (i = 3; i <= NF; i++) if ($i != 0) bad = 1 } END { exit bad }' ||
  fail "counters not zeroed"
log "ok: counters, rates and connections listed identically"

step "ipvsadm -Sn of dir1 restored by lvsctl ipvsadm -R into an empty dir2"
ns dir2 lvsctl ipvsadm -C
ns dir1 ipvsadm -Sn >"$LAB_STATE/dir1.save"
ns dir2 lvsctl ipvsadm -R <"$LAB_STATE/dir1.save" || fail "lvsctl ipvsadm -R failed"
ns dir2 ipvsadm -Sn >"$LAB_STATE/dir2.save"
cmp -s "$LAB_STATE/dir1.save" "$LAB_STATE/dir2.save" || fail "restored table differs: $(diff "$LAB_STATE/dir1.save" "$LAB_STATE/dir2.save" | head -n 5)"
log "ok: round trip through -S / -R ($(wc -l <"$LAB_STATE/dir2.save") lines)"
