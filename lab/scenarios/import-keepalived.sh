# lab-description: keepalived DR pair -> lvsctl import keepalived -> lvsd: same IPVS table (services, servers, weights, scheduler, forwarding) and the same master
# lab-timeout: 150
#
# A migration as docs/migrating.md describes it, on the real kernel. Two
# keepalived.conf files for a DR pair (dir1 MASTER priority 150, dir2 BACKUP
# 100, VRRP unicast over the LAN, the VIP on the WAN side) with two virtual
# servers: VIP:80 wrr with HTTP_GET checks (weights 1, 2, 3) and VIP:7 wlc
# with TCP_CHECK and persistence (weights 1, 1, 2).
#  1. Debian's keepalived accepts both (`keepalived -t`, in each director's
#     namespace, since it checks the interfaces);
#  2. `lvsctl import keepalived` converts the pair (exit 0), and
#     `lvsd --config-test` accepts the result for both director names;
#  3. keepalived runs on both directors: its IPVS tables and the VIP holder
#     are recorded; it is stopped (it removes what it added);
#  4. lvsd runs on both with the converted file: each director's table must
#     equal keepalived's (ipvsadm -Ln without the connection counters:
#     services, schedulers, persistence, servers, forwarding, weights) and
#     the same director holds the VIP.
# Control: the comparison is not blind: keepalived's table with one weight
# changed is reported as different.
topo_create --clients 1 --directors 2 --servers 3
for rs in $LAB_SERVERS; do rs_dr "$rs" "$VIP"; rs_serve "$rs"; done

ka_conf() {  # ka_conf NAME STATE PRIORITY SRC PEER
  cat <<KA
global_defs {
    router_id $1
}
vrrp_instance VI_WEB {
    state $2
    interface eth1
    virtual_router_id 51
    priority $3
    advert_int 1
    unicast_src_ip $4
    unicast_peer {
        $5
    }
    virtual_ipaddress {
        $VIP/32 dev eth0
    }
}
virtual_server $VIP 80 {
    delay_loop 2
    lvs_sched wrr
    lvs_method DR
    protocol TCP
    real_server 10.1.0.101 80 {
        weight 1
        HTTP_GET {
            url {
                path /
                status_code 200
            }
            connect_timeout 1
        }
    }
    real_server 10.1.0.102 80 {
        weight 2
        HTTP_GET {
            url {
                path /
                status_code 200
            }
            connect_timeout 1
        }
    }
    real_server 10.1.0.103 80 {
        weight 3
        HTTP_GET {
            url {
                path /
                status_code 200
            }
            connect_timeout 1
        }
    }
}
virtual_server $VIP 7 {
    delay_loop 2
    lvs_sched wlc
    lvs_method DR
    protocol TCP
    persistence_timeout 120
    real_server 10.1.0.101 7 {
        weight 1
        TCP_CHECK {
            connect_timeout 1
        }
    }
    real_server 10.1.0.102 7 {
        weight 1
        TCP_CHECK {
            connect_timeout 1
        }
    }
    real_server 10.1.0.103 7 {
        weight 2
        TCP_CHECK {
            connect_timeout 1
        }
    }
}
KA
}
ka_conf dir1 MASTER 150 10.1.0.2 10.1.0.3 > "$LAB_STATE/ka-dir1.conf"
ka_conf dir2 BACKUP 100 10.1.0.3 10.1.0.2 > "$LAB_STATE/ka-dir2.conf"

step "keepalived -t accepts both files"
for d in dir1 dir2; do
  ns "$d" keepalived -t -f "$LAB_STATE/ka-$d.conf" > "$LAB_STATE/ka-t-$d.log" 2>&1 ||
    { cat "$LAB_STATE/ka-t-$d.log"; fail "keepalived -t rejects ka-$d.conf"; }
done

step "lvsctl import keepalived (the pair) and lvsd --config-test"
# `command`: lib.sh's lvsctl function runs lvsctl in a director's namespace.
command lvsctl import keepalived "$LAB_STATE/ka-dir1.conf" "$LAB_STATE/ka-dir2.conf" \
  > "$LAB_STATE/lvsd.conf" 2> "$LAB_STATE/import.err" ||
  { cat "$LAB_STATE/import.err"; fail "the import did not convert completely (exit $?)"; }
for d in dir1 dir2; do
  lvsd --config-test -f "$LAB_STATE/lvsd.conf" -n "$d" || { cat "$LAB_STATE/lvsd.conf"; fail "lvsd --config-test -n $d"; }
done
echo "==== converted config (excerpt)"; grep -E 'director|instance|virtual_service|real_server|scheduler|forwarding|persist' "$LAB_STATE/lvsd.conf" | head -20

# ipvsadm -Ln without the connection columns, one line per service and per
# (service, real server), sorted: the kernel lists real servers in the order
# they were added, which follows the checks' timing.
table() {
  nsx "$1" ipvsadm -Ln | awk 'NR > 3 {
      if ($1 == "->") print svc, $2, $3, $4; else { svc = $1 " " $2; print } }' | sort
}
holder() { vip_holders "$VIP" dir1 dir2; }
holds() { [ "$(holder)" = "$1" ]; }
six() { [ "$(table "$1" | grep -c ' 10.1.0.10[1-3]:')" -eq 6 ]; }

step "keepalived on both directors"
for d in dir1 dir2; do
  lab_bg "ka-$d" "$d" keepalived -n -l -D -f "$LAB_STATE/ka-$d.conf" \
    -p "/run/ka-$d.pid" -r "/run/ka-$d-vrrp.pid" -c "/run/ka-$d-check.pid"
done
wait_for 20 "keepalived: dir1 holds the VIP" holds dir1
wait_for 20 "keepalived: six real servers on dir1" six dir1
wait_for 20 "keepalived: six real servers on dir2" six dir2
sleep 3  # a few check rounds: nothing may change
for d in dir1 dir2; do table "$d" > "$LAB_STATE/ka-table-$d"; done
ka_holder=$(holder)
echo "==== keepalived: VIP on $ka_holder; dir1's table:"; cat "$LAB_STATE/ka-table-dir1"

step "stop keepalived: it removes its services and VIP"
lab_stop ka-dir2
lab_stop ka-dir1
empty() { [ -z "$(table dir1)" ] && [ -z "$(table dir2)" ] && [ -z "$(holder)" ]; }
wait_for 10 "keepalived's services and VIP gone" empty

step "lvsd on both directors with the converted config"
for d in dir1 dir2; do
  lvsd_start "$d" -f "$LAB_STATE/lvsd.conf" --foreground -n "$d" -s "/run/lvsd-$d.sock"
done
wait_for 20 "lvsd: dir1 holds the VIP" holds dir1
wait_for 20 "lvsd: six real servers on dir1" six dir1
wait_for 20 "lvsd: six real servers on dir2" six dir2
sleep 3
for d in dir1 dir2; do table "$d" > "$LAB_STATE/lvsd-table-$d"; done
lvsd_holder=$(holder)
echo "==== lvsd: VIP on $lvsd_holder; dir1's table:"; cat "$LAB_STATE/lvsd-table-dir1"

step "compare"
for d in dir1 dir2; do
  if ! diff "$LAB_STATE/ka-table-$d" "$LAB_STATE/lvsd-table-$d" > "$LAB_STATE/diff-$d"; then
    cat "$LAB_STATE/diff-$d"
    fail "$d: lvsd's IPVS table differs from keepalived's"
  fi
done
[ "$ka_holder" = "$lvsd_holder" ] || fail "VIP on $lvsd_holder under lvsd, on $ka_holder under keepalived"
# Control: a changed weight is seen.
sed 's/ 10.1.0.103:80 Route 3$/ 10.1.0.103:80 Route 4/' "$LAB_STATE/ka-table-dir1" > "$LAB_STATE/control"
! diff -q "$LAB_STATE/control" "$LAB_STATE/lvsd-table-dir1" > /dev/null || fail "control: a changed weight compared equal"
lvsd_stop dir2
lvsd_stop dir1
result services=2 real_servers=6 same_table=yes same_master=yes
