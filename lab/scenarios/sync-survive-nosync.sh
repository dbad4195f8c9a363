# lab-description: control for sync-survive-dr: without sync, DR streams die with the MASTER
# lab-timeout: 300
# lab-default: no
#
# sync-survive-dr with 20 streams and no kernel sync daemons: after the same
# takeover, every stream must fail (dir2 has no connection entries; its own
# TCP stack, which holds the VIP, answers the streams' segments with resets).
# Shows that sync-survive-dr's survivors are sync's doing.

SYNC_CONTROL=nosync
SYNC_STREAMS=20
. /lab/scenarios/sync-survive-dr.sh
