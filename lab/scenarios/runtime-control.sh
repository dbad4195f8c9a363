# lab-description: lvsctl weight/drain/undrain/add-server/remove-server reach the kernel and status; a reload drops runtime adds/removes
# lab-timeout: 150
#
# One director runs lvsd (DR web service, HTTP checks, rs1 weight 1, rs2
# weight 2; the VIP added by hand). Each lvsctl command must show in the
# kernel's IPVS table (Debian's ipvsadm -Ln in dir1's namespace) and in
# `lvsctl status --json`:
#   weight web rs1 7       -> rs1 weight 7
#   drain web rs2          -> rs2 weight 0 while its connections end, then
#                             gone (DRAINED; it has none, so at the next poll)
#   undrain web rs2        -> rs2 back at weight 2
#   add-server web rs3 4   -> rs3 at weight 4 once its check passes, status
#                             runtime_added=true
#   remove-server web rs1  -> rs1 gone from kernel and status
#   weight web rs2 9       -> rs2 weight 9
# Then `lvsctl reload` of the unchanged file. What the code documents
# (services component, lvsctl usage, docs/healthcheck.md "Reloads"): servers
# added or removed at runtime last until the next reload, while operator
# overrides (drain, weight) carry over a reload for servers still present.
# So after the reload: rs1 is back at its configured weight 1, rs3 is gone,
# rs2 keeps the operator's weight 9. Client requests after each step must
# be answered.

topo_create --clients 1 --directors 1 --servers 3
# docs/operations.md: a removed server's lingering entries must not swallow
# new SYNs that reuse their client ports (see reload-no-disruption).
sysctl_ns dir1 net.ipv4.vs.expire_nodest_conn=1
for rs in $LAB_SERVERS; do rs_dr "$rs" "$VIP"; rs_serve "$rs"; done
dir_vip dir1 "$VIP"
cat >"$LAB_STATE/lvsd.conf" <<CONF
director { name: "dir1" }
check { name: "http" http { path: "/" } interval_ms: 500 timeout_ms: 400 rise: 1 fall: 2 }
virtual_service {
  name: "web"
  address: "$VIP:80"
  scheduler: "wrr"
  forwarding: DR
  check: "http"
  drain_timeout_s: 30
  real_server { address: "10.1.0.101:80" weight: 1 }
  real_server { address: "10.1.0.102:80" weight: 2 }
}
CONF

ctl() { ns dir1 lvsctl -s /run/lvsd-dir1.sock "$@"; }
RS1=10.1.0.101:80
RS2=10.1.0.102:80
RS3=10.1.0.103:80
# kernel: "ADDR=WEIGHT ..." of the web service in dir1's IPVS table (Debian's ipvsadm).
kernel() {
  nsx dir1 ipvsadm -Ln 2>/dev/null | awk -v web="$VIP:80" '
    $1 != "->" { cur = $2; next }
    cur == web { printf "%s=%s ", $2, $4 }'
}
# status: "ADDR=WEIGHT[,runtime][,draining] ..." of the web service from lvsctl status --json.
status() {
  ctl status --json | awk '
    function val(s) { sub(/^[^:]*: */, "", s); sub(/,$/, "", s); gsub(/"/, "", s); return s }
    $1 == "\"address\":" { if (a != "") printf "%s ", out; a = val($0); out = a }
    $1 == "\"weight\":" && a != "" { out = out "=" val($0) }
    $1 == "\"runtime_added\":" && a != "" && val($0) == "true" { out = out ",runtime" }
    $1 == "\"draining\":" && a != "" && val($0) == "true" { out = out ",draining" }
    END { if (a != "") printf "%s ", out }'
}
kernel_is() { [ "$(kernel)" = "$1" ]; }
status_is() { [ "$(status)" = "$1" ]; }
# expect KERNEL STATUS WHAT: wait for both views.
expect() {
  wait_for 15 "$3: kernel '$1' (has '$(kernel)')" kernel_is "$1"
  wait_for 5 "$3: status '$2' (has '$(status)')" status_is "$2"
  log "ok: $3: kernel $(kernel)| status $(status)"
  http_count client "$VIP:80" 3 --timeout-ms 2000
  expect_no_errors
}
run() {
  _out=$(ctl "$@" 2>&1) || fail "lvsctl $* failed: $_out"
  log "lvsctl $*: $_out"
}

step "lvsd on dir1"
lvsd_start dir1 -f "$LAB_STATE/lvsd.conf" --foreground -n dir1 -s /run/lvsd-dir1.sock
expect "$RS1=1 $RS2=2 " "$RS1=1 $RS2=2 " "start"

step "weight, drain, undrain"
run weight web "$RS1" 7
expect "$RS1=7 $RS2=2 " "$RS1=7 $RS2=2 " "weight web rs1 7"
run drain web "$RS2"
expect "$RS1=7 " "$RS1=7 $RS2=0 " "drain web rs2 (drained: no connections)"
run undrain web "$RS2"
expect "$RS1=7 $RS2=2 " "$RS1=7 $RS2=2 " "undrain web rs2"

step "add-server, remove-server"
run add-server web "$RS3" 4
expect "$RS1=7 $RS2=2 $RS3=4 " "$RS1=7 $RS2=2 $RS3=4,runtime " "add-server web rs3 4"
ctl add-server web "$RS3" 4 >/dev/null 2>&1 && fail "adding rs3 twice was accepted"
run remove-server web "$RS1"
expect "$RS2=2 $RS3=4 " "$RS2=2 $RS3=4,runtime " "remove-server web rs1"
ctl remove-server web "$RS1" >/dev/null 2>&1 && fail "removing rs1 twice was accepted"
run weight web "$RS2" 9
expect "$RS2=9 $RS3=4 " "$RS2=9 $RS3=4,runtime " "weight web rs2 9"

step "reload: runtime adds/removes end, operator overrides stay"
run reload
expect "$RS1=1 $RS2=9 " "$RS1=1 $RS2=9 " "reload of the unchanged file"
result commands=7 reload_drops_runtime=yes reload_keeps_overrides=yes
