# lab-description: must FAIL: a real server accepts connections but never answers
# lab-default: no
# lab-timeout: 60
#
# Proves that a broken service is reported as a failure with a reason (see
# lab/tests/selftest.sh, which expects this scenario to FAIL). It is the
# nat-rr setup with rs2 replaced by a server that accepts and stays silent.

topo_create --servers 2
dir_vip dir1 "$VIP"
dir_nat_gw dir1
rs_nat $LAB_SERVERS
rs_serve rs1 --http 80
rs_serve rs2 --silent 80

step "ipvsadm: TCP $VIP:80 rr over rs1 and the silent rs2"
ipvs dir1 -A -t "$VIP:80" -s rr
for rs in $LAB_SERVERS; do ipvs dir1 -a -t "$VIP:80" -r "$(lan_ip "$rs"):80" -m; done

step "10 requests: both servers must answer"
http_count client "$VIP:80" 10 --timeout-ms 1000
expect_no_errors
expect_share rs1 1 2 10
expect_share rs2 1 2 10
