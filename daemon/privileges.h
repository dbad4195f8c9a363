#pragma once
// Capabilities after start (docs/operations.md "Privileges"). Once its
// sockets are bound, netlink is open and the VIP, IPVS and heartbeat workers
// run, lvsd keeps only the capabilities it still needs, in every thread:
// effective = permitted = the kept set, inheritable and ambient empty, the
// bounding set cleared of everything else (so hook scripts and exec checks,
// which run as root, cannot regain the rest), and no_new_privs set.
//
// Capabilities are per thread in Linux, and capset(2) changes only the
// calling thread's. lvsd already runs several threads at that point, so the
// drop is broadcast: each thread receives kSignal and makes the same calls
// in its handler (raw system calls only, async-signal-safe); then every
// thread's /proc/self/task/TID/status is checked.

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"
#include "proto/config.pb.h"

namespace lvsd::daemon::privileges {

// One capability lvsd keeps, and why (logged).
struct Need {
  int cap;  // CAP_* number
  std::string why;
};

// What lvsd needs after start with this config: CAP_NET_ADMIN and
// CAP_NET_RAW always; CAP_SYS_NICE with heartbeat.realtime_priority;
// CAP_NET_BIND_SERVICE when metrics.listen or the sync peer channel use a
// port below 1024 (a reload may bind them again).
std::vector<Need> needed(const config::Config& cfg);
uint64_t maskOf(const std::vector<Need>& needs);

struct Report {
  bool held = false;      // the process had capabilities to drop
  uint64_t kept = 0;      // effective = permitted afterwards
  uint64_t dropped = 0;   // given up from the permitted set
  bool bounding = false;  // the bounding set was reduced to `kept`
  uint64_t boundingAfter = 0;
  bool noNewPrivs = false;
  size_t threads = 0;  // threads that were changed (main included)
};

// Keeps `keep` (intersected with what the process holds) in every thread.
// A process without capabilities (not root) changes nothing (held=false).
Result<Report> drop(uint64_t keep, bool noNewPrivs);

// "cap_net_admin", or "cap_N" for numbers this table does not know.
std::string capName(int cap);
// "cap_net_admin,cap_net_raw" ("none" when empty).
std::string capNames(uint64_t mask);

}  // namespace lvsd::daemon::privileges
