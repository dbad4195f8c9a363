#!/usr/bin/env bash
# The lab's own tests: a broken, hanging, crashing or frozen scenario must be
# reported as FAIL with a reason, lab/run must exit non-zero, and the run must
# end within its deadline. Also the command line's refusals.
#
#   lab/tests/selftest.sh [cli|failures|host-timeout]...   (default: all)
set -uo pipefail
LAB=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
RUN=$LAB/run
failed=0
out=
args=
shown=0

check() { # DESCRIPTION CONDITION...
  local what=$1
  shift
  if "$@"; then
    echo "selftest: ok: $what"
  else
    echo "selftest: FAILED: $what"
    failed=1
    if [[ $shown == 0 ]]; then
      echo "selftest: ---- output of: lab/run $args"
      echo "$out"
      echo "selftest: ----"
      shown=1
    fi
  fi
}
has_line() { grep -qE "$1" <<<"$out"; }

run_lab() { # ARGS...: sets out, rc, secs
  local t0 t1
  args="$*"
  shown=0
  t0=$(date +%s)
  out=$("$RUN" "$@" 2>&1)
  rc=$?
  t1=$(date +%s)
  secs=$((t1 - t0))
  echo "$out" | grep -E '^lab: (PASS|FAIL|summary)'
}

test_cli() {
  run_lab --list
  check "--list exits 0" test "$rc" = 0
  for s in nat-rr dr-wrr tun-wlc persistence fwmark selftest-broken; do
    check "--list shows $s" has_line "^$s +(default|manual) "
  done
  check "--list marks selftest-broken manual" has_line '^selftest-broken +manual '
  run_lab no-such-scenario
  check "an unknown scenario is refused with status 2" test "$rc" = 2
  check "... and named" has_line "no scenario 'no-such-scenario'"
  run_lab --timeout soon nat-rr
  check "a bad --timeout is refused with status 2" test "$rc" = 2
}

test_failures() {
  # One boot: a failing scenario, one that hangs (guest deadline 15 s), and a
  # kernel crash; each reported, and the run goes on after the first two.
  run_lab selftest-broken selftest-hang selftest-crash
  check "lab/run exits 1" test "$rc" = 1
  check "a silent real server is a FAIL with its reason" \
    has_line '^lab: FAIL selftest-broken: [0-9]+ request\(s\) failed: request [0-9]+: timed out waiting for the response'
  check "a hanging scenario is stopped at its deadline and named with its last step" \
    has_line '^lab: FAIL selftest-hang: timed out after 15s \(last step: waiting forever for rs1\)'
  check "a kernel crash is a FAIL of the scenario that was running" \
    has_line '^lab: FAIL selftest-crash: guest died while running it'
  check "the summary counts 3 failures" has_line '^lab: summary pass=0 fail=3 total=3'
  # deadlines: 60 + 15 + 30 (+5 each) + 90 boot allowance
  check "the run ended within its deadline (${secs}s)" test "$secs" -le 215
}

test_host_timeout() {
  # The guest goes silent for an hour; only the host's timeout can end it.
  run_lab --timeout 40 selftest-freeze nat-rr
  check "lab/run exits 1" test "$rc" = 1
  check "the silent scenario is reported as a hung guest" \
    has_line '^lab: FAIL selftest-freeze: guest hung \(host timeout after 40s while running it\)'
  check "the scenario after it is reported as not run" \
    has_line '^lab: FAIL nat-rr: not run \(host timeout after 40s in selftest-freeze\)'
  # 40 s + 10 s grace to kill qemu + image preparation
  check "qemu was stopped on time (${secs}s)" test "$secs" -le 100
}

[[ $# -gt 0 ]] || set -- cli failures host-timeout
for t in "$@"; do
  case $t in
  cli) test_cli ;;
  failures) test_failures ;;
  host-timeout) test_host_timeout ;;
  *) echo "selftest: unknown test $t" >&2; exit 2 ;;
  esac
done
[[ $failed == 0 ]] || exit 1
echo "selftest: all passed"
