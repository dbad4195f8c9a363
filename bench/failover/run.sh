#!/usr/bin/env bash
# Failover benchmark (issue 5): lvsd against Debian's keepalived in host
# network namespaces. Run by hand, as root, after a build:
#   bench/failover/run.sh [--trials N] [--fast-trials N] [--soak-seconds S]
#                         [--soak-links 1|2] [--phases 1,2,3]
# Phases (same topology: directors a and b and a client c on a bridge, plus
# a crossover a:eth1 <-> b:eth1 for the soak):
#  1. N trials each of lvsd (NATIVE) and keepalived (VRRPv3), 100 ms
#     adverts, priorities 150/100: time from `kill -9` of the master to the
#     VIP answering ARP from the client with the backup's MAC (arp_probe
#     kills and probes every 1 ms). Also lvsd in VRRP3 mode, for reference.
#  2. lvsd at 10 ms × 3 (SCHED_FIFO heartbeat thread): N trials, p99.
#  3. Soak at 10 ms × 3 with 2% loss on the heartbeat link(s) and every core
#     busy: transitions after start-up must be zero.
# Loss uses netem when the kernel has it, else an nftables numgen rule that
# drops the same 2% of heartbeat packets (this host's kernel has no netem).
# Prints RESULT lines per phase and a final combined RESULT line.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${LVSD_BUILD_DIR:-$ROOT/build}
LVSD=${LVSD:-$BUILD/bin/lvsd}
PROBE=${ARP_PROBE:-$BUILD/bench/arp_probe}
TRIALS=20
FAST_TRIALS=30
SOAK_SECONDS=300
SOAK_LINKS=2
PHASES=1,2,3
while [ $# -gt 0 ]; do
  case $1 in
    --trials) TRIALS=$2; shift 2 ;;
    --fast-trials) FAST_TRIALS=$2; shift 2 ;;
    --soak-seconds) SOAK_SECONDS=$2; shift 2 ;;
    --soak-links) SOAK_LINKS=$2; shift 2 ;;
    --phases) PHASES=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "run as root (network namespaces)" >&2; exit 2; }
for f in "$LVSD" "$PROBE"; do [ -x "$f" ] || { echo "missing $f (build lvsd arp_probe)" >&2; exit 2; }; done
command -v keepalived >/dev/null || { echo "keepalived is not installed" >&2; exit 2; }

P=lvfb$$
DIR=$(mktemp -d /tmp/$P.XXXX)
VIP=10.77.0.100
KEY=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
PIDS=()

cleanup() {
  set +e
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
  for n in a b c sw; do ip netns del "$P-$n" 2>/dev/null; done
  [ -n "${KEEP_DIR:-}" ] || rm -rf "$DIR"
}
trap cleanup EXIT

log() { printf '%s %s\n' "$(date +%T)" "$*" >&2; }
nsx() { local n=$1; shift; ip netns exec "$P-$n" "$@"; }

setup() {
  ip netns add "$P-sw"
  ip -n "$P-sw" link add br0 type bridge
  ip -n "$P-sw" link set br0 up
  local i=1
  for n in a b c; do
    ip netns add "$P-$n"
    ip -n "$P-$n" link set lo up
    ip link add eth0 netns "$P-$n" type veth peer name "${n}0" netns "$P-sw"
    ip -n "$P-sw" link set "${n}0" master br0 up
    ip -n "$P-$n" addr add "10.77.0.$i/24" dev eth0
    ip -n "$P-$n" link set eth0 up
    i=$((i + 1))
  done
  ip link add eth1 netns "$P-a" type veth peer name eth1 netns "$P-b"
  ip -n "$P-a" addr add 10.78.0.1/24 dev eth1
  ip -n "$P-b" addr add 10.78.0.2/24 dev eth1
  ip -n "$P-a" link set eth1 up
  ip -n "$P-b" link set eth1 up
}

has_vip() { ip -n "$P-$1" -o addr show dev eth0 | grep -q " $VIP/"; }
mac_of() { nsx "$1" cat /sys/class/net/eth0/address; }

# wait_until SECONDS COMMAND...
wait_until() {
  local limit=$1; shift
  local end=$((SECONDS + limit))
  until "$@"; do
    [ $SECONDS -lt $end ] || return 1
    sleep 0.02
  done
}
a_master() { has_vip a && ! has_vip b; }

# lvsd_config PROTOCOL INTERVAL_MS RT_PRIO LINKS
lvsd_config() {
  local proto=$1 iv=$2 rt=$3 links=$4
  local xa="" xb="" xl=""
  if [ "$links" = 2 ]; then
    xa=' address { link: "xover" address: "10.78.0.1" }'
    xb=' address { link: "xover" address: "10.78.0.2" }'
    xl=' link { name: "xover" interface: "eth1" }'
  fi
  local key=""
  [ "$proto" = NATIVE ] && key=" key { id: 1 secret_hex: \"$KEY\" }"
  cat <<EOF
director { name: "a" priority: 150 address { link: "lan" address: "10.77.0.1" }$xa }
director { name: "b" priority: 100 address { link: "lan" address: "10.77.0.2" }$xb }
heartbeat { protocol: $proto interval_ms: $iv dead_count: 3 realtime_priority: $rt
  link { name: "lan" interface: "eth0" }$xl$key }
instance { name: "web" vrid: 51 vip_group: "web" }
vip_group { name: "web" vip { address: "$VIP/24" interface: "eth0" }
  announce { repeat: 3 interval_ms: 50 } }
control { socket: "$DIR/run/lvsd.sock" }
ipvs { backend: DRY_RUN }
EOF
}

LVSD_PID=""
# Both directors read the same file; its control socket DIR/run/lvsd.sock is
# a private bind mount of DIR/NAME in each one's own mount namespace.
start_lvsd() {  # NAME
  local n=$1
  mkdir -p "$DIR/run" "$DIR/$n"
  ip netns exec "$P-$n" unshare -m sh -c 'mount --bind "$1" "$2" && shift 2 && exec "$@"' sh \
    "$DIR/$n" "$DIR/run" "$LVSD" -f "$DIR/lvsd.conf" -n "$n" --foreground >>"$DIR/$n.log" 2>&1 &
  LVSD_PID=$!
  PIDS+=("$LVSD_PID")
}

KA_PARENT="" KA_VRRP=""
start_keepalived() {  # NAME PRIORITY
  local n=$1 prio=$2
  cat >"$DIR/ka-$n.conf" <<EOF
global_defs {
  router_id ka-$n
  vrrp_version 3
  script_user root
  enable_script_security
}
vrrp_instance web {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority $prio
  advert_int 0.1
  virtual_ipaddress {
    $VIP/24
  }
}
EOF
  rm -f "$DIR/ka-$n.vpid"
  ip netns exec "$P-$n" keepalived -n -l -P -R -f "$DIR/ka-$n.conf" -p "$DIR/ka-$n.pid" \
    -r "$DIR/ka-$n.vpid" >>"$DIR/ka-$n.log" 2>&1 &
  KA_PARENT=$!
  PIDS+=("$KA_PARENT")
  wait_until 5 test -s "$DIR/ka-$n.vpid"
  KA_VRRP=$(cat "$DIR/ka-$n.vpid")
  PIDS+=("$KA_VRRP")
}

probe() {  # PIDS(comma) -> ms on stdout
  nsx c "$PROBE" --dev eth0 --src 10.77.0.3 --vip "$VIP" --want-mac "$MAC_B" --kill "$1" \
    --interval-us 1000 --timeout-ms 5000 --rt 90 | tee -a "$DIR/probe.log" | sed -n 's/^ms=\([0-9.]*\).*/\1/p'
}

# stats FILE -> "p50 p99 min max" (nearest-rank percentiles)
stats() {
  sort -n "$1" | awk '{v[NR]=$1} END {
    if (NR == 0) { print "nan nan nan nan"; exit }
    i50 = int((NR * 50 + 99) / 100); i99 = int((NR * 99 + 99) / 100);
    printf "%.1f %.1f %.1f %.1f\n", v[i50], v[i99], v[1], v[NR] }'
}

# trials_lvsd PROTOCOL INTERVAL_MS RT N OUTFILE
trials_lvsd() {
  local proto=$1 iv=$2 rt=$3 n=$4 out=$5
  lvsd_config "$proto" "$iv" "$rt" 1 >"$DIR/lvsd.conf"
  : >"$out"
  start_lvsd b
  local pid_b=$LVSD_PID
  for t in $(seq 1 "$n"); do
    start_lvsd a
    local pid_a=$LVSD_PID
    wait_until 10 a_master || { log "a did not become master"; tail -5 "$DIR/a.log" >&2; exit 1; }
    sleep 0.5  # let b hear a few adverts
    local ms
    ms=$(probe "$pid_a")
    [ -n "$ms" ] || { log "trial $t: no answer from b"; exit 1; }
    echo "$ms" >>"$out"
    wait "$pid_a" 2>/dev/null || true
    log "$proto ${iv}ms trial $t: $ms ms"
  done
  kill -TERM "$pid_b" || true; wait "$pid_b" 2>/dev/null || true
  # The killed a left its VIP behind (as a crashed host would).
  ip -n "$P-a" addr del "$VIP/24" dev eth0 2>/dev/null || true
  ip -n "$P-b" addr del "$VIP/24" dev eth0 2>/dev/null || true
}

trials_keepalived() {  # N OUTFILE
  local n=$1 out=$2
  : >"$out"
  start_keepalived b 100
  local b_parent=$KA_PARENT
  for t in $(seq 1 "$n"); do
    start_keepalived a 150
    local a_parent=$KA_PARENT a_vrrp=$KA_VRRP
    wait_until 10 a_master || { log "keepalived a did not become master"; tail -5 "$DIR/ka-a.log" >&2; exit 1; }
    sleep 0.5
    local ms
    ms=$(probe "$a_vrrp")
    [ -n "$ms" ] || { log "trial $t: no answer from keepalived b"; exit 1; }
    echo "$ms" >>"$out"
    kill -9 "$a_parent" 2>/dev/null || true; wait "$a_parent" 2>/dev/null || true
    log "keepalived trial $t: $ms ms"
  done
  kill -TERM "$b_parent" || true; wait "$b_parent" 2>/dev/null || true
  ip -n "$P-a" addr del "$VIP/24" dev eth0 2>/dev/null || true
  ip -n "$P-b" addr del "$VIP/24" dev eth0 2>/dev/null || true
}

# loss_on NS DEV PERCENT
loss_on() {
  local n=$1 dev=$2 pct=$3
  if nsx "$n" tc qdisc add dev "$dev" root netem loss "${pct}%" 2>/dev/null; then
    LOSS_METHOD=netem
    return
  fi
  LOSS_METHOD=nft-numgen
  nsx "$n" nft -f - <<EOF
table inet hbloss {
  chain out { type filter hook output priority 0; oifname "$dev" udp dport 5405 numgen random mod 100 < $pct drop; }
}
EOF
}

soak() {  # SECONDS LINKS
  local secs=$1 links=$2
  lvsd_config NATIVE 10 50 "$links" >"$DIR/lvsd.conf"
  : >"$DIR/a.log"; : >"$DIR/b.log"
  start_lvsd a; local pa=$LVSD_PID
  start_lvsd b; local pb=$LVSD_PID
  wait_until 10 a_master
  sleep 1
  for n in a b; do
    loss_on "$n" eth0 2
    [ "$links" = 2 ] && loss_on "$n" eth1 2
  done
  local before
  before=$(cat "$DIR/a.log" "$DIR/b.log" | grep -c 'heartbeat: instance=.* -> ' || true)
  local spinners=()
  for _ in $(seq 1 "$(nproc)"); do
    sh -c 'while :; do :; done' &
    spinners+=($!)
    PIDS+=($!)
  done
  log "soak: ${secs}s, 10 ms x 3, 2% loss ($LOSS_METHOD) on $links heartbeat link(s), $(nproc) spinners"
  sleep "$secs"
  for s in "${spinners[@]}"; do kill -9 "$s" 2>/dev/null; done
  local after
  after=$(cat "$DIR/a.log" "$DIR/b.log" | grep -c 'heartbeat: instance=.* -> ' || true)
  SOAK_FALSE=$((after - before))
  SOAK_LATE=$(grep -h 'late in the last' "$DIR/a.log" "$DIR/b.log" | tail -3 || true)
  grep -h 'heartbeat: instance=.* -> ' "$DIR/a.log" "$DIR/b.log" | tail -n +$((before + 1)) >&2 || true
  kill -TERM "$pa" "$pb" || true; wait "$pa" "$pb" 2>/dev/null || true
}

phase() { [[ ",$PHASES," == *",$1,"* ]]; }

setup
MAC_B=$(mac_of b)
L50=- L99=- K50=- RATIO=- F99=- SOAK_FALSE=-

if phase 1; then
  log "phase 1: $TRIALS trials each at 100 ms"
  trials_lvsd NATIVE 100 0 "$TRIALS" "$DIR/lvsd.ms"
  trials_keepalived "$TRIALS" "$DIR/ka.ms"
  trials_lvsd VRRP3 100 0 "$TRIALS" "$DIR/lvsd-vrrp.ms"
  read -r L50 L99 LMIN LMAX < <(stats "$DIR/lvsd.ms")
  read -r K50 K99 KMIN KMAX < <(stats "$DIR/ka.ms")
  read -r V50 V99 _ _ < <(stats "$DIR/lvsd-vrrp.ms")
  RATIO=$(awk -v a="$L50" -v b="$K50" 'BEGIN { printf "%.2f", a / b }')
  echo "RESULT lvsd_ms_p50=$L50 lvsd_ms_p99=$L99 lvsd_ms_min=$LMIN lvsd_ms_max=$LMAX keepalived_ms_p50=$K50 keepalived_ms_p99=$K99 keepalived_ms_min=$KMIN keepalived_ms_max=$KMAX ratio_p50=$RATIO lvsd_vrrp3_ms_p50=$V50 lvsd_vrrp3_ms_p99=$V99 trials=$TRIALS"
fi

if phase 2; then
  log "phase 2: $FAST_TRIALS trials at 10 ms x 3"
  trials_lvsd NATIVE 10 50 "$FAST_TRIALS" "$DIR/fast.ms"
  read -r F50 F99 FMIN FMAX < <(stats "$DIR/fast.ms")
  echo "RESULT fast_interval_ms=10 fast_ms_p50=$F50 fast_ms_p99=$F99 fast_ms_max=$FMAX fast_trials=$FAST_TRIALS"
fi

if phase 3; then
  soak "$SOAK_SECONDS" "$SOAK_LINKS"
  echo "RESULT soak_false_transitions=$SOAK_FALSE soak_seconds=$SOAK_SECONDS soak_links=$SOAK_LINKS loss=2% loss_method=$LOSS_METHOD"
  [ -z "$SOAK_LATE" ] || log "loop lateness warnings during soak: $SOAK_LATE"
fi

echo "RESULT lvsd_ms_p50=$L50 lvsd_ms_p99=$L99 keepalived_ms_p50=$K50 ratio_p50=$RATIO fast_ms_p99=$F99 soak_false_transitions=$SOAK_FALSE"
