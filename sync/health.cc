// Role names and the health merge (pure parts of the public header).
#include <map>
#include <tuple>

#include "sync/sync.h"

namespace lvsd::sync {

const char* roleName(InstanceRole r) {
  switch (r) {
    case InstanceRole::kInit:
      return "INIT";
    case InstanceRole::kBackup:
      return "BACKUP";
    case InstanceRole::kMaster:
      return "MASTER";
    case InstanceRole::kFault:
      return "FAULT";
    case InstanceRole::kStop:
      return "STOP";
  }
  return "?";
}

std::vector<MergedRealServer> mergeHealth(
    const HealthView& local, const std::vector<std::pair<std::string, HealthView>>& peers) {
  // (service key, real server) -> the latest settled peer report.
  std::map<std::pair<std::string, Endpoint>, std::pair<const RealServerHealth*, const std::string*>>
      reported;
  for (const auto& [name, view] : peers)
    for (const auto& s : view.services)
      for (const auto& rs : s.realServers)
        if (rs.settled) reported[{s.key, rs.address}] = {&rs, &name};

  std::vector<MergedRealServer> out;
  for (const auto& s : local.services) {
    for (const auto& rs : s.realServers) {
      MergedRealServer m;
      m.service = s.key;
      m.health = rs;
      if (!rs.settled) {
        if (auto it = reported.find({s.key, rs.address}); it != reported.end()) {
          m.health = *it->second.first;
          m.source = HealthSource::kPeer;
          m.peer = *it->second.second;
        }
      }
      out.push_back(std::move(m));
    }
  }
  return out;
}

}  // namespace lvsd::sync
