# lab-description: must FAIL: the guest stops responding; only the host timeout ends it
# lab-default: no
# lab-timeout: 3600
#
# Goes silent for longer than any host timeout: run with `lab/run --timeout S`
# and the host must kill qemu after S seconds and report this scenario as
# hung (see lab/tests/selftest.sh).

step "silent for an hour"
sleep 3600
