#!/usr/bin/env bash
# Runs an lvsd binary over the bad-config corpus the way an operator would:
#   lvsd --config-test -f tests/unit/config/bad/NAME.conf
# Each must exit 2 and print every line of NAME.expect on stderr (one error
# per line). The shipped configs (etc/**/*.conf) must exit 0.
#   tests/unit/config/check_corpus.sh path/to/lvsd
set -uo pipefail

lvsd=${1:?usage: $0 LVSD_BINARY}
lvsd=$(realpath "$lvsd")
cd "$(dirname "$0")/../../.." || exit 1   # the source root: .expect paths are relative to it

failures=0
checked=0
for conf in tests/unit/config/bad/*.conf; do
  expect=${conf%.conf}.expect
  checked=$((checked + 1))
  if [ ! -f "$expect" ]; then
    echo "FAIL $conf: no $expect" >&2
    failures=$((failures + 1))
    continue
  fi
  stderr=$("$lvsd" --config-test -f "$conf" 2>&1 >/dev/null)
  rc=$?
  if [ "$rc" -ne 2 ]; then
    echo "FAIL $conf: exit $rc, expected 2" >&2
    failures=$((failures + 1))
    continue
  fi
  while IFS= read -r line; do
    [ -n "$line" ] || continue
    if ! grep -qxF -- "$line" <<<"$stderr"; then
      echo "FAIL $conf: missing on stderr: $line" >&2
      echo "  stderr was:" >&2
      sed 's/^/    /' <<<"$stderr" >&2
      failures=$((failures + 1))
    fi
  done <"$expect"
done

while IFS= read -r conf; do
  checked=$((checked + 1))
  if ! out=$("$lvsd" --config-test -f "$conf" 2>&1); then
    echo "FAIL $conf: not valid:" >&2
    sed 's/^/    /' <<<"$out" >&2
    failures=$((failures + 1))
  fi
done < <(find etc -name '*.conf' | sort)

if [ "$failures" -gt 0 ]; then
  echo "check_corpus: $failures failure(s) in $checked files" >&2
  exit 1
fi
echo "check_corpus: $checked files OK"
