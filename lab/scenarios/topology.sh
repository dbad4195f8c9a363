# lab-description: the lab itself: topology, addressing, real-server services
# lab-timeout: 120
#
# Proves the helpers every other scenario stands on: the full topology with
# two clients, two directors and three real servers comes up; each side can
# reach the other over IPv4 and IPv6 through the router; every real server's
# HTTP, echo and UDP services answer with their own name; each director has
# its own, empty IPVS table (IPVS state is per network namespace).

topo_create --clients 2 --directors 2 --servers 3
for rs in $LAB_SERVERS; do rs_serve "$rs"; done

step "reachability (IPv4 and IPv6, through rtr)"
for from in client client2 dir1 dir2; do
  for rs in $LAB_SERVERS; do
    nsx "$from" ping -c 1 -W 2 "$(lan_ip "$rs")" >/dev/null || fail "$from cannot ping $rs ($(lan_ip "$rs"))"
    nsx "$from" ping6 -c 1 -W 2 "$(lan_ip6 "$rs")" >/dev/null || fail "$from cannot ping6 $rs ($(lan_ip6 "$rs"))"
  done
done
log "ok: clients and directors reach every real server"

step "each real server's services name it"
for rs in $LAB_SERVERS; do
  for port in 80 443 8080; do
    http_count client "$(lan_ip "$rs"):$port" 2 || fail "HTTP $rs:$port failed"
    expect_eq "$(the_server)" "$rs" "server answering $(lan_ip "$rs"):$port"
  done
  http_count client "[$(lan_ip6 "$rs")]:80" 2 || fail "HTTP over IPv6 to $rs failed"
  expect_eq "$(the_server)" "$rs" "server answering [$(lan_ip6 "$rs")]:80"
  http_count client "$(lan_ip "$rs"):53" 2 --udp || fail "UDP to $rs failed"
  expect_eq "$(the_server)" "$rs" "server answering udp $(lan_ip "$rs"):53"
  out=$(nsx client labnet echo "$(lan_ip "$rs"):7" -n 3 --interval-ms 0) || fail "echo to $rs failed: $out"
  expect_eq "$(echo "$out" | awk '$1 == "server" { print $2 }')" "$rs" "echo service greeting"
done

step "per-namespace IPVS tables"
ipvs dir1 -A -t "$VIP:80" -s rr
[ "$(ns dir1 ipvsadm -Ln | grep -c "^TCP  $VIP:80")" = 1 ] || fail "service missing in dir1"
[ "$(ns dir2 ipvsadm -Ln | grep -c '^TCP')" = 0 ] || fail "dir1's service is visible in dir2"
ipvs dir1 -D -t "$VIP:80"
log "ok: dir1 and dir2 have separate IPVS tables"

step "programs from build/bin (if any) find all their libraries in the guest"
n=0
for p in /usr/local/bin/*; do
  [ -f "$p" ] && [ "$(head -c 4 "$p" | tail -c 3)" = ELF ] || continue
  out=$(/usr/lib64/ld-linux-x86-64.so.2 --list "$p" 2>&1)
  case $out in *"not a dynamic executable"*) n=$((n + 1)); continue ;; esac
  echo "$out" | grep -q 'not found' && fail "$p: missing libraries: $(echo "$out" | grep 'not found' | tr -s ' \t\n' ' ')"
  n=$((n + 1))
done
log "ok: $n program(s) from build/bin: $(ls /usr/local/bin | tr '\n' ' ')"

step "the reference tools load: Debian's keepalived checks a virtual_server config, nft lists"
cat >"$LAB_STATE/keepalived.conf" <<EOF2
virtual_server $VIP 80 {
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server $(lan_ip rs1) 80 {
    TCP_CHECK {
      connect_timeout 1
    }
  }
}
EOF2
out=$(ns dir1 keepalived --config-test -f "$LAB_STATE/keepalived.conf" 2>&1) ||
  fail "keepalived --config-test failed: $out"
out=$(ns dir1 nft list ruleset 2>&1) || fail "nft list ruleset failed: $out"
log "ok: keepalived and nft run"
