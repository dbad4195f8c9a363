#!/usr/bin/env bash
# Process-level contract of the metrics endpoint (no root):
#  - off without config.metrics; on at metrics.listen with every standard family;
#  - only GET/HEAD /metrics (404 elsewhere);
#  - reload moves it to a new address, a rejected reload is counted, removing
#    the section switches it off;
#  - a second lvsd on a taken address exits 7 and says why;
#  - SIGTERM closes it;
#  - the components fill their families: with a dry-run service whose TCP
#    check passes for one real server (the metrics port itself) and fails for
#    the other, the check, real-server, IPVS programming, kernel-statistics
#    and sync families carry samples. (The election's families need root and
#    a network namespace: tests/process/lvsd_caps.sh.)
set -euo pipefail
BIN=${1:?usage: lvsd_metrics.sh BINDIR}
T=$(mktemp -d)
PID=
trap '[ -n "$PID" ] && kill -9 $PID 2>/dev/null; rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; echo "--- lvsd log:" >&2; cat "$T/log" >&2 || true; exit 1; }
scrape() { curl -sS --max-time 5 "http://127.0.0.1:$1${2:-/metrics}"; }
refused() { ! curl -s --max-time 2 -o /dev/null "http://127.0.0.1:$1/metrics"; }
free_port() {  # a port nothing listens on now (the kernel's ephemeral range is avoided)
  local p
  for _ in $(seq 50); do
    p=$((20000 + RANDOM % 10000))
    refused "$p" && { echo "$p"; return; }
  done
  return 1
}
conf() {  # conf METRICS_LINE [MORE]
  printf 'director { name: "dir1" }\ncontrol { socket: "%s/lvsd.sock" }\n%s\n%s\n' "$T" "$1" "${2:-}" > "$T/lvsd.conf"
}

P1=$(free_port); P2=$(free_port)
[ "$P1" != "$P2" ] || P2=$((P1 + 1))
conf "metrics { listen: \"127.0.0.1:$P1\" }"
"$BIN/lvsd" -f "$T/lvsd.conf" --foreground --dry-run -n dir1 2> "$T/log" &
PID=$!
for _ in $(seq 50); do [ -S "$T/lvsd.sock" ] && break; sleep 0.1; done
[ -S "$T/lvsd.sock" ] || fail "lvsd did not start"

scrape "$P1" > "$T/m1" || fail "no metrics on 127.0.0.1:$P1"
for fam in lvsd_build_info lvsd_instance_role lvsd_instance_transitions_total \
           lvsd_heartbeat_loop_late_wakeups_total lvsd_heartbeat_dropped_total lvsd_check_results_total \
           lvsd_check_duration_seconds lvsd_real_server_up lvsd_real_server_weight \
           lvsd_ipvs_operations_total lvsd_ipvs_operation_errors_total lvsd_sync_resyncs_total \
           lvsd_sync_peer_up lvsd_ipvs_service_connections_total \
           lvsd_ipvs_service_connections_per_second lvsd_ipvs_destination_active_connections \
           lvsd_ipvs_destination_connections_per_second lvsd_config_reloads_total; do
  grep -q "^# TYPE $fam " "$T/m1" || fail "family $fam missing from the scrape"
done
grep -q '^lvsd_config_generation 1$' "$T/m1" || fail "generation gauge not 1"
grep -q '^lvsd_build_info{version="[0-9.]*"} 1$' "$T/m1" || fail "build info missing"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P1/") || true
[ "$code" = 404 ] || fail "GET / answered $code, want 404"
ctype=$(curl -sS -o /dev/null -w '%{content_type}' "http://127.0.0.1:$P1/metrics")
[ "$ctype" = "text/plain; version=0.0.4; charset=utf-8" ] || fail "content type '$ctype'"

# A second lvsd cannot take the same address: exit 7 with the reason.
conf "metrics { listen: \"127.0.0.1:$P1\" }"
sed -i "s|$T/lvsd.sock|$T/other.sock|" "$T/lvsd.conf"
rc=0; "$BIN/lvsd" -f "$T/lvsd.conf" --foreground --dry-run -n dir1 2> "$T/second.log" || rc=$?
[ $rc -eq 7 ] || { cat "$T/second.log" >&2; fail "second lvsd on a taken port exited $rc, want 7"; }
grep -q "127.0.0.1:$P1" "$T/second.log" || fail "second lvsd did not name the address"

# Reload moves the endpoint.
conf "metrics { listen: \"127.0.0.1:$P2\" }"
"$BIN/lvsctl" -s "$T/lvsd.sock" reload > /dev/null || fail "reload to a new port failed"
scrape "$P2" > "$T/m2" || fail "no metrics on the new port $P2"
refused "$P1" || fail "old port $P1 still answers"
grep -q '^lvsd_config_generation 2$' "$T/m2" || fail "generation gauge not 2 after reload"
grep -q '^lvsd_config_reloads_total{result="applied"} 1$' "$T/m2" || fail "applied reload not counted"

# A rejected reload is counted and changes nothing.
printf 'bogus_field: 1\n' >> "$T/lvsd.conf"
"$BIN/lvsctl" -s "$T/lvsd.sock" reload > /dev/null 2>&1 && fail "broken reload accepted"
scrape "$P2" > "$T/m3" || fail "endpoint gone after a rejected reload"
grep -q '^lvsd_config_reloads_total{result="rejected"} 1$' "$T/m3" || fail "rejected reload not counted"

# Without the section, the endpoint is off.
conf ""
"$BIN/lvsctl" -s "$T/lvsd.sock" reload > /dev/null || fail "reload without metrics failed"
refused "$P2" || fail "endpoint still on after metrics was removed"
conf "metrics { listen: \"127.0.0.1:$P2\" }"
"$BIN/lvsctl" -s "$T/lvsd.sock" reload > /dev/null || fail "reload switching metrics on failed"
scrape "$P2" > "$T/m4" || fail "endpoint not back on"
grep -q '^lvsd_metrics_scrapes_total [0-9]' "$T/m4" || fail "scrape counter missing"

kill -TERM $PID
rc=0; wait $PID || rc=$?
PID=
[ $rc -eq 0 ] || fail "SIGTERM exit status $rc"
refused "$P2" || fail "endpoint still answers after lvsd stopped"

# The components' families, from a running service (dry-run backend).
P3=$(free_port); DEAD=$(free_port)
SERVICE="check { name: \"tcp\" tcp {} interval_ms: 300 timeout_ms: 200 rise: 1 fall: 1 }
virtual_service { name: \"web\" address: \"192.0.2.10:80\" scheduler: \"wrr\" forwarding: NAT
  real_server { address: \"127.0.0.1:$P3\" weight: 5 }
  real_server { address: \"127.0.0.1:$DEAD\" weight: 3 }
  check: \"tcp\" }"
conf "metrics { listen: \"127.0.0.1:$P3\" }" "$SERVICE"
"$BIN/lvsd" -f "$T/lvsd.conf" --config-test > /dev/null 2>&1 || { "$BIN/lvsd" -f "$T/lvsd.conf" --config-test >&2; fail "service config invalid"; }
"$BIN/lvsd" -f "$T/lvsd.conf" --foreground --dry-run -n dir1 2> "$T/log" &
PID=$!
for _ in $(seq 50); do [ -S "$T/lvsd.sock" ] && break; sleep 0.1; done
[ -S "$T/lvsd.sock" ] || fail "lvsd with a service did not start"
UP="service=\"web\",real_server=\"127.0.0.1:$P3\""
DOWN="service=\"web\",real_server=\"127.0.0.1:$DEAD\""
# The worker refreshes kernel statistics every 2 s; checks run every 300 ms.
ok=
for _ in $(seq 100); do
  scrape "$P3" > "$T/m5" || fail "no metrics on $P3"
  grep -q "^lvsd_real_server_up{$UP} 1\$" "$T/m5" &&
    grep -q "^lvsd_real_server_up{$DOWN} 0\$" "$T/m5" &&
    grep -q "^lvsd_ipvs_destination_active_connections{$UP} 0\$" "$T/m5" &&
    grep -Eq "^lvsd_check_results_total\{check=\"tcp\",target=\"127.0.0.1:$DEAD\",result=\"failure\"\} [1-9]" "$T/m5" &&
    { ok=1; break; }
  sleep 0.1
done
[ -n "$ok" ] || { cat "$T/m5" >&2; fail "real servers not 1 (up) and 0 (down), no failed check, or no kernel statistics, after 10 s"; }
m=$T/m5
want() {  # want REGEX WHAT
  grep -Eq "$1" "$m" || { grep -v '^#' "$m" | grep -E 'check|real_server' >&2; fail "$2: no line matches $1"; }
}
want "^lvsd_check_results_total\{check=\"tcp\",target=\"127.0.0.1:$P3\",result=\"success\"\} [1-9][0-9]*\$" "passing check counted"
want "^lvsd_check_results_total\{check=\"tcp\",target=\"127.0.0.1:$DEAD\",result=\"failure\"\} [1-9][0-9]*\$" "failing check counted"
want "^lvsd_check_last_duration_seconds\{check=\"tcp\",target=\"127.0.0.1:$P3\"\} [0-9.e-]+\$" "last check latency"
want "^lvsd_check_duration_seconds_count [1-9][0-9]*\$" "check latency histogram"
want "^lvsd_check_duration_seconds_bucket\{le=\"\+Inf\"\} [1-9][0-9]*\$" "check latency +Inf bucket"
want "^lvsd_real_server_weight\{$UP\} 5\$" "weight of the up server"
want "^lvsd_real_server_weight\{$DOWN\} 0\$" "weight of the down server (not in IPVS)"
want "^lvsd_ipvs_applies_total [1-9][0-9]*\$" "IPVS applies"
want "^lvsd_ipvs_operations_total [1-9][0-9]*\$" "IPVS operations (service + destination added)"
want "^lvsd_ipvs_operation_errors_total 0\$" "IPVS operation errors"
want "^lvsd_ipvs_service_connections_total\{service=\"web\"\} 0\$" "service connections (dry run: 0)"
want "^lvsd_ipvs_service_bytes_per_second\{service=\"web\",direction=\"in\"\} 0\$" "service byte rate"
want "^lvsd_ipvs_destination_connections_per_second\{$UP\} 0\$" "destination connection rate"
want "^lvsd_sync_resyncs_total 0\$" "resyncs"
want "^lvsd_sync_daemon_switches_total [0-9]+\$" "sync daemon switches"
# The down server is not in the (dry-run) IPVS table, so it has no kernel statistics.
! grep -q "^lvsd_ipvs_destination_active_connections{$DOWN}" "$m" || fail "a server absent from IPVS has kernel statistics"
# Draining sets the wanted weight to 0 at the next scrape.
"$BIN/lvsctl" -s "$T/lvsd.sock" drain web "127.0.0.1:$P3" > /dev/null || fail "drain failed"
scrape "$P3" > "$T/m6"
grep -q "^lvsd_real_server_weight{$UP} 0\$" "$T/m6" || fail "drained server's weight not 0"
kill -TERM $PID
rc=0; wait $PID || rc=$?
PID=
[ $rc -eq 0 ] || fail "SIGTERM exit status $rc (service run)"
echo "PASS lvsd metrics endpoint"
