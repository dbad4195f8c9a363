# lab-description: NAT (-m) with round robin: equal shares, port mapping, replies un-NATed
# lab-timeout: 180
#
# The seeds' NAT example: the director rewrites VIP:80 to RS:8080 and back;
# the real servers' default gateway is the director. Each real server listens
# on 8080 only, so a successful request through VIP:80 proves the port
# rewrite, and a completed TCP handshake with the VIP proves the replies were
# rewritten back to the VIP.
#
# rr hands each new connection to the next real server in turn, so N
# sequential requests over 3 servers give N/3 each (asserted within +-10%),
# and the kernel's own per-server connection counters must agree with what
# the client saw.

topo_create --servers 3
dir_vip dir1 "$VIP"
dir_nat_gw dir1
rs_nat $LAB_SERVERS
for rs in $LAB_SERVERS; do rs_serve "$rs" --http 8080; done

step "ipvsadm: TCP $VIP:80 rr, real servers :8080 masquerading"
ipvs dir1 -A -t "$VIP:80" -s rr
for rs in $LAB_SERVERS; do ipvs dir1 -a -t "$VIP:80" -r "$(lan_ip "$rs"):8080" -m; done
ns dir1 ipvsadm -Ln

step "60 sequential requests from client to $VIP:80"
http_count client "$VIP:80" 60
expect_no_errors
for rs in $LAB_SERVERS; do expect_share "$rs" 1 3 10; done
result nat_rr_requests=60 "nat_rr_elapsed_ms=$(awk '$1 == "elapsed_ms" { print $2 }' "$LAB_STATE/count")"

step "the kernel's counters agree with the client"
for rs in $LAB_SERVERS; do
  expect_ipvs_stat dir1 "TCP $VIP:80" "$(lan_ip "$rs"):8080" conns -eq "$(count_of "$rs")" "IPVS connections to $rs"
done
# NAT: the replies pass through the director too (>= SYN-ACK, data, FIN each).
expect_ipvs_stat dir1 "TCP $VIP:80" "" outpkts -ge 180 "packets the director NATed back to the client"

step "without the IPVS service nothing answers on $VIP:80 (the answers above were IPVS's doing)"
ipvs dir1 -D -t "$VIP:80"
http_count client "$VIP:80" 1 --timeout-ms 2000 && fail "request to $VIP:80 succeeded without an IPVS service"
log "ok: no service, no answer"
