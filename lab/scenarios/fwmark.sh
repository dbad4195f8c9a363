# lab-description: firewall marks: ports 80 and 443 as one persistent service (nftables + -f)
# lab-timeout: 180
#
# The seeds' use of firewall marks: group HTTP and HTTPS into one virtual
# service so that, with persistence, a client's two protocols reach the same
# real server. Each real server answers on both ports with its name (DR).
#
# Control first (VIP): two separate persistent services, VIP:80 and VIP:443,
# each with its own rr position. client2 is sent to VIP:443 first, so
# client's 80 and 443 then start at different positions and land on
# different servers: per-port services do not group a client's ports.
# Then (VIP2): nftables in the director marks VIP2 tcp/80 and tcp/443 with
# mark 1, one persistent service -f 1 holds the real servers, and the same
# sequence keeps client's 80 and 443 on one server. An unmarked port of VIP2
# (8080, where the real servers also listen) must find no service at all.

topo_create --clients 2 --servers 3
dir_vip dir1 "$VIP"
dir_vip dir1 "$VIP2"
for rs in $LAB_SERVERS; do
  rs_dr "$rs" "$VIP" "$VIP2"
  rs_serve "$rs"
done

step "control: separate persistent services $VIP:80 and $VIP:443"
for port in 80 443; do
  ipvs dir1 -A -t "$VIP:$port" -s rr -p 300
  for rs in $LAB_SERVERS; do ipvs dir1 -a -t "$VIP:$port" -r "$(lan_ip "$rs")" -g; done
done
http_count client2 "$VIP:443" 1
the_server >/dev/null
http_count client "$VIP:80" 5
c80=$(the_server)
http_count client "$VIP:443" 5
c443=$(the_server)
expect_ne "$c80" "$c443" "client's servers for port 80 and 443 without a firewall mark"

step "nftables: mark $VIP2 tcp dport {80, 443} with 1"
must ns dir1 nft -f - <<EOF
table ip lvs {
  chain prerouting {
    type filter hook prerouting priority mangle; policy accept;
    ip daddr $VIP2 tcp dport { 80, 443 } meta mark set 1
  }
}
EOF
ns dir1 nft list ruleset

step "ipvsadm: -A -f 1 -s rr -p 300, three real servers, direct routing"
ipvs dir1 -A -f 1 -s rr -p 300
for rs in $LAB_SERVERS; do ipvs dir1 -a -f 1 -r "$(lan_ip "$rs")" -g; done
ns dir1 ipvsadm -Ln

step "same sequence on $VIP2: client's 80 and 443 share a server"
http_count client2 "$VIP2:443" 1
the_server >/dev/null
http_count client "$VIP2:80" 5
f80=$(the_server)
http_count client "$VIP2:443" 5
f443=$(the_server)
expect_eq "$f443" "$f80" "client's server for $VIP2:443 (same mark as :80)"
i=0
while [ "$i" -lt 5 ]; do
  for port in 80 443; do
    http_count client "$VIP2:$port" 1
    expect_eq "$(the_server)" "$f80" "client's server for $VIP2:$port, round $((i + 1))"
  done
  i=$((i + 1))
done

step "the kernel counted them on the fwmark service"
expect_ipvs_stat dir1 "FWM 1" "" conns -eq 21 "connections of service FWM 1"

step "unmarked $VIP2:8080 has no service"
http_count client "$VIP2:8080" 1 --timeout-ms 2000 && fail "unmarked port 8080 of $VIP2 was served"
log "ok: port 8080 is not part of the marked service"
