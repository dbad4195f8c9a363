# lab-description: TUN (-i) with wlc 1:2: weighted shares, and a busy server is avoided
# lab-timeout: 180
#
# IP-in-IP forwarding: the real servers decapsulate on tunl0 (VIP there,
# rp_filter off) and answer the client directly via rtr.
#
# What wlc actually does: pick the server with the least
#   (256 * active + inactive) / weight
# (ip_vs_wlc.c; active = ESTABLISHED, inactive = every other state). A
# finished request stays in the table as an inactive connection (FIN_WAIT /
# TIME_WAIT, 2 min) so, with sequential requests that never overlap, only
# inactive counts matter and wlc shares them in proportion to the weights:
# weights 1:2 give 1/3 and 2/3 of 30 requests (+-10%).
# Then the property that makes it "least connection": one long-lived
# (established) connection weighs 256 inactive ones, so while it is held the
# next 30 requests all avoid its server; once it is released (and becomes
# inactive itself) that server is chosen again.

topo_create --servers 2
dir_vip dir1 "$VIP"
for rs in $LAB_SERVERS; do
  rs_tun "$rs" "$VIP"
  rs_serve "$rs"
done

step "ipvsadm: TCP $VIP:80 wlc, rs1 -w 1, rs2 -w 2, IP-in-IP"
ipvs dir1 -A -t "$VIP:80" -s wlc
ipvs dir1 -a -t "$VIP:80" -r "$(lan_ip rs1):80" -i -w 1
ipvs dir1 -a -t "$VIP:80" -r "$(lan_ip rs2):80" -i -w 2
ns dir1 ipvsadm -Ln

step "30 sequential requests: shares follow the weights"
http_count client "$VIP:80" 30
expect_no_errors
expect_share rs1 1 3 10
expect_share rs2 2 3 10
expect_ipvs_stat dir1 "TCP $VIP:80" "" conns -eq 30 "IPVS connections"
expect_ipvs_stat dir1 "TCP $VIP:80" "" outpkts -eq 0 "reply packets through the director (TUN replies go via rtr)"
for rs in $LAB_SERVERS; do
  expect_eq "$(ipvs_active dir1 "TCP $VIP:80" "$(lan_ip "$rs"):80")" 0 "active connections on $rs after sequential requests"
done

step "hold one connection open"
lab_bg hold client labnet hold "$VIP:80"
wait_for 10 "the held connection to be answered" grep -q '^server ' "$LAB_STATE/hold.log"
busy=$(awk '$1 == "server" { print $2 }' "$LAB_STATE/hold.log")
case $busy in rs1) idle=rs2 ;; rs2) idle=rs1 ;; *) fail "held connection answered by '$busy'" ;; esac
expect_eq "$(ipvs_active dir1 "TCP $VIP:80" "$(lan_ip "$busy"):80")" 1 "active connections on $busy (the held one)"

step "30 requests while $busy holds an established connection: all go to $idle"
http_count client "$VIP:80" 30
expect_no_errors
expect_eq "$(count_of "$busy")" 0 "requests sent to the busy server $busy"
expect_eq "$(count_of "$idle")" 30 "requests sent to $idle"
grep -q '^closed' "$LAB_STATE/hold.log" && fail "the held connection was closed: $(cat "$LAB_STATE/hold.log")"

step "release it: $busy is chosen again"
lab_stop hold
busy_is_idle() { [ "$(ipvs_active dir1 "TCP $VIP:80" "$(lan_ip "$busy"):80")" = 0 ]; }
wait_for 10 "$busy's connection to leave the established state" busy_is_idle
http_count client "$VIP:80" 30
expect_no_errors
[ "$(count_of "$busy")" -gt 0 ] || fail "$busy got no requests after its long connection ended"
log "ok: $busy got $(count_of "$busy") of 30 once idle again"
