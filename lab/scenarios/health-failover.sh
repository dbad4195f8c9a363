# lab-description: HTTP checks drive the kernel table: a stopped server leaves within fall x interval + timeout, returns within rise x interval, sorry server when all are down, drain waits for connections
# lab-timeout: 90
#
# One director runs lvsd (the VIP added by hand: a single director takes no
# heartbeat section), a DR web service on three real servers with an HTTP check
# (interval 1 s, no jitter, timeout 500 ms, rise 2, fall 2) and rs4 as the
# sorry server. A client fetches the VIP continuously (labnet get --each).
# Every claim is read from the kernel with Debian's `ipvsadm -Ln`:
#   1. rs1's HTTP service stops: rs1 leaves the table within
#      fall x interval + timeout (2.5 s); the client sees no error after that.
#   2. rs1's service starts again: rs1 is back within rise x interval (2 s).
#   3. every server's service stops: the sorry server rs4 is added and answers.
#   4. `lvsctl drain` of the server holding a long-lived connection: weight 0
#      at once, new requests avoid it, and it leaves the table only after
#      that connection ends.
# The times are measured from the shell (polling ipvsadm every 0.1 s), so
# they include the poll period and the time ipvsadm takes to start under
# emulation: the assertions allow SLACK_CS on top of the configured bound
# and the RESULT line prints the measured values.

INTERVAL_MS=1000
TIMEOUT_MS=500
RISE=2
FALL=2
SLACK_CS=100 # observation allowance: 0.1 s polling + ipvsadm start-up under a loaded emulator

t_start=$(lab_uptime_cs)
topo_create --clients 1 --directors 1 --servers 4
# docs/operations.md: entries of a removed server must not swallow new SYNs
# that happen to reuse their client ports.
sysctl_ns dir1 net.ipv4.vs.expire_nodest_conn=1
for rs in $LAB_SERVERS; do rs_dr "$rs" "$VIP"; rs_serve "$rs"; done

dir_vip dir1 "$VIP"

# One director: the validator refuses a heartbeat section without peers ("a
# single-director cluster takes no heartbeat section"), so the VIP is added
# by hand as in runtime-control.
cat >"$LAB_STATE/lvsd.conf" <<CONF
director { name: "dir1" }
check {
  name: "http"
  http { path: "/" }
  interval_ms: $INTERVAL_MS
  jitter_pct: 0
  timeout_ms: $TIMEOUT_MS
  rise: $RISE
  fall: $FALL
}
virtual_service {
  name: "web"
  address: "$VIP:80"
  scheduler: "rr"
  forwarding: DR
  check: "http"
  drain_timeout_s: 60
  real_server { address: "$(lan_ip rs1):80" }
  real_server { address: "$(lan_ip rs2):80" }
  real_server { address: "$(lan_ip rs3):80" }
  sorry_server { address: "$(lan_ip rs4):80" }
}
CONF

ctl() { ns dir1 lvsctl -s /run/lvsd-dir1.sock "$@"; }
# table: the web service's real servers in dir1's kernel table, "rs1=W rs2=W ..."
table() {
  nsx dir1 ipvsadm -Ln 2>/dev/null | awk -v web="$VIP:80" '
    $1 != "->" { cur = $2; next }
    cur == web { split($2, a, ":"); n = split(a[1], o, "."); printf "rs%d=%s ", o[n] - 100, $4 }'
}
in_table() { table | grep -q "$1="; }
not_in_table() { ! table | grep -q "$1="; }
table_is() { [ "$(table)" = "$1" ]; }
weight_of() { table | tr ' ' '\n' | sed -n "s/^$1=//p"; }
weight_is() { [ "$(weight_of "$1")" = "$2" ]; }
stop_http() { kill "$(cat "$LAB_STATE/$1-serve.pid")" 2>/dev/null || fail "stopping $1's server"; }
# requests logged so far by the background client
logged() { wc -l <"$LAB_STATE/traffic.log"; }
# cs_le MEASURED_CS BOUND_CS WHAT: MEASURED <= BOUND + SLACK
cs_le() {
  [ "$1" -le $(($2 + SLACK_CS)) ] ||
    fail "$3 took $(lab_cs_to_s "$1") s, bound $(lab_cs_to_s "$2") s (+ $(lab_cs_to_s $SLACK_CS) s observation allowance)"
  log "ok: $3 after $(lab_cs_to_s "$1") s (bound $(lab_cs_to_s "$2") s + $(lab_cs_to_s $SLACK_CS) s allowance)"
}

step "lvsd on dir1: three real servers in the kernel table"
lvsd_start dir1 -f "$LAB_STATE/lvsd.conf" --foreground -n dir1 -s /run/lvsd-dir1.sock
wait_for 20 "rs1..rs3 in dir1's table (has '$(table)')" table_is "rs1=1 rs2=1 rs3=1 "
ns dir1 ipvsadm -Ln

step "continuous client traffic"
lab_bg traffic client labnet get "$VIP:80" -n 1000000 --each --timeout-ms 1000
has_answers() { [ "$(grep -c '^req [0-9]* rs[1-3]' "$LAB_STATE/traffic.log")" -ge "$1" ]; }
wait_for 10 "the client's first answers" has_answers 10

step "rs1's HTTP service stops"
bound_down=$(((FALL * INTERVAL_MS + TIMEOUT_MS) / 10))
t0=$(lab_uptime_cs)
stop_http rs1
wait_for 10 "rs1 to leave dir1's table (has '$(table)')" not_in_table rs1
t1=$(lab_uptime_cs)
mark=$(logged)
down_cs=$((t1 - t0))
cs_le "$down_cs" "$bound_down" "rs1 left the table"
# The request in flight when the table changed may have been sent to rs1
# before; every request that started after it must be answered.
sleep 3
after=$(tail -n +$((mark + 2)) "$LAB_STATE/traffic.log")
answered=$(echo "$after" | grep -c '^req [0-9]* rs[23]$')
errors=$(echo "$after" | grep -c '^req [0-9]* error')
to_rs1=$(echo "$after" | grep -c '^req [0-9]* rs1$')
log "client after rs1 left: $answered answers, $errors errors, $to_rs1 from rs1"
[ "$errors" -eq 0 ] || fail "the client saw $errors errors after rs1 left the table: $(echo "$after" | grep -m 3 error | tr '\n' ' ')"
[ "$answered" -ge 5 ] || fail "the client got only $answered answers in the 3 s after rs1 left"
expect_eq "$to_rs1" 0 "answers from rs1 after it left"
before_errors=$(head -n "$mark" "$LAB_STATE/traffic.log" | grep -c '^req [0-9]* error')
log "client errors while rs1 was still in the table: $before_errors"

step "rs1's HTTP service starts again"
bound_up=$((RISE * INTERVAL_MS / 10))
t0=$(lab_uptime_cs)
rs_serve rs1
wait_for 10 "rs1 back in dir1's table (has '$(table)')" in_table rs1
t1=$(lab_uptime_cs)
up_cs=$((t1 - t0))
cs_le "$up_cs" "$bound_up" "rs1 came back"
rs1_again() { [ "$(tail -n +$((mark + 2)) "$LAB_STATE/traffic.log" | grep -c '^req [0-9]* rs1$')" -ge 2 ]; }
wait_for 10 "the client to reach rs1 again" rs1_again
lab_stop traffic
total_ok=$(grep -c '^req [0-9]* rs[1-3]$' "$LAB_STATE/traffic.log")
total_err=$(grep -c '^req [0-9]* error' "$LAB_STATE/traffic.log")
log "client: $total_ok answers, $total_err errors (all while rs1 was down and still in the table)"

step "every real server's HTTP service stops: the sorry server"
t0=$(lab_uptime_cs)
for rs in rs1 rs2 rs3; do stop_http "$rs"; done
wait_for 10 "only the sorry server rs4 in dir1's table (has '$(table)')" table_is "rs4=1 "
t1=$(lab_uptime_cs)
sorry_cs=$((t1 - t0))
cs_le "$sorry_cs" "$bound_down" "the sorry server took over"
ns dir1 ipvsadm -Ln
http_count client "$VIP:80" 5 --timeout-ms 2000
expect_eq "$(the_server)" rs4 "the server answering while all are down"

step "the real servers return: the sorry server leaves"
for rs in rs1 rs2 rs3; do rs_serve "$rs"; done
wait_for 10 "rs1..rs3 back, rs4 gone (has '$(table)')" table_is "rs1=1 rs2=1 rs3=1 "

step "drain the server that holds a long-lived connection"
lab_bg hold client labnet hold "$VIP:80" --timeout-ms 2000
held() { grep -q '^server rs' "$LAB_STATE/hold.log"; }
wait_for 10 "the held connection" held
victim=$(sed -n 's/^server \(rs[1-3]\)$/\1/p' "$LAB_STATE/hold.log")
[ -n "$victim" ] || fail "the held connection went to '$(cat "$LAB_STATE/hold.log")'"
# Drained right after the connection opened: lvsd must count it (it reads
# the destination counters only after the drain's weight 0 reached the
# kernel, never a cached read from before the connection).
out=$(ctl drain web "$(lan_ip "$victim"):80" 2>&1) || fail "lvsctl drain web $victim: $out"
log "lvsctl drain web $victim: $out"
wait_for 5 "$victim at weight 0 (has '$(table)')" weight_is "$victim" 0
active=$(ipvs_active dir1 "TCP $VIP:80" "$(lan_ip "$victim"):80")
expect_eq "$active" 1 "active connections of the draining $victim"
http_count client "$VIP:80" 6 --timeout-ms 2000
expect_no_errors
expect_eq "$(count_of "$victim")" 0 "new requests sent to the draining $victim"
sleep 2
in_table "$victim" || fail "$victim left the table while its connection was still open"
log "ok: $victim stays at weight 0 while its connection is open: $(table)"
t0=$(lab_uptime_cs)
lab_stop hold
wait_for 10 "$victim to leave the table once its connection ended (has '$(table)')" not_in_table "$victim"
t1=$(lab_uptime_cs)
drain_cs=$((t1 - t0))
log "ok: $victim removed $(lab_cs_to_s "$drain_cs") s after its last connection closed"
ctl status | sed -n '1,20p'

result down_s="$(lab_cs_to_s "$down_cs")" down_bound_s="$(lab_cs_to_s "$bound_down")" \
  up_s="$(lab_cs_to_s "$up_cs")" up_bound_s="$(lab_cs_to_s "$bound_up")" \
  sorry_s="$(lab_cs_to_s "$sorry_cs")" drain_removed_s="$(lab_cs_to_s "$drain_cs")" \
  client_answers="$total_ok" client_errors_before_removal="$total_err" \
  scenario_s="$(lab_cs_to_s $(($(lab_uptime_cs) - t_start)))"
