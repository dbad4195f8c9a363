#!/usr/bin/env bash
# bash completion of lvsctl (cli/lvsctl.bash-completion): commands, options,
# import kinds, ipvsadm schedulers, and services / real servers / instances
# taken from `lvsctl status` (a stand-in lvsctl prints a status table in the
# format cli/lvsctl.cc prints).
set -uo pipefail
SRC=${1:?usage: lvsctl_completion.sh SRCDIR}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
cat > "$T/lvsctl" <<'FAKE'
#!/bin/sh
[ "$1" = "-s" ] && { echo "$2" > "${0%/*}/socket-used"; shift 2; }
[ "$1" = status ] || exit 3
cat <<'STATUS'
director lvs1  lvsd 0.1.0  ipvs netlink
config   /etc/lvsd/lvsd.conf  digest 0123456789ab  generation 1

INSTANCE             STATE    PRIO  EFF   MASTER           SINCE        REASON
VI_WEB               MASTER   150   150   lvs1             3s ago       peer-timeout
VI_DNS               BACKUP   100   100   lvs2             3s ago       higher-priority

PEER                 LAST HEARD   LINKS UP         CONFIG
lvs2                 120ms ago    eth0             same

SERVICE web (tcp/192.0.2.10:80) wrr
  REAL SERVER                FWD    HEALTH  WEIGHT  CONF  ACTIVE  INACT  NOTE
  10.0.1.11:80               DR     up      5       5     3       10
  10.0.1.12:80               DR     DOWN    0       10    0       0

SERVICE tcp/192.0.2.10:443 (tcp/192.0.2.10:443) wlc
  REAL SERVER                FWD    HEALTH  WEIGHT  CONF  ACTIVE  INACT  NOTE
  10.0.1.11:443              DR     up      1       1     0       0
STATUS
FAKE
chmod +x "$T/lvsctl"
export PATH="$T:$PATH"
# shellcheck source=/dev/null
source "$SRC/cli/lvsctl.bash-completion"

# complete WORDS... : the last word is the one being completed.
complete_words() {
    COMP_WORDS=("$@")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMPREPLY=()
    _lvsctl
    printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}
expect() {
    local want=$1; shift
    local got
    got=$(complete_words "$@")
    if [ "$got" != "$want" ]; then
        echo "FAIL: completing '$*': got '$got', want '$want'" >&2
        fails=$((fails + 1))
    fi
}

expect "reload remove-server" lvsctl re
expect "failover" lvsctl --json f
expect "--help --json --socket" lvsctl --
expect "keepalived" lvsctl import k
expect "ipvsadm keepalived" lvsctl import ""
expect "--name" lvsctl import keepalived --n
expect "--plan" lvsctl reload --p
expect "- tcp/192.0.2.10:443 tcp/192.0.2.10:80 web" lvsctl drain ""
expect "tcp/192.0.2.10:443 tcp/192.0.2.10:80 web" lvsctl add-server ""
expect "10.0.1.11:80 10.0.1.12:80" lvsctl drain web ""
expect "10.0.1.11:80 10.0.1.12:80" lvsctl weight tcp/192.0.2.10:80 ""
expect "10.0.1.11:443" lvsctl undrain tcp/192.0.2.10:443 10
expect "10.0.1.11:443 10.0.1.11:80 10.0.1.12:80" lvsctl drain - ""
expect "--for VI_DNS VI_WEB" lvsctl failover ""
expect "VI_WEB" lvsctl -s /tmp/x.sock failover VI_W
[ "$(cat "$T/socket-used" 2>/dev/null)" = /tmp/x.sock ] || { echo "FAIL: -s not passed to lvsctl status" >&2; fails=$((fails + 1)); }
expect "wlc wrr" lvsctl ipvsadm -A -t 192.0.2.1:80 -s w
expect "gre gue" lvsctl ipvsadm -a --tun-type g
expect "--save --sched-flags --scheduler --sctp-service --set --sort --start-daemon --stats --stop-daemon" lvsctl ipvsadm --s
mkdir "$T/etc" && touch "$T/etc/a.conf" "$T/etc/b.conf"
expect "$T/etc/a.conf" lvsctl config-test "$T/etc/a"
expect "$T/etc/a.conf $T/etc/b.conf" lvsctl import keepalived "$T/etc/"

[ $fails -eq 0 ] || exit 1
echo "PASS lvsctl completion"
