#!/usr/bin/env bash
# Process-level contract of lvsd + lvsctl (no root, no kernel features):
#  - a running lvsd answers `lvsctl status`;
#  - SIGHUP with a broken file keeps the old config running and logs every error;
#  - `lvsctl reload` on a broken file exits non-zero listing the errors;
#  - a valid reload bumps the generation;
#  - lvsctl without a daemon says so and exits 3;
#  - SIGTERM exits 0 within 1 s and removes the control socket.
set -euo pipefail
BIN=${1:?usage: lvsd_lifecycle.sh BINDIR}
T=$(mktemp -d)
trap 'kill -9 $PID 2>/dev/null || true; rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; echo "--- lvsd log:" >&2; cat "$T/log" >&2 || true; exit 1; }

cat > "$T/lvsd.conf" <<CONF
director { name: "dir1" }
control { socket: "$T/lvsd.sock" }
CONF
cp "$T/lvsd.conf" "$T/good.conf"
# --dry-run: the host running the tests has no IPVS; the dry-run backend
# programs nothing and says so.
"$BIN/lvsd" -f "$T/lvsd.conf" --foreground --dry-run -n dir1 2> "$T/log" &
PID=$!
for _ in $(seq 50); do [ -S "$T/lvsd.sock" ] && break; sleep 0.1; done
[ -S "$T/lvsd.sock" ] || fail "control socket not created"
[ "$(stat -c %a "$T/lvsd.sock")" = 600 ] || fail "control socket mode is not 0600"

out=$("$BIN/lvsctl" -s "$T/lvsd.sock" status) || fail "status failed"
grep -q '^director dir1' <<<"$out" || fail "status lacks director line: $out"
gen1=$("$BIN/lvsctl" -s "$T/lvsd.sock" --json status | grep -o '"config_generation": "[0-9]*"')

# Broken file: two independent errors.
printf 'director { name: "dir1" }\ncontrol { socket: "%s/lvsd.sock" }\nbogus_field: 1\n' "$T" > "$T/lvsd.conf"
kill -HUP $PID
for _ in $(seq 30); do grep -q 'reload rejected' "$T/log" && break; sleep 0.1; done
grep -q 'reload rejected, keeping generation 1' "$T/log" || fail "HUP with broken file not rejected"
grep -q 'lvsd.conf:3:[0-9]*: .*bogus_field' "$T/log" || fail "error location not logged"
kill -0 $PID || fail "lvsd died on a bad HUP"
if "$BIN/lvsctl" -s "$T/lvsd.sock" reload 2> "$T/reload.err"; then fail "reload of broken file exited 0"; fi
grep -q 'bogus_field' "$T/reload.err" || fail "lvsctl reload did not list the error"
gen2=$("$BIN/lvsctl" -s "$T/lvsd.sock" --json status | grep -o '"config_generation": "[0-9]*"')
[ "$gen1" = "$gen2" ] || fail "generation changed after rejected reload ($gen1 -> $gen2)"

cp "$T/good.conf" "$T/lvsd.conf"
"$BIN/lvsctl" -s "$T/lvsd.sock" reload > "$T/reload.out" || fail "valid reload failed"
grep -q 'applied, generation 2' "$T/reload.out" || fail "valid reload did not apply: $(cat "$T/reload.out")"

start=$(date +%s%N)
kill -TERM $PID
rc=0; wait $PID || rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ $rc -eq 0 ] || fail "SIGTERM exit status $rc"
[ $ms -lt 1000 ] || fail "SIGTERM took ${ms} ms"
[ ! -e "$T/lvsd.sock" ] || fail "control socket left behind"

rc=0; "$BIN/lvsctl" -s "$T/lvsd.sock" status 2> "$T/err" || rc=$?
[ $rc -eq 3 ] || fail "lvsctl without daemon exited $rc, want 3"
grep -q 'is lvsd running' "$T/err" || fail "no clear error without daemon"
echo "PASS lvsd lifecycle (TERM in ${ms} ms)"
