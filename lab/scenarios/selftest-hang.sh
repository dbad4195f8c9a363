# lab-description: must FAIL: a scenario that never finishes is stopped at its deadline
# lab-default: no
# lab-timeout: 15
#
# Waits (with no timeout of its own) for an answer that never comes. The
# guest must kill it after "lab-timeout" seconds, report FAIL with the last
# step, and go on with the next scenario (see lab/tests/selftest.sh).

topo_create --servers 1
rs_serve rs1 --silent 80
step "waiting forever for rs1"
ns client labnet get "$(lan_ip rs1):80" --timeout-ms 86400000
