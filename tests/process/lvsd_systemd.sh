#!/usr/bin/env bash
# systemd integration (no root, no running systemd needed):
#  - etc/systemd/lvsd.service passes `systemd-analyze verify` (with its
#    /usr/sbin paths pointed at the built binaries), and verify does reject a
#    broken copy, so the check means something;
#  - lvsd speaks the sd_notify protocol the unit relies on: READY=1 after
#    start, WATCHDOG=1 at half of WATCHDOG_USEC, RELOADING=1 then READY=1 on
#    reload, STOPPING=1 on SIGTERM.
set -euo pipefail
BIN=${1:?usage: lvsd_systemd.sh BINDIR SRCDIR}
SRC=${2:?usage: lvsd_systemd.sh BINDIR SRCDIR}
T=$(mktemp -d)
PID=; RX=
trap '[ -n "$PID" ] && kill -9 $PID 2>/dev/null; [ -n "$RX" ] && kill $RX 2>/dev/null; rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; [ -e "$T/log" ] && { echo "--- lvsd log:" >&2; cat "$T/log" >&2; }; exit 1; }

command -v systemd-analyze > /dev/null || fail "systemd-analyze missing (package systemd, scripts/bootstrap)"
mkdir -p "$T/unit"
sed "s|/usr/sbin/|$BIN/|g" "$SRC/etc/systemd/lvsd.service" > "$T/unit/lvsd.service"
out=$(systemd-analyze verify "$T/unit/lvsd.service" 2>&1) || fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify warns: $out"
sed 's/^Type=notify/Type=bogus/' "$T/unit/lvsd.service" > "$T/unit/broken.service"
sed -i 's/^ExecReload=.*/ExecReload=relative-path reload/' "$T/unit/broken.service"
if systemd-analyze verify "$T/unit/broken.service" > /dev/null 2>&1 &&
   [ -z "$(systemd-analyze verify "$T/unit/broken.service" 2>&1)" ]; then
  fail "systemd-analyze verify accepted a broken unit"
fi
for want in '^Type=notify$' '^WatchdogSec=' '^ExecReload=/usr/sbin/lvsctl reload$' '^NotifyAccess=main$'; do
  grep -q "$want" "$SRC/etc/systemd/lvsd.service" || fail "unit lacks $want"
done

# sd_notify: receive lvsd's datagrams on our own NOTIFY_SOCKET.
command -v socat > /dev/null || fail "socat missing (scripts/bootstrap)"
socat -u "UNIX-RECV:$T/notify" "OPEN:$T/notes,creat,append" &
RX=$!
for _ in $(seq 50); do [ -S "$T/notify" ] && break; sleep 0.05; done
printf 'director { name: "dir1" }\ncontrol { socket: "%s/lvsd.sock" }\n' "$T" > "$T/lvsd.conf"
NOTIFY_SOCKET="$T/notify" WATCHDOG_USEC=400000 "$BIN/lvsd" -f "$T/lvsd.conf" --foreground --dry-run -n dir1 2> "$T/log" &
PID=$!
for _ in $(seq 50); do grep -q 'READY=1' "$T/notes" 2>/dev/null && break; sleep 0.1; done
grep -q 'READY=1' "$T/notes" || fail "no READY=1"
sleep 1.1
n=$(grep -o 'WATCHDOG=1' "$T/notes" | wc -l)
# 400 ms watchdog -> a ping every 200 ms: about 6 in 1.1 s (plus the first).
[ "$n" -ge 4 ] && [ "$n" -le 9 ] || fail "$n WATCHDOG=1 pings in 1.1 s, want about 6"
"$BIN/lvsctl" -s "$T/lvsd.sock" reload > /dev/null || fail "reload failed"
sleep 0.2
tr -d '\n' < "$T/notes" | grep -q 'RELOADING=1\(WATCHDOG=1\)*READY=1' || fail "no RELOADING=1 then READY=1 on reload: $(cat "$T/notes")"
kill -TERM $PID
wait $PID || fail "lvsd exited non-zero on SIGTERM"
PID=
sleep 0.2
grep -q 'STOPPING=1' "$T/notes" || fail "no STOPPING=1"
# A WATCHDOG_PID naming another process means the watchdog is not ours.
: > "$T/notes"
NOTIFY_SOCKET="$T/notify" WATCHDOG_USEC=200000 WATCHDOG_PID=1 "$BIN/lvsd" -f "$T/lvsd.conf" --foreground --dry-run -n dir1 2> "$T/log" &
PID=$!
sleep 0.8
kill -TERM $PID; wait $PID || true; PID=
! grep -q 'WATCHDOG=1' "$T/notes" || fail "pinged a watchdog that belongs to another pid"
echo "PASS systemd unit and sd_notify"
