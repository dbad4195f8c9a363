# shellcheck shell=sh
# Lab helpers, sourced by every scenario (busybox sh). Everything a scenario
# builds lives in network namespaces; /init kills all processes and deletes
# all namespaces between scenarios, so scenarios never see each other.
#
# Topology (topo_create):
#
#   client, client2, ...            WAN 10.0.0.0/24, fd00:0:0:a::/64
#        | eth0                      bridge "wan" (namespace "sw")
#   -----+------------+-----------+-------------
#        | eth0       | eth0      | eth0
#      dir1         dir2        rtr (plain router, .1 / .254)
#        | eth1       | eth1      | eth1
#   -----+------------+-----------+-------------
#        | eth0                      bridge "lan" (namespace "sw")
#   rs1, rs2, ...                   LAN 10.1.0.0/24, fd00:0:0:b::/64
#
#   client N: 10.0.0.(10+N)  (client = client1 = .11)   dirN: WAN .(1+N), LAN .(1+N)
#   rsN:      10.1.0.(100+N)                            rtr:  WAN .1,   LAN .254
#   VIP 10.0.0.100, VIP2 .101, VIP3 .102 (WAN side, added to a director by dir_vip)
#   LAN_GW 10.1.0.1: the NAT real servers' gateway, added to a director by dir_nat_gw
#   IPv6: the same host numbers in fd00:0:0:a::/64 (WAN) and fd00:0:0:b::/64 (LAN).
#
# Conventions: helpers that must not fail call fail() themselves, so a
# scenario reads as a list of steps. fail() records the reason and exits.

LAB_STATE=/tmp/lab

# Real programs that share a busybox applet's name (see /init).
LAB_IPROUTE=/usr/bin/ip
for _f in /etc/lab-shadow /lab/shadow; do
  [ -f "$_f" ] || continue
  while read -r _name _path; do
    eval "$_name() { $_path \"\$@\"; }"
    [ "$_name" = ip ] && LAB_IPROUTE=$_path
  done <"$_f"
done
LAB_WAN=10.0.0
LAB_LAN=10.1.0
LAB_WAN6=fd00:0:0:a:
LAB_LAN6=fd00:0:0:b:
VIP=10.0.0.100
VIP2=10.0.0.101
VIP3=10.0.0.102
VIP6=fd00:0:0:a::100
LAN_GW=10.1.0.1
LAN_GW6=fd00:0:0:b::1
RTR_WAN=10.0.0.1
RTR_LAN=10.1.0.254

# ---------------------------------------------------------------- reporting

log() { echo "lab: $*"; }

# step DESCRIPTION: announce a step; a timeout report names the last one.
step() {
  mkdir -p "$LAB_STATE"
  echo "$*" >"$LAB_STATE/last-step"
  echo "lab: -- [$(lab_uptime)] $*"
}

# fail REASON: the scenario fails with REASON (first call wins), diagnostics
# are printed, and the scenario stops - also when fail runs in a subshell
# such as x=$(the_server): then the scenario's main shell is terminated.
fail() {
  mkdir -p "$LAB_STATE"
  if [ ! -f "$LAB_STATE/fail-reason" ]; then
    echo "$*" >"$LAB_STATE/fail-reason"
    echo "lab: FAILED: $*" >&2
    lab_debug_dump >&2
  fi
  read -r _self _ </proc/self/stat
  [ "$_self" != "$$" ] && kill -TERM "$$" 2>/dev/null
  exit 1
}

# result key=value...: a machine-readable measurement; the host collects these.
result() { echo "RESULT $*"; }

# must CMD...: run CMD, fail the scenario (showing its output) if it fails.
must() {
  _out=$("$@" 2>&1)
  _rc=$?
  [ -n "$_out" ] && echo "$_out"
  [ "$_rc" = 0 ] || fail "command failed (status $_rc): $* -- $(echo "$_out" | tail -n 3 | tr '\n' ' ')"
}

lab_debug_dump() {
  echo "lab: ---- diagnostics"
  for _ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
    _svc=$(ip netns exec "$_ns" ipvsadm -Ln --stats 2>/dev/null)
    if echo "$_svc" | grep -q -E '^(TCP|UDP|SCTP|FWM)'; then
      echo "lab: ipvsadm -Ln --stats in $_ns:"
      echo "$_svc"
      echo "lab: ipvsadm -Lnc in $_ns (first 20):"
      ip netns exec "$_ns" ipvsadm -Lnc 2>/dev/null | head -n 21
    fi
  done
  for _f in "$LAB_STATE"/*.log; do
    [ -f "$_f" ] || continue
    echo "lab: tail of ${_f##*/}:"
    tail -n 10 "$_f"
  done
  echo "lab: ---- end of diagnostics"
}

# ---------------------------------------------------------------- time

lab_uptime() {
  read -r _up _ </proc/uptime
  echo "$_up"
}
lab_uptime_cs() { # centiseconds since boot
  read -r _up _ </proc/uptime
  _frac=${_up#*.}
  _frac=${_frac#0}
  echo $((${_up%.*} * 100 + _frac))
}
lab_cs_to_s() { printf '%d.%02d' $(($1 / 100)) $(($1 % 100)); }

# wait_for SECONDS DESCRIPTION CMD...: poll CMD every 0.1 s until it succeeds;
# fail the scenario if it has not after SECONDS.
wait_for() {
  _wf_limit=$1
  _wf_desc=$2
  shift 2
  _wf_end=$(($(lab_uptime_cs) + _wf_limit * 100))
  while :; do
    "$@" >/dev/null 2>&1 && return 0
    [ "$(lab_uptime_cs)" -ge "$_wf_end" ] && fail "timed out after ${_wf_limit}s waiting for $_wf_desc"
    sleep 0.1
  done
}

# ---------------------------------------------------------------- namespaces

# ns NODE CMD...: run CMD in NODE's network namespace (ip netns exec, so
# /etc/netns/NODE/* is bind-mounted over /etc for per-node config files).
ns() {
  _ns=$1
  shift
  ip netns exec "$_ns" "$@"
}

# nsx NODE CMD...: CMD in NODE's network namespace only (busybox nsenter):
# cheaper than ns, for the helpers' own commands. CMD must not share a
# busybox applet's name (nsenter would run the applet): use full paths.
nsx() {
  _nsx=$1
  shift
  nsenter --net="/run/netns/$_nsx" "$@"
}

# ipvs NODE ARGS...: Debian's ipvsadm in NODE; fails the scenario on error.
ipvs() {
  _node=$1
  shift
  must nsx "$_node" ipvsadm "$@"
}

lab_host_number() { # NODE -> host number on its WAN (w) or LAN (l) side
  case $1 in
  client) echo 11 ;;
  client[0-9] | client[0-9][0-9]) echo $((10 + ${1#client})) ;;
  dir[0-9]) echo $((1 + ${1#dir})) ;;
  rs[0-9] | rs[0-9][0-9]) echo $((100 + ${1#rs})) ;;
  rtr) [ "$2" = l ] && echo 254 || echo 1 ;;
  *) return 1 ;;
  esac
}
wan_ip() { echo "$LAB_WAN.$(lab_host_number "$1" w)"; }
lan_ip() { echo "$LAB_LAN.$(lab_host_number "$1" l)"; }
wan_ip6() { echo "${LAB_WAN6}:$(lab_host_number "$1" w)"; }
lan_ip6() { echo "${LAB_LAN6}:$(lab_host_number "$1" l)"; }

lab_hosts_file() {
  echo "127.0.0.1 localhost lab"
  echo "$RTR_WAN rtr"
  echo "$VIP vip"
  for _i in 1 2 3 4 5 6 7 8 9; do
    [ "$_i" = 1 ] && echo "$LAB_WAN.11 client client1" || echo "$LAB_WAN.$((10 + _i)) client$_i"
  done
  for _i in 1 2 3 4; do echo "$LAB_LAN.$((1 + _i)) dir$_i"; done
  for _i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do echo "$LAB_LAN.$((100 + _i)) rs$_i"; done
}

# lab_node NAME...: new namespaces with lo up. They inherit the root
# namespace's interface defaults (/init sets net.core.devconf_inherit_init_net
# = 1 after turning off IPv6 DAD and ICMP redirects), so addresses are usable
# at once and nothing is redirected.
lab_node() {
  printf 'netns add %s\n' "$@" | ip -b - || fail "ip netns add $* failed"
  for _n in "$@"; do
    ip -n "$_n" link set lo up || fail "lo up in $_n failed"
  done
}

# Enable IPv4/IPv6 forwarding in NODE.
lab_forwarding() {
  nsenter --net="/run/netns/$1" sh -c '
    echo 1 >/proc/sys/net/ipv4/ip_forward
    echo 1 >/proc/sys/net/ipv6/conf/all/forwarding' || fail "enabling forwarding in $1 failed"
}

# sysctl_ns NODE key=value...: write sysctls inside NODE (one process).
sysctl_ns() {
  _node=$1
  shift
  _script=
  for _kv in "$@"; do
    _k=${_kv%%=*}
    _script="$_script echo '${_kv#*=}' >/proc/sys/${_k//.//} || exit 1;"
  done
  nsx "$_node" sh -c "$_script" || fail "sysctl $* in $_node failed"
}

# topo_create [--clients N] [--directors N] [--servers N]
# Builds the topology drawn at the top of this file. Defaults: 1 client,
# 1 director, 2 real servers. Real servers start with their default route via
# rtr (DR/TUN); rs_nat points it at the director instead.
topo_create() {
  _nc=1
  _nd=1
  _nr=2
  while [ $# -gt 0 ]; do
    case $1 in
    --clients) _nc=$2 ;;
    --directors) _nd=$2 ;;
    --servers) _nr=$2 ;;
    *) fail "topo_create: unknown option $1" ;;
    esac
    shift 2
  done
  [ "$_nc" -ge 1 ] && [ "$_nc" -le 9 ] || fail "topo_create: 1..9 clients"
  [ "$_nd" -ge 0 ] && [ "$_nd" -le 4 ] || fail "topo_create: 0..4 directors"
  [ "$_nr" -ge 0 ] && [ "$_nr" -le 16 ] || fail "topo_create: 0..16 real servers"
  step "topology: $_nc client(s), $_nd director(s), $_nr real server(s)"

  LAB_CLIENTS=client
  _i=2
  while [ "$_i" -le "$_nc" ]; do LAB_CLIENTS="$LAB_CLIENTS client$_i"; _i=$((_i + 1)); done
  LAB_DIRECTORS=
  _i=1
  while [ "$_i" -le "$_nd" ]; do LAB_DIRECTORS="$LAB_DIRECTORS dir$_i"; _i=$((_i + 1)); done
  LAB_SERVERS=
  _i=1
  while [ "$_i" -le "$_nr" ]; do LAB_SERVERS="$LAB_SERVERS rs$_i"; _i=$((_i + 1)); done

  # Every node with its links: NODE:IF:BRIDGE ...
  _links=
  _nodes=
  for _n in $LAB_CLIENTS; do _nodes="$_nodes $_n"; _links="$_links $_n:eth0:wan"; done
  for _n in $LAB_DIRECTORS; do _nodes="$_nodes $_n"; _links="$_links $_n:eth0:wan $_n:eth1:lan"; done
  _nodes="$_nodes rtr"
  _links="$_links rtr:eth0:wan rtr:eth1:lan"
  for _n in $LAB_SERVERS; do _nodes="$_nodes $_n"; _links="$_links $_n:eth0:lan"; done
  # shellcheck disable=SC2086
  printf 'netns add %s\n' sw $_nodes | ip -b - || fail "creating the namespaces failed"

  _root=
  _sw="link add wan type bridge stp_state 0 forward_delay 0
link add lan type bridge stp_state 0 forward_delay 0
link set wan up
link set lan up
"
  for _l in $_links; do
    _n=${_l%%:*}
    _r=${_l#*:}
    _if=${_r%%:*}
    _br=${_r#*:}
    _root="${_root}link add $_n-$_if netns sw type veth peer name $_if netns $_n
"
    _sw="${_sw}link set $_n-$_if master $_br up
"
  done
  printf '%s' "$_root" | ip -b - || fail "creating the veth pairs failed"
  printf '%s' "$_sw" | ip -n sw -b - || fail "creating the bridges failed"

  for _n in $_nodes; do
    _cmds="link set lo up"
    case $_n in
    client*)
      _cmds="$_cmds
link set eth0 up
addr add $(wan_ip "$_n")/24 dev eth0
addr add $(wan_ip6 "$_n")/64 dev eth0 nodad
route add default via $RTR_WAN
route add default via ${LAB_WAN6}:1" ;;
    dir*)
      _cmds="$_cmds
link set eth0 up
link set eth1 up
addr add $(wan_ip "$_n")/24 dev eth0
addr add $(wan_ip6 "$_n")/64 dev eth0 nodad
addr add $(lan_ip "$_n")/24 dev eth1
addr add $(lan_ip6 "$_n")/64 dev eth1 nodad
route add default via $RTR_WAN
route add default via ${LAB_WAN6}:1" ;;
    rtr)
      _cmds="$_cmds
link set eth0 up
link set eth1 up
addr add $RTR_WAN/24 dev eth0
addr add ${LAB_WAN6}:1/64 dev eth0 nodad
addr add $RTR_LAN/24 dev eth1
addr add ${LAB_LAN6}:254/64 dev eth1 nodad" ;;
    rs*)
      _cmds="$_cmds
link set eth0 up
addr add $(lan_ip "$_n")/24 dev eth0
addr add $(lan_ip6 "$_n")/64 dev eth0 nodad
route add default via $RTR_LAN
route add default via ${LAB_LAN6}:254" ;;
    esac
    printf '%s\n' "$_cmds" | ip -n "$_n" -b - || fail "configuring $_n failed"
  done
  for _n in $LAB_DIRECTORS rtr; do lab_forwarding "$_n"; done
  # rtr forwards the DR/TUN replies (source: the VIP, which lives on the WAN
  # side) from the LAN to the WAN: no reverse-path filter there.
  sysctl_ns rtr net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.eth1.rp_filter=0
}

# ---------------------------------------------------------------- directors

# dir_vip DIR ADDR [DEV]: add a VIP (/32 or /128) to DIR (default dev eth0).
dir_vip() {
  case $2 in
  *:*) must ip -n "$1" addr add "$2/128" dev "${3:-eth0}" nodad ;;
  *) must ip -n "$1" addr add "$2/32" dev "${3:-eth0}" ;;
  esac
}

# vip_holders ADDR NODE...: the NODEs whose eth0 is up and holds ADDR (a
# director whose links were cut keeps its addresses on a down device: that
# is not holding the VIP).
vip_holders() {
  _vh_addr=$1
  shift
  for _vh in "$@"; do
    ip -n "$_vh" addr show dev eth0 up 2>/dev/null | grep -q " $_vh_addr/" && echo "$_vh"
  done
}

# lvsd_pair_conf [HEARTBEAT_FIELDS]: what two-director lvsd scenarios share:
# dir1 (priority 150) and dir2 (100) on the LAN, authenticated native
# heartbeats on eth1 (default fields: 200 ms x 3), and instance "web" holding
# vip_group "web" (the scenario defines the group and its services).
lvsd_pair_conf() {
  cat <<CONF
director { name: "dir1" priority: 150 address { link: "lan" address: "$(lan_ip dir1)" } }
director { name: "dir2" priority: 100 address { link: "lan" address: "$(lan_ip dir2)" } }
heartbeat {
  ${1:-interval_ms: 200 dead_count: 3 failover_limit_ms: 2000}
  link { name: "lan" interface: "eth1" }
  key { id: 1 secret_hex: "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff" }
}
instance { name: "web" vrid: 51 vip_group: "web" }
CONF
}

# lvsd_director NODE [ARGS...]: lvsd on NODE from $LAB_STATE/lvsd.conf, the
# file every director shares (one file, one config digest); its control
# socket is /run/lvsd-NODE.sock (-s). lvsctl_at NODE ARGS...: lvsctl there.
lvsd_director() {
  _ld=$1
  shift
  lvsd_start "$_ld" -f "$LAB_STATE/lvsd.conf" --foreground -n "$_ld" -s "/run/lvsd-$_ld.sock" "$@"
}
lvsctl_at() {
  _lc=$1
  shift
  ns "$_lc" lvsctl -s "/run/lvsd-$_lc.sock" "$@"
}

# dir_nat_gw DIR: DIR becomes the NAT real servers' gateway (LAN_GW on eth1).
dir_nat_gw() {
  must ip -n "$1" addr add "$LAN_GW/24" dev eth1
  must ip -n "$1" addr add "$LAN_GW6/64" dev eth1 nodad
}

# ---------------------------------------------------------------- real servers

# rs_nat RS...: NAT real servers answer through the director (LAN_GW).
rs_nat() {
  for _rs in "$@"; do
    printf 'route replace default via %s\nroute replace default via %s\n' "$LAN_GW" "$LAN_GW6" |
      ip -n "$_rs" -b - || fail "default route of $_rs via $LAN_GW failed"
  done
}

lab_hide_vip_arp() { # arp_ignore=1, arp_announce=2 on lo, all, default, eth0
  sysctl_ns "$1" \
    net.ipv4.conf.lo.arp_ignore=1 net.ipv4.conf.lo.arp_announce=2 \
    net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 \
    net.ipv4.conf.default.arp_ignore=1 net.ipv4.conf.default.arp_announce=2 \
    net.ipv4.conf.eth0.arp_ignore=1 net.ipv4.conf.eth0.arp_announce=2
}

# rs_dr RS VIP...: direct routing: the VIP on lo (/32), never announced or
# answered in ARP; replies go straight to the client via rtr.
rs_dr() {
  _rs=$1
  shift
  lab_hide_vip_arp "$_rs"
  _cmds=
  for _v in "$@"; do
    case $_v in
    *:*) _cmds="${_cmds}addr add $_v/128 dev lo
" ;;
    *) _cmds="${_cmds}addr add $_v/32 dev lo
" ;;
    esac
  done
  [ -z "$_cmds" ] || printf '%s' "$_cmds" | ip -n "$_rs" -b - || fail "VIPs $* on lo of $_rs failed"
}

# rs_tun RS VIP...: IP-in-IP: the VIP on tunl0, reverse-path filter off (the
# inner source, the client, is not routed via tunl0); replies go via rtr.
rs_tun() {
  _rs=$1
  shift
  sysctl_ns "$_rs" \
    net.ipv4.conf.lo.arp_ignore=1 net.ipv4.conf.lo.arp_announce=2 \
    net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 \
    net.ipv4.conf.default.arp_ignore=1 net.ipv4.conf.default.arp_announce=2 \
    net.ipv4.conf.eth0.arp_ignore=1 net.ipv4.conf.eth0.arp_announce=2 \
    net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
    net.ipv4.conf.tunl0.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0
  _cmds="link set tunl0 up
"
  for _v in "$@"; do _cmds="${_cmds}addr add $_v/32 dev tunl0
"; done
  printf '%s' "$_cmds" | ip -n "$_rs" -b - || fail "VIPs $* on tunl0 of $_rs failed"
}

# rs_serve RS [labnet serve options]: start RS's services (default: HTTP on
# 80, 443 and 8080, echo on 7, UDP on 53) and wait until they listen. Every
# answer names the server ("rs1 port=80").
rs_serve() {
  _rs=$1
  shift
  [ $# -gt 0 ] || set -- --http 80 --http 443 --http 8080 --echo 7 --udp 53
  rm -f "$LAB_STATE/$_rs.ready"
  (exec nsenter --net="/run/netns/$_rs" labnet serve --name "$_rs" --ready-file "$LAB_STATE/$_rs.ready" "$@" \
    >"$LAB_STATE/$_rs-serve.log" 2>&1 </dev/null) &
  echo $! >"$LAB_STATE/$_rs-serve.pid"
  wait_for 10 "$_rs's server to listen" test -s "$LAB_STATE/$_rs.ready"
  kill -0 "$(cat "$LAB_STATE/$_rs-serve.pid")" 2>/dev/null || fail "$_rs's server exited: $(cat "$LAB_STATE/$_rs-serve.log")"
}

# ---------------------------------------------------------------- processes

# lab_bg TAG NODE CMD...: start CMD in NODE in the background; output goes to
# $LAB_STATE/TAG.log, the pid to $LAB_STATE/TAG.pid.
lab_bg() {
  _tag=$1
  _node=$2
  shift 2
  mkdir -p "$LAB_STATE"
  # exec, and by absolute path: $! must be the program itself, not a shell
  (exec "$LAB_IPROUTE" netns exec "$_node" "$@" >"$LAB_STATE/$_tag.log" 2>&1 </dev/null) &
  echo $! >"$LAB_STATE/$_tag.pid"
}

# lab_stop TAG: stop a lab_bg process (TERM, then KILL after 5 s).
lab_stop() {
  _pid=$(cat "$LAB_STATE/$1.pid" 2>/dev/null) || return 0
  kill "$_pid" 2>/dev/null || return 0
  _i=0
  while kill -0 "$_pid" 2>/dev/null && [ "$_i" -lt 50 ]; do sleep 0.1; _i=$((_i + 1)); done
  kill -KILL "$_pid" 2>/dev/null
  wait "$_pid" 2>/dev/null
  return 0
}

# lab_require PROGRAM: fail (never skip) when PROGRAM is not in the guest.
lab_require() {
  # a program file on $PATH: `command -v` would also accept the shell
  # functions of the same name defined here (lvsctl)
  _oifs=$IFS
  IFS=:
  for _d in $PATH; do
    if [ -f "$_d/$1" ] && [ -x "$_d/$1" ]; then
      IFS=$_oifs
      return 0
    fi
  done
  IFS=$_oifs
  fail "$1 is not in the guest image (build it into build/bin, then rerun lab/run)"
}

# lvsd_start NODE ARGS...: run lvsd in NODE's namespace (log: lvsd-NODE.log).
# Directors share one filesystem: give each its own config/socket/state
# paths, or put per-node files under /etc/netns/NODE/ (bind-mounted on /etc).
lvsd_start() {
  lab_require lvsd
  _node=$1
  shift
  lab_bg "lvsd-$_node" "$_node" lvsd "$@"
}
lvsd_stop() { lab_stop "lvsd-$1"; }
# lvsctl NODE ARGS...: lvsctl in NODE's namespace.
lvsctl() {
  lab_require lvsctl
  _node=$1
  shift
  ip netns exec "$_node" lvsctl "$@"
}

# ---------------------------------------------------------------- traffic

# http_count FROM TARGET N [labnet get options]: N sequential requests (each a
# new connection) from namespace FROM to TARGET (ADDR:PORT); the tally goes to
# $LAB_STATE/count (read it with count_of/errors_of/servers_of) and is logged.
# Returns labnet's status (non-zero if any request failed).
http_count() {
  _from=$1
  _to=$2
  _n=$3
  shift 3
  nsx "$_from" labnet get "$_to" -n "$_n" "$@" >"$LAB_STATE/count" 2>&1
  _rc=$?
  log "$_from -> $_to x$_n: $(awk '$1 == "server" { printf "%s=%s ", $2, $3 } $1 == "errors" { printf "errors=%s ", $2 } $1 == "elapsed_ms" { printf "(%s ms)", $2 }' "$LAB_STATE/count")"
  grep '^first-error' "$LAB_STATE/count" | sed 's/^/lab:   /'
  grep -q '^errors ' "$LAB_STATE/count" || cat "$LAB_STATE/count"
  return $_rc
}

count_of() { awk -v s="$1" '$1 == "server" && $2 == s { n = $3 } END { print n + 0 }' "${2:-$LAB_STATE/count}"; }
errors_of() { awk '$1 == "errors" { n = $2 } END { print n + 0 }' "${1:-$LAB_STATE/count}"; }
servers_of() { awk '$1 == "server" { printf "%s ", $2 }' "${1:-$LAB_STATE/count}"; }
total_of() { awk '$1 == "server" || $1 == "errors" { n += ($1 == "server") ? $3 : $2 } END { print n + 0 }' "${1:-$LAB_STATE/count}"; }

# expect_no_errors: the last http_count had no failed request.
expect_no_errors() {
  _e=$(errors_of "$1")
  [ "$_e" = 0 ] || fail "$_e request(s) failed: $(grep '^first-error' "${1:-$LAB_STATE/count}" | cut -d' ' -f2-)"
}

# expect_share SERVER NUM DEN TOLERANCE_PCT: SERVER answered NUM/DEN of the
# last http_count's requests, within +-TOLERANCE_PCT percent of that share.
expect_share() {
  _s=$1
  _num=$2
  _den=$3
  _tol=$4
  _c=$(count_of "$_s")
  _t=$(total_of)
  _diff=$((_c * _den - _t * _num))
  [ "$_diff" -lt 0 ] && _diff=$((-_diff))
  if [ $((_diff * 100)) -le $((_tol * _t * _num)) ]; then
    log "ok: $_s answered $_c of $_t (expected $_num/$_den +-$_tol%)"
  else
    fail "$_s answered $_c of $_t requests, expected $_num/$_den (+-$_tol%) = $((_t * _num / _den))"
  fi
}

# the_server: the one server that answered every request of the last
# http_count (fails if requests failed or several servers answered).
the_server() {
  expect_no_errors
  _ss=$(servers_of)
  set -- $_ss
  [ $# = 1 ] || fail "expected one server to answer all requests, got: $(awk '$1 == "server" { printf "%s=%s ", $2, $3 }' "$LAB_STATE/count")"
  echo "$1"
}

# expect_eq ACTUAL EXPECTED WHAT
expect_eq() {
  [ "$1" = "$2" ] || fail "$3: got '$1', expected '$2'"
  log "ok: $3 = $1"
}
# expect_ne A B WHAT
expect_ne() {
  [ "$1" != "$2" ] || fail "$3: both are '$1'"
  log "ok: $3 ('$1' vs '$2')"
}

# ---------------------------------------------------------------- kernel IPVS state

# ipvs_stat NODE SERVICE [REAL_SERVER] [COLUMN]: a counter from
# `ipvsadm -Ln --stats` in NODE: COLUMN (conns, inpkts, outpkts, inbytes,
# outbytes; default conns) of the service ("TCP 10.0.0.100:80", "FWM 1") or of
# one of its real servers ("10.1.0.101:80"). Prints nothing if absent.
ipvs_stat() {
  nsx "$1" ipvsadm -Ln --stats 2>/dev/null | awk -v svc="$2" -v rs="$3" -v col="${4:-conns}" '
    BEGIN { split("conns inpkts outpkts inbytes outbytes", names, " "); for (i in names) idx[names[i]] = i + 2 }
    $1 != "->" { cur = $1 " " $2; if (cur == svc && rs == "") { print $(idx[col]); exit } ; next }
    cur == svc && $2 == rs { print $(idx[col]); exit }'
}

# expect_ipvs_stat NODE SERVICE REAL_SERVER COLUMN OP VALUE WHAT: wait up to
# 5 s for an ipvs_stat counter to satisfy `[ counter OP VALUE ]` (OP: -eq,
# -ge, -gt, ...). The kernel publishes these counters from its estimator
# timer, every 2 s, so they lag the traffic: check a counter that must grow
# (conns) before trusting one that must stay 0 (outpkts for DR/TUN).
expect_ipvs_stat() {
  _es_end=$(($(lab_uptime_cs) + 500))
  while :; do
    _es_v=$(ipvs_stat "$1" "$2" "$3" "$4")
    if [ -n "$_es_v" ] && test "$_es_v" "$5" "$6"; then
      log "ok: $7: $_es_v ($5 $6)"
      return 0
    fi
    [ "$(lab_uptime_cs)" -ge "$_es_end" ] && fail "$7: IPVS reports '$_es_v', expected $5 $6"
    sleep 0.2
  done
}

# ipvs_active NODE SERVICE REAL_SERVER: ActiveConn of a real server (ipvsadm -Ln).
ipvs_active() {
  nsx "$1" ipvsadm -Ln 2>/dev/null | awk -v svc="$2" -v rs="$3" '
    $1 != "->" { cur = $1 " " $2; next }
    cur == svc && $2 == rs { print $5; exit }'
}

# ---------------------------------------------------------------- guest plumbing (used by /init)

lab_reset_state() {
  rm -rf "$LAB_STATE"
  mkdir -p "$LAB_STATE"
}

# Kill every process except PID 1, this shell, kernel threads and KEEP.
lab_kill_all_but() {
  _keep=$1
  _round=0
  while [ "$_round" -lt 50 ]; do
    _found=0
    for _p in /proc/[0-9]*; do
      _p=${_p#/proc/}
      case $_p in 1 | "$$" | "$_keep") continue ;; esac
      # kernel threads have no executable; zombies are reaped by wait below
      [ -e "/proc/$_p/exe" ] || continue
      kill -KILL "$_p" 2>/dev/null && _found=1
    done
    [ "$_found" = 0 ] && break
    sleep 0.05
    _round=$((_round + 1))
  done
}

# Remove everything a scenario may have left: namespaces (and with them their
# IPVS tables, links, nftables), root-namespace IPVS/nftables state, files.
lab_teardown() {
  ip -all netns delete 2>/dev/null
  ipvsadm -C 2>/dev/null
  nft flush ruleset 2>/dev/null
  rm -rf /etc/netns "$LAB_STATE"
}
