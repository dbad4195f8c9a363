# lab-description: a broken config file: lvsctl reload fails listing FILE:LINE:COL errors, lvsd keeps serving; a fixed file applies
# lab-timeout: 150
#
# One director runs lvsd (DR web service with HTTP checks on rs1, rs2; the
# VIP added by hand) while a client fetches the VIP continuously. The file is
# replaced twice with a broken one: three semantic errors (an unknown
# scheduler, a weight out of range, a check that does not exist; validation
# collects all of them), then a syntax error. Each time `lvsctl reload` must
# exit non-zero and print every error as FILE:LINE:COL: ..., the config
# generation must stay 1 and the kernel's IPVS table (services, real
# servers, forwarding, weights) must be unchanged. Then a fixed file
# (rs2's weight 2 -> 5) applies: exit 0, generation 2, one IPVS edit. The
# client must see no failed request throughout.

topo_create --clients 1 --directors 1 --servers 2
for rs in $LAB_SERVERS; do rs_dr "$rs" "$VIP"; rs_serve "$rs"; done
dir_vip dir1 "$VIP"
CONF=$LAB_STATE/lvsd.conf

# good W2: a valid file with rs2's weight W2.
good() {
  cat <<CONF
director { name: "dir1" }
check { name: "http" http { path: "/" } interval_ms: 500 timeout_ms: 400 rise: 1 fall: 2 }
virtual_service {
  name: "web"
  address: "$VIP:80"
  scheduler: "wrr"
  forwarding: DR
  check: "http"
  real_server { address: "10.1.0.101:80" weight: 1 }
  real_server { address: "10.1.0.102:80" weight: $1 }
}
CONF
}
# Semantic errors on lines 6, 10 and 11 (column 3: the field).
semantic() {
  cat <<CONF
director { name: "dir1" }
check { name: "http" http { path: "/" } interval_ms: 500 timeout_ms: 400 rise: 1 fall: 2 }
virtual_service {
  name: "web"
  address: "$VIP:80"
  scheduler: "wrrr"
  forwarding: DR
  check: "http"
  real_server { address: "10.1.0.101:80" weight: 1 }
  real_server { address: "10.1.0.102:80" weight: 70000 }
  check: "no-such-check"
}
CONF
}
# A syntax error on line 5 (an unterminated string).
syntax() {
  good 2 | sed '5s/.*/  address: "10.0.0.100:80/'
}

ctl() { ns dir1 lvsctl -s /run/lvsd-dir1.sock "$@"; }
# The kernel table without counters: services, real servers, forwarding, weights.
table() {
  nsx dir1 ipvsadm -Ln 2>/dev/null | awk '$1 == "->" { print $2, $3, $4; next } { print $1, $2, $3 }'
}
generation() { ctl status --json | awk -F'[:,]' '/"config_generation"/ { gsub(/[ "]/, "", $2); print $2 }'; }
two_servers() { [ "$(nsx dir1 ipvsadm -Ln | grep -c -- '-> 10.1.0.10')" -eq 2 ]; }
# failed LOG: failed requests, except the last one if our own lab_stop
# interrupted it (labnet reports the request in flight at SIGTERM).
failed() {
  _n=$(grep -c '^req [0-9]* error' "$1")
  grep '^req ' "$1" | tail -n 1 | grep -q ' error interrupted$' && _n=$((_n - 1))
  echo "$_n"
}
ops() { grep -c 'services: ipvs: ' "$LAB_STATE/lvsd-dir1.log"; }

good 2 >"$CONF"
step "lvsd on dir1 with the good file"
lvsd_start dir1 -f "$CONF" --foreground -n dir1 -s /run/lvsd-dir1.sock
wait_for 20 "both real servers in dir1's table" two_servers
before=$(table)
echo "$before" | sed 's/^/lab:   /'
expect_eq "$(generation)" 1 "config generation at start"

step "continuous client traffic"
lab_bg traffic client labnet get "$VIP:80" -n 1000000 --each --timeout-ms 2000
wait_for 10 "the first answers" grep -q '^req [0-9]* rs' "$LAB_STATE/traffic.log"
ops0=$(ops)

# broken NAME LINE...: install the broken file NAME; the reload must fail and
# name every LINE of the file; nothing may change.
broken() {
  _name=$1
  shift
  "$_name" >"$CONF"
  step "reload with the $_name errors"
  ctl reload >"$LAB_STATE/reload-$_name.out" 2>&1 && fail "lvsctl reload accepted the $_name-error file"
  sed 's/^/lab:   /' "$LAB_STATE/reload-$_name.out"
  for _line in "$@"; do
    grep -q "^$CONF:$_line:[0-9][0-9]*: " "$LAB_STATE/reload-$_name.out" ||
      fail "lvsctl reload did not report $CONF:$_line:COL: (got: $(tr '\n' ' ' <"$LAB_STATE/reload-$_name.out"))"
  done
  _n=$(grep -c "^$CONF:[0-9]*:[0-9]*: " "$LAB_STATE/reload-$_name.out")
  [ "$_n" -eq $# ] || fail "expected $# FILE:LINE:COL errors, got $_n"
  grep -q 'reload rejected' "$LAB_STATE/lvsd-dir1.log" || fail "lvsd did not log the rejected reload"
  sleep 1  # give a wrongly applied change time to reach the kernel
  expect_eq "$(generation)" 1 "config generation after the $_name-error reload"
  [ "$(table)" = "$before" ] || fail "the IPVS table changed after a rejected reload: $(table | tr '\n' ';')"
  [ "$(ops)" -eq "$ops0" ] || fail "IPVS ops after a rejected reload"
  http_count client "$VIP:80" 10 --timeout-ms 2000
  expect_no_errors
}
broken semantic 6 10 11
broken syntax 5

step "reload with the fixed file (rs2 weight 2 -> 5)"
good 5 >"$CONF"
out=$(ctl reload 2>&1) || fail "the fixed file was refused: $out"
echo "$out" | sed 's/^/lab:   /'
expect_eq "$(generation)" 2 "config generation after the fixed reload"
rs2_is_5() { table | grep -q '^10.1.0.102:80 Route 5$'; }
wait_for 10 "rs2's weight 5 in the kernel" rs2_is_5
sleep 1
lab_stop traffic
expect_eq "$(($(ops) - ops0))" 1 "IPVS ops for the fixed reload"
ok=$(grep -c '^req [0-9]* rs[0-9]' "$LAB_STATE/traffic.log" || true)
bad=$(failed "$LAB_STATE/traffic.log")
result rejected=2 failed_requests="$bad" answers="$ok" generation="$(generation)"
[ "$ok" -gt 10 ] || fail "the client got only $ok answers"
[ "$bad" -eq 0 ] || fail "$bad client requests failed: $(grep -m1 '^req [0-9]* error' "$LAB_STATE/traffic.log")"
