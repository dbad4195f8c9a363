#!/usr/bin/env bash
# Process-level contract of `lvsctl import` (no root):
#  - the keepalived DR pair (both directors' files) converts completely (exit 0)
#    and `lvsd --config-test` accepts the result;
#  - one director's file alone converts too, inferring its peer;
#  - a file with unsupported items prints the partial config, lists each item
#    with FILE:LINE:COL on stderr and exits 1;
#  - `ipvsadm -S -n` text on stdin converts and validates;
#  - bad usage and unreadable files exit 2 and print nothing on stdout.
set -euo pipefail
BIN=${1:?usage: lvsctl_import.sh BINDIR SRCDIR}
SRC=${2:?usage: lvsctl_import.sh BINDIR SRCDIR}
DATA=$SRC/tests/unit/import/data
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; for f in "$T"/*.err; do [ -e "$f" ] && { echo "--- $f" >&2; cat "$f" >&2; }; done; exit 1; }

cd "$DATA"
"$BIN/lvsctl" import keepalived dr-master.conf dr-backup.conf > "$T/pair.conf" 2> "$T/pair.err" ||
  fail "import of the DR pair exited $?"
grep -q 'result is valid' "$T/pair.err" || fail "import did not validate its result"
"$BIN/lvsd" --config-test -f "$T/pair.conf" -n lvs1 > "$T/ct.out" 2> "$T/ct.err" ||
  fail "lvsd --config-test rejects the converted DR pair"
"$BIN/lvsd" --config-test -f "$T/pair.conf" -n lvs2 > /dev/null 2>> "$T/ct.err" ||
  fail "lvsd --config-test -n lvs2 rejects the converted DR pair"
grep -q 'virtual_service' "$T/pair.conf" || fail "no services in the converted DR pair"

"$BIN/lvsctl" import keepalived --name lvs1 dr-master.conf > "$T/single.conf" 2> "$T/single.err" ||
  fail "import of dr-master.conf alone exited $?"
"$BIN/lvsd" --config-test -f "$T/single.conf" > /dev/null 2> "$T/ct1.err" ||
  fail "lvsd --config-test rejects the single-file conversion"
grep -q 'peer-10.0.0.2' "$T/single.conf" || fail "peer director not inferred"

rc=0
"$BIN/lvsctl" import keepalived kitchen.conf > "$T/kitchen.conf" 2> "$T/kitchen.err" || rc=$?
[ $rc -eq 1 ] || fail "partial import exited $rc, want 1"
grep -q '^virtual_service {' "$T/kitchen.conf" || fail "partial import printed no config"
grep -q '^kitchen.conf:30:5: unsupported: VRRP authentication' "$T/kitchen.err" ||
  fail "unsupported item not reported with its location"
grep -q 'not converted' "$T/kitchen.err" || fail "no summary line"

"$BIN/lvsctl" import ipvsadm --name dir1 - < digest.rules > "$T/ipvs.conf" 2> "$T/ipvs.err" ||
  fail "import ipvsadm from stdin exited $?"
"$BIN/lvsd" --config-test -f "$T/ipvs.conf" > /dev/null 2> "$T/ct2.err" ||
  fail "lvsd --config-test rejects the converted ipvsadm rules"
[ "$(grep -c '^virtual_service {' "$T/ipvs.conf")" -eq 13 ] || fail "expected 13 services from digest.rules"

for args in "import" "import nginx x" "import keepalived" "import ipvsadm a b" \
            "import keepalived --bogus dr-master.conf" "import keepalived /nonexistent/k.conf" \
            "import keepalived --name a dr-master.conf dr-backup.conf"; do
  rc=0
  # shellcheck disable=SC2086
  "$BIN/lvsctl" $args > "$T/usage.out" 2> "$T/usage.err" || rc=$?
  [ $rc -eq 2 ] || fail "'lvsctl $args' exited $rc, want 2"
  [ ! -s "$T/usage.out" ] || fail "'lvsctl $args' printed to stdout"
  [ -s "$T/usage.err" ] || fail "'lvsctl $args' said nothing on stderr"
done
echo "PASS lvsctl import"
