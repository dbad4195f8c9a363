#pragma once
// config/ public: what changed between two validated configs, by key, so a
// reload applies only the difference (DESIGN.md §Style 7: reconcile, never
// flush and re-add). Pure: no I/O, no clock.

#include <string>
#include <vector>

#include "proto/config.pb.h"

namespace lvsd::config {

enum class ChangeKind { kAdded, kRemoved, kChanged };

struct Change {
  ChangeKind kind;
  std::string key;     // the item's key (see ConfigDiff)
  std::string parent;  // real servers: the service key; else empty
  bool operator==(const Change&) const = default;
};

// Items are compared semantically: a field set to its default equals the
// field left unset. Removed items come in the old config's order, then added
// and changed ones in the new config's order.
struct ConfigDiff {
  std::vector<Change> directors;   // by name
  std::vector<Change> instances;   // by name
  std::vector<Change> syncGroups;  // by name
  std::vector<Change> vipGroups;   // by name
  std::vector<Change> trackers;    // by name
  std::vector<Change> checks;      // named checks (Config.check), by name
  // Virtual services by serviceKey() ("tcp/192.0.2.10:80", "fwmark/1/inet");
  // "changed" means a service attribute other than its real-server list
  // changed (scheduler, persistence, name, checks, ...).
  std::vector<Change> services;
  // Real servers by canonical address ("10.0.0.1:8080"), parent = service
  // key, only for services present in both configs: an added or removed
  // service brings or takes all of its real servers.
  std::vector<Change> realServers;
  // Singleton sections (any field).
  bool heartbeat = false;
  bool sync = false;
  bool feedback = false;
  bool notify = false;
  bool control = false;
  bool metrics = false;
  bool ipvs = false;

  bool empty() const;
  // One line per change: "+ service tcp/192.0.2.10:80",
  // "~ real_server tcp/192.0.2.10:80 192.0.2.101:80", "~ heartbeat".
  std::string toString() const;
};

// Both configs are expected to have passed validation (keys unique); with
// duplicates, the first item with a key stands for it.
ConfigDiff diff(const Config& before, const Config& after);

}  // namespace lvsd::config
