# lab-description: the seed paper's experiment (Table 2): wlc vs paper-1 vs paper-2 vs adaptive on TUN, 2 real servers' available memory
# lab-timeout: 1500
# lab-default: no
#
# Kim & Rhee (2001) ran one director (IP tunnelling), two real servers and a
# load of virtual clients walking a 40-item agenda (static files and a Perl
# CGI board), under wlc and under their two memory-based weight methods, and
# compared the servers' mean available memory (Table 2). This scenario does
# the same on a real IPVS kernel, with lvsd setting the weights:
#
#   - rs1 and rs2 share this guest's kernel, so each real server is a cgroup
#     v2 with its own memory limit (memory.max) and CPU allowance (cpu.max);
#     rs2 gets half rs1's CPU, as the paper's server 2 was the slower one.
#     Available memory = memory.max - memory.current, recorded every 2 s
#     straight from the cgroup files (the ground truth, independent of the
#     agents), exactly as the table needs it.
#   - lab-paperweb serves each real server: small static answers, and a
#     forking CGI that holds 3,500 KB (the paper's mean httpd + perl size)
#     while it works: 300 ms of CPU, at least 1 s in all. On rs2's smaller
#     CPU allowance the same CGI takes longer and so holds its memory longer
#     (the paper's server 2 stalled on its disk). lvs-agent --cgroup reports
#     each server's cgroup to lvsd.
#   - the client runs lab-paperweb load: concurrent virtual clients walking
#     the 40-item agenda (CGI at items 2, 10 and 11, as in Fig. 9).
#   - lvsd runs four times with the same load: policy NONE (plain wlc),
#     PAPER_1, PAPER_2 and ADAPTIVE (memory_share 1.0, the paper's objective).
#     The paper's cadence (5 samples 5 s apart, weights every 60 s) is
#     compressed tenfold in time to fit the lab: 5 samples 1 s apart,
#     weights every 6 s.
#
# Output: a Table-2-like table and
#   RESULT wlc_diff_kb=... paper1_diff_kb=... paper2_diff_kb=... adaptive_diff_kb=...
#          adaptive_reduction_pct=... ordering=wlc>paper1>paper2|...
#          wlc_absdiff_kb=... (and per method: the mean of |1 - 2| over the
#          records, which also counts swings that cancel out in the means)
# The ordering of the paper's methods is reported as measured, not asserted.
# The scenario fails if any run had request errors, if lvsd never set a
# weight under a policy, or if adaptive reduces the wlc imbalance by less
# than 80 % (the issue's acceptance bar; the paper's method 2 reached 58 %).
# Not in the default set: it needs lvsd with its IPVS wiring and takes
# about 15 minutes under emulation.

RUN_S=120       # load per method
SETTLE_S=30     # load before recording starts (weights have been set a few times)
CLIENTS=8
# cgroup2 outside /sys: `ip netns exec` mounts a fresh sysfs for the namespace.
CG=/run/lab-cgroup
CONF=/tmp/paper-experiment.conf
SOCK=/run/lvsd-paper.sock

lab_require lvsd
lab_require lvs-agent
lab_require lab-paperweb

topo_create --servers 2
dir_vip dir1 "$VIP"
for rs in $LAB_SERVERS; do rs_tun "$rs" "$VIP"; done

step "cgroups: one per real server (memory.max 128M; cpu.max rs1 60%, rs2 30%)"
mkdir -p "$CG"
[ -f "$CG/cgroup.controllers" ] || must mount -t cgroup2 none "$CG"
grep -qw memory "$CG/cgroup.controllers" || fail "no memory controller in cgroup v2"
echo "+memory +cpu" >"$CG/cgroup.subtree_control" || fail "cannot enable memory and cpu controllers"
for rs in $LAB_SERVERS; do
  mkdir -p "$CG/lab-$rs"
  echo 128M >"$CG/lab-$rs/memory.max" || fail "memory.max for $rs"
done
echo "60000 100000" >"$CG/lab-rs1/cpu.max" || fail "cpu.max rs1"
echo "30000 100000" >"$CG/lab-rs2/cpu.max" || fail "cpu.max rs2"

step "real servers: lab-paperweb inside each cgroup, lvs-agent reporting it"
for rs in $LAB_SERVERS; do
  lab_bg "web-$rs" "$rs" sh -c "echo \$\$ >$CG/lab-$rs/cgroup.procs && exec lab-paperweb serve --listen 0.0.0.0 --port 80 --name $rs --cgi-kb 3500 --cgi-ms 1000 --cgi-cpu-ms 300"
  lab_bg "agent-$rs" "$rs" lvs-agent --listen "$(lan_ip "$rs")" --port 7411 --interval-ms 1000 \
    --samples 5 --cgroup "$CG/lab-$rs" --no-swapped-scan --user 65534:65534
done
for rs in $LAB_SERVERS; do
  wait_for 20 "lab-paperweb on $rs" ns dir1 labnet wait-port "$(lan_ip "$rs"):80" --timeout-ms 500
  wait_for 20 "lvs-agent on $rs" ns dir1 labnet wait-port "$(lan_ip "$rs"):7411" --timeout-ms 500
done
wait_for 10 "lvs-agent to run as uid 65534 (started as root)" grep -q 'uid 65534' "$LAB_STATE/agent-rs1.log"

write_conf() {
  cat >"$CONF" <<EOF
director { name: "dir1" }
control { socket: "$SOCK" }
feedback {
  policy: $1
  agent_port: 7411
  poll_interval_ms: 6000
  samples: 5
  sample_interval_ms: 1000
  agent_timeout_ms: 2000
  memory_share: 1.0
}
virtual_service {
  name: "web"
  address: "$VIP:80"
  scheduler: "wlc"
  forwarding: TUN
  real_server { address: "$(lan_ip rs1):80" weight: 1 }
  real_server { address: "$(lan_ip rs2):80" weight: 1 }
}
EOF
}

avail_kb() { # CGROUP: memory.max - memory.current, in KB
  _max=$(cat "$1/memory.max")
  _cur=$(cat "$1/memory.current")
  echo $(((_max - _cur) / 1024))
}

weights() { # "w1 w2" as IPVS has them now
  ns dir1 ipvsadm -Ln | awk -v a="$(lan_ip rs1):80" -v b="$(lan_ip rs2):80" '
    $2 == a { w1 = $4 } $2 == b { w2 = $4 } END { print w1 + 0, w2 + 0 }'
}

service_programmed() {
  ns dir1 ipvsadm -Ln | grep -q "$(lan_ip rs2):80"
}

no_cgi_running() {
  for rs in $LAB_SERVERS; do
    [ "$(wc -l <"$CG/lab-$rs/cgroup.procs")" -le 1 ] || return 1
  done
}

# run_method NAME POLICY: one run; appends "NAME mean1 mean2 diff edits" to $LAB_STATE/table.
run_method() {
  _name=$1
  step "$_name: lvsd with feedback policy $2"
  write_conf "$2"
  rm -f "$SOCK"
  lvsd_start dir1 --foreground -f "$CONF" -n dir1
  wait_for 30 "lvsd to program $VIP:80 with both real servers" service_programmed
  wait_for 60 "the previous run's CGI children to finish" no_cgi_running

  step "$_name: $CLIENTS clients for ${RUN_S} s (recording after ${SETTLE_S} s)"
  lab_bg "load-$_name" client lab-paperweb load --target "$VIP:80" --clients "$CLIENTS" \
    --seconds "$RUN_S" --timeout-ms 20000
  _end=$(($(lab_uptime_cs) + RUN_S * 100))
  _rec=$(($(lab_uptime_cs) + SETTLE_S * 100))
  : >"$LAB_STATE/mem-$_name"
  _edits=0
  _last=$(weights)
  while [ "$(lab_uptime_cs)" -lt "$_end" ]; do
    _w=$(weights)
    [ "$_w" != "$_last" ] && _edits=$((_edits + 1)) && log "$_name: weights $_last -> $_w"
    _last=$_w
    if [ "$(lab_uptime_cs)" -ge "$_rec" ]; then
      echo "$(avail_kb "$CG/lab-rs1") $(avail_kb "$CG/lab-rs2") $_w" >>"$LAB_STATE/mem-$_name"
    fi
    sleep 2
  done
  _pid=$(cat "$LAB_STATE/load-$_name.pid")
  _i=0
  while kill -0 "$_pid" 2>/dev/null && [ "$_i" -lt 600 ]; do sleep 0.1; _i=$((_i + 1)); done
  lab_stop "load-$_name"
  lvsd_stop dir1
  pidof lvsd >/dev/null && fail "$_name: lvsd still running after lvsd_stop (another run's weights would interfere)"
  cp "$LAB_STATE/lvsd-dir1.log" "$LAB_STATE/lvsd-$_name.log"
  log "$_name: $(grep -c 'feedback: service=' "$LAB_STATE/lvsd-$_name.log") feedback weight changes logged by lvsd; the last ones:"
  grep 'feedback: service=' "$LAB_STATE/lvsd-$_name.log" | tail -n 4
  cat "$LAB_STATE/load-$_name.log"
  grep -q '^requests' "$LAB_STATE/load-$_name.log" || fail "$_name: the load generator did not finish"
  _errors=$(awk '$1 == "requests" { print $4 }' "$LAB_STATE/load-$_name.log")
  [ "$_errors" = 0 ] || fail "$_name: $_errors request errors"
  [ "$2" = NONE ] || [ "$_edits" -gt 0 ] || fail "$_name: lvsd never changed a weight"
  awk -v n="$_name" -v e="$_edits" '
    { a += $1; b += $2; d += ($1 > $2 ? $1 - $2 : $2 - $1); k++ }
    END { if (k == 0) exit 1; printf "%s %.1f %.1f %.1f %d %.1f\n", n, a / k, b / k, a / k - b / k, e, d / k }' \
    "$LAB_STATE/mem-$_name" >>"$LAB_STATE/table" || fail "$_name: no memory records"
}

: >"$LAB_STATE/table"
run_method wlc NONE
run_method paper1 PAPER_1
run_method paper2 PAPER_2
run_method adaptive ADAPTIVE

step "Table 2, measured (mean available memory of each real server's cgroup, KB)"
awk '
  BEGIN { printf "%-10s %12s %12s %12s %6s %12s\n", "method", "server 1", "server 2", "1 - 2", "edits", "mean |1-2|" }
  { printf "%-10s %12.1f %12.1f %12.1f %6d %12.1f\n", $1, $2, $3, $4, $5, $6 }' "$LAB_STATE/table"
log "(1 - 2 is Table 2's difference of the means; mean |1-2| also counts the swings that average out)"
log "(paper: WLC -16193.1, method 1 -11328.3, method 2 -6821.7 KB)"

diff_of() { awk -v n="$1" '$1 == n { print $4 }' "$LAB_STATE/table"; }
absdiff_of() { awk -v n="$1" '$1 == n { print $6 }' "$LAB_STATE/table"; }
wlc=$(diff_of wlc)
p1=$(diff_of paper1)
p2=$(diff_of paper2)
ad=$(diff_of adaptive)
summary=$(awk -v w="$wlc" -v a="$p1" -v b="$p2" -v d="$ad" 'function abs(x) { return x < 0 ? -x : x }
  BEGIN {
    red = abs(w) > 0 ? 100 * (1 - abs(d) / abs(w)) : 0
    order = (abs(w) > abs(a) ? "wlc>paper1" : "wlc<=paper1") (abs(a) > abs(b) ? ">paper2" : "<=paper2")
    printf "%.1f %s\n", red, order
  }')
reduction=${summary% *}
ordering=${summary#* }
log "ordering of the imbalance, as measured: $ordering"
result "wlc_diff_kb=$wlc paper1_diff_kb=$p1 paper2_diff_kb=$p2 adaptive_diff_kb=$ad adaptive_reduction_pct=$reduction ordering=$ordering wlc_absdiff_kb=$(absdiff_of wlc) paper1_absdiff_kb=$(absdiff_of paper1) paper2_absdiff_kb=$(absdiff_of paper2) adaptive_absdiff_kb=$(absdiff_of adaptive)"
awk -v r="$reduction" 'BEGIN { exit !(r >= 80) }' ||
  fail "adaptive reduced the wlc imbalance by ${reduction}%, below 80%"
