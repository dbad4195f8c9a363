#!/bin/sh
# Runs one scenario (/lab/scenarios/NAME.sh) in a shell that has the lab
# helpers loaded. The verdict is this shell's exit status plus
# $LAB_STATE/fail-reason, which fail() writes (from any subshell, too).
# /init runs this with a deadline and cleans up whatever it leaves behind.
LAB_SCENARIO=$1
export LAB_SCENARIO
# shellcheck source=lib.sh
. /lab/guest/lib.sh
mkdir -p "$LAB_STATE"
cd "$LAB_STATE" || exit 1
if [ ! -f "/lab/scenarios/$LAB_SCENARIO.sh" ]; then
  fail "no such scenario: /lab/scenarios/$LAB_SCENARIO.sh"
fi
# shellcheck disable=SC1090
. "/lab/scenarios/$LAB_SCENARIO.sh"
