# lab-description: persistence (-p 300): per client, and per /24 with -M 255.255.255.0
# lab-timeout: 180
#
# With -p, the first connection from a client creates a persistence template
# (client address & netmask -> real server) and later connections from the
# same client follow it instead of the scheduler. The scheduler here is rr,
# so without the template consecutive connections would rotate.
#  - VIP  (-p 300, netmask /32): client always lands on one server; client2
#    (another address in the same /24) gets its own template, and rr gives it
#    the next server: a different one.
#  - VIP2 (-p 300 -M 255.255.255.0): client and client2 share one template
#    (10.0.0.0/24) and so one server; the connection table shows it.

topo_create --clients 2 --servers 3
dir_vip dir1 "$VIP"
dir_vip dir1 "$VIP2"
dir_nat_gw dir1
rs_nat $LAB_SERVERS
for rs in $LAB_SERVERS; do rs_serve "$rs"; done

step "ipvsadm: $VIP:80 rr -p 300; $VIP2:80 rr -p 300 -M 255.255.255.0 (NAT)"
ipvs dir1 -A -t "$VIP:80" -s rr -p 300
ipvs dir1 -A -t "$VIP2:80" -s rr -p 300 -M 255.255.255.0
for rs in $LAB_SERVERS; do
  ipvs dir1 -a -t "$VIP:80" -r "$(lan_ip "$rs"):80" -m
  ipvs dir1 -a -t "$VIP2:80" -r "$(lan_ip "$rs"):80" -m
done
ns dir1 ipvsadm -Ln

step "per-client persistence on $VIP: 20 requests from client"
http_count client "$VIP:80" 20
a=$(the_server)
step "client2 (same /24, but netmask /32): 20 requests"
http_count client2 "$VIP:80" 20
b=$(the_server)
expect_ne "$a" "$b" "servers of client and client2 on $VIP (separate templates)"
step "client again: still $a"
http_count client "$VIP:80" 10
expect_eq "$(the_server)" "$a" "client's server on $VIP after client2's requests"

step "per-/24 persistence on $VIP2: client then client2"
http_count client "$VIP2:80" 20
c=$(the_server)
http_count client2 "$VIP2:80" 20
expect_eq "$(the_server)" "$c" "client2's server on $VIP2 (shares client's /24 template)"

step "the kernel holds one /24 template for $VIP2 and one /32 template per client for $VIP"
# Templates are the connection entries with client port 0.
templates=$(ns dir1 ipvsadm -Lnc | awk '$4 ~ /:0$/ { print $4, $5, $6 }' | sort)
echo "$templates"
expected=$(printf '%s\n' "10.0.0.0:0 $VIP2:80 $(lan_ip "$c"):80" \
  "$(wan_ip client):0 $VIP:80 $(lan_ip "$a"):80" "$(wan_ip client2):0 $VIP:80 $(lan_ip "$b"):80" | sort)
expect_eq "$templates" "$expected" "persistence templates (client/mask, service, real server)"
