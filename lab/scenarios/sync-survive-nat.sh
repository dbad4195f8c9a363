# lab-description: 200 long-lived NAT streams through the loss of the MASTER director (reported)
# lab-timeout: 600
# lab-default: no
#
# sync-survive-dr with NAT forwarding: the real servers' gateway ($LAN_GW)
# moves with the VIP. NAT needs more than the IPVS entry (the replies come
# back through the director and, with conntrack in use, need its state), so
# the count is reported, not required. Prints RESULT method=nat survived=N/200.

SYNC_METHOD=nat
. /lab/scenarios/sync-survive-dr.sh
