# lab-description: DR (-g) with wrr 5:10: 1:2 shares, replies bypass the director, ARP hidden
# lab-timeout: 180
#
# The seeds' DR example (without -p, which would pin one client to one
# server): weights 5 and 10. wrr walks the servers in weight order with a
# step of gcd(5,10) = 5, so every 3 connections go 1 to rs1 and 2 to rs2;
# 60 sequential requests give 20:40 (asserted as 1/3 and 2/3 within +-10%).
#
# Direct routing specifics checked against the kernel:
#  - the director only sees the client's half: IPVS counts no outgoing packets;
#  - the real servers hold the VIP on lo but never answer ARP for it
#    (arp_ignore=1, arp_announce=2): an ARP probe for the VIP on the LAN is
#    answered by the director alone. As a control, the probe is repeated with
#    arp_ignore=0 on rs1, which must then answer too.

topo_create --servers 2
dir_vip dir1 "$VIP"
for rs in $LAB_SERVERS; do
  rs_dr "$rs" "$VIP"
  rs_serve "$rs"
done

step "ipvsadm: TCP $VIP:80 wrr, rs1 -w 5, rs2 -w 10, direct routing"
ipvs dir1 -A -t "$VIP:80" -s wrr
ipvs dir1 -a -t "$VIP:80" -r "$(lan_ip rs1):80" -g -w 5
ipvs dir1 -a -t "$VIP:80" -r "$(lan_ip rs2):80" -g -w 10
ns dir1 ipvsadm -Ln

step "60 sequential requests from client to $VIP:80"
http_count client "$VIP:80" 60
expect_no_errors
expect_share rs1 1 3 10
expect_share rs2 2 3 10

step "the director saw only the client's half of each connection"
for rs in $LAB_SERVERS; do
  expect_ipvs_stat dir1 "TCP $VIP:80" "$(lan_ip "$rs"):80" conns -eq "$(count_of "$rs")" "IPVS connections to $rs"
done
expect_ipvs_stat dir1 "TCP $VIP:80" "" inpkts -ge 180 "client packets the director forwarded"
expect_ipvs_stat dir1 "TCP $VIP:80" "" outpkts -eq 0 "reply packets through the director (DR replies go via rtr)"

# arp_probe_macs: MACs answering an ARP request for the VIP on the LAN (from rtr)
arp_probe_macs() {
  ns rtr arping -c 3 -w 3 -I eth1 "$VIP" 2>&1 | sed -n 's/.*reply from [0-9.]* \[\([0-9a-fA-F:]*\)\].*/\1/p' |
    tr 'A-F' 'a-f' | sort -u | tr '\n' ' '
}
dir1_mac=$(ns dir1 cat /sys/class/net/eth1/address)
rs1_mac=$(ns rs1 cat /sys/class/net/eth0/address)

step "ARP for the VIP on the LAN: only the director answers"
macs=$(arp_probe_macs)
expect_eq "$macs" "$dir1_mac " "MACs answering ARP for $VIP on the LAN"

step "control: with arp_ignore=0 on rs1, rs1 answers ARP for the VIP as well"
sysctl_ns rs1 net.ipv4.conf.all.arp_ignore=0 net.ipv4.conf.eth0.arp_ignore=0
macs=$(arp_probe_macs)
case " $macs" in
*" $rs1_mac "*) log "ok: rs1 ($rs1_mac) answered once arp_ignore was off: $macs" ;;
*) fail "rs1 did not answer ARP with arp_ignore=0 (got: $macs); the ARP check above proves nothing" ;;
esac
sysctl_ns rs1 net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.eth0.arp_ignore=1
