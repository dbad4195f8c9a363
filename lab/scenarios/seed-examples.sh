# lab-description: the seed documents' DR and NAT examples, typed into lvsctl ipvsadm, carry real traffic
# lab-timeout: 180
#
# ../shared/seeds/DIGEST.md (LVS guide, 001) gives two worked examples:
#   ipvsadm -C
#   ipvsadm -A -t 192.168.0.10:80 -s wrr -p 300
#   ipvsadm -a -t 192.168.0.10:80 -r 192.168.0.101:80 -g -w 5
#   ipvsadm -a -t 192.168.0.10:80 -r 222.117.155.123:80 -g -w 10
#   ipvsadm -A -t 211.47.13.234:80 -s wlc
#   ipvsadm -a -t 211.47.13.234:80 -r 10.0.0.101:8080 -m -w 1
#   ipvsadm -a -t 211.47.13.234:80 -r 10.0.0.102:8080 -m -w 2
# Here they are typed verbatim after `lvsctl ipvsadm`, with the lab's
# addresses: VIP 10.0.0.100 (DR, real servers rs1 and rs2) and 10.0.0.101
# (NAT, real servers rs3 and rs4).
# DR: the real servers hold the VIP on lo with arp_ignore=1/arp_announce=2
# and answer the client directly; NAT: they route through the director.
# Then -Ln and -Lnc (the guide's listing commands) show the traffic.
topo_create --clients 2 --directors 1 --servers 4
for rs in $LAB_SERVERS; do rs_serve "$rs"; done
dir_vip dir1 "$VIP"
dir_vip dir1 "$VIP2"
rs_dr rs1 "$VIP"
rs_dr rs2 "$VIP"
dir_nat_gw dir1
rs_nat rs3 rs4
RS1=$(lan_ip rs1)
RS2=$(lan_ip rs2)
RS3=$(lan_ip rs3)
RS4=$(lan_ip rs4)

step "the DR example"
must lvsctl dir1 ipvsadm -C
must lvsctl dir1 ipvsadm -A -t "$VIP:80" -s wrr -p 300
must lvsctl dir1 ipvsadm -a -t "$VIP:80" -r "$RS1:80" -g -w 5
must lvsctl dir1 ipvsadm -a -t "$VIP:80" -r "$RS2:80" -g -w 10

step "the NAT example"
must lvsctl dir1 ipvsadm -A -t "$VIP2:80" -s wlc
must lvsctl dir1 ipvsadm -a -t "$VIP2:80" -r "$RS3:8080" -m -w 1
must lvsctl dir1 ipvsadm -a -t "$VIP2:80" -r "$RS4:8080" -m -w 2
must lvsctl dir1 ipvsadm -Ln

step "DR traffic: persistent (-p 300), so each client sticks to one real server"
http_count client "$VIP:80" 20 || fail "HTTP to the DR VIP failed"
first=$(the_server)
http_count client2 "$VIP:80" 20 || fail "HTTP to the DR VIP from client2 failed"
second=$(the_server)
log "client -> $first, client2 -> $second"
# The kernel publishes these counters from its estimator (every 2 s), so
# they lag the traffic: poll lvsctl's listing for up to 6 s.
dr_conns() {
  lvsctl dir1 ipvsadm -Ln --stats -t "$VIP:80" | awk '$1 == "->" { c += $3 } END { print c + 0 }'
}
dr_counted() { [ "$(dr_conns)" -ge 40 ]; }
end=$(($(lab_uptime_cs) + 600))
until dr_counted; do
  [ "$(lab_uptime_cs)" -ge "$end" ] && break
  sleep 0.2
done
lvsctl dir1 ipvsadm -Ln --stats -t "$VIP:80" || fail "listing failed"
dr_counted || fail "IPVS counted $(dr_conns) DR connections, expected >= 40"

step "NAT traffic: wlc with weights 1 and 2, both real servers answer"
http_count client "$VIP2:80" 30 || fail "HTTP to the NAT VIP failed"
expect_no_errors
n1=$(count_of rs3)
n2=$(count_of rs4)
[ "$n1" -gt 0 ] && [ "$n2" -gt 0 ] || fail "expected both real servers to answer (rs3=$n1 rs4=$n2)"
[ "$n2" -ge "$n1" ] || fail "weight 2 got fewer requests than weight 1 (rs3=$n1 rs4=$n2)"

step "the guide's listing commands"
must lvsctl dir1 ipvsadm -Ln
conns=$(lvsctl dir1 ipvsadm -Lnc) || fail "lvsctl ipvsadm -Lnc failed"
echo "$conns" | head -n 12
[ "$(echo "$conns" | grep -c "$VIP2:80")" -gt 0 ] || fail "no NAT connection entries in -Lnc"
[ "$(echo "$conns" | grep -c "$VIP:80")" -gt 0 ] || fail "no DR connection entries in -Lnc"
result dr_requests=40 nat_requests=30 nat_rs3=$n1 nat_rs4=$n2
