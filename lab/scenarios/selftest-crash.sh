# lab-description: must FAIL: the guest kernel crashes in the middle of a scenario
# lab-default: no
# lab-timeout: 30
#
# Panics the guest kernel (sysrq 'c'); qemu exits (panic=-1, -no-reboot) and
# the host must report this scenario as FAILed with the guest died, rather than
# waiting or passing (see lab/tests/selftest.sh).

step "crashing the kernel"
echo 1 >/proc/sys/kernel/sysrq
echo c >/proc/sysrq-trigger
sleep 30
