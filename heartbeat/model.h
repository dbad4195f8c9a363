#pragma once
// Private to heartbeat/: what one director needs from the cluster config,
// resolved once (names to indices, addresses parsed, priorities and
// intervals chosen, sync-group trackers shared). Building it is pure except
// for reading key secret files.

#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/address.h"
#include "core/clock.h"
#include "core/result.h"
#include "heartbeat/native_codec.h"
#include "heartbeat/tracker.h"
#include "heartbeat/vrrp_codec.h"

namespace lvsd::heartbeat {

enum class Protocol : uint8_t { kNative, kVrrp3, kVrrp2 };

struct LinkPeer {
  size_t peer;        // index into Model::peers
  IpAddress address;  // the peer's address on this link
};

struct LinkModel {
  std::string name;
  std::string interface;
  IpAddress local;      // this director's address on the link
  std::vector<LinkPeer> peers;
};

struct PeerModel {
  std::string name;
};

struct NotifyModel {
  std::vector<std::string> onMaster, onBackup, onFault, onStop, onChange;
  Duration timeout = std::chrono::seconds(10);
  bool empty() const {
    return onMaster.empty() && onBackup.empty() && onFault.empty() && onStop.empty() &&
           onChange.empty();
  }
};

struct TrackerModel {
  std::string name;
  TrackerKind kind = TrackerKind::kScript;
  int32_t weight = 0;
  std::string interface;              // kInterface
  std::vector<std::string> argv;      // kScript
  Duration scriptInterval = std::chrono::seconds(2);
  Duration scriptTimeout = std::chrono::seconds(1);
  uint32_t rise = 1, fall = 1;
  std::string path;                   // kFile
  std::string virtualService;         // kQuorum
};

struct InstanceModel {
  std::string name;
  uint8_t vrid = 0;
  uint8_t priority = 100;  // configured for this director
  bool preempt = true;
  Duration preemptDelay{0};
  Duration interval = std::chrono::seconds(1);
  std::vector<size_t> links;            // indices into Model::links; first = tie-break link
  std::vector<std::string> vipGroups;
  std::vector<IpAddress> vrrpAddresses;  // VIPs of the link's family (VRRP address list)
  std::vector<size_t> trackers;          // own + sync-group partners' (indices)
  NotifyModel notify;
  int syncGroup = -1;
};

struct Model {
  Protocol protocol = Protocol::kNative;
  std::string self;
  std::string digest;
  uint32_t deadCount = 3;
  uint16_t port = 5405;
  Duration replayWindow = std::chrono::seconds(5);
  uint8_t dscp = 48;
  uint32_t realtimePriority = 0;
  bool releaseOnStop = true;
  bool vrrpUnicast = false;
  KeyRing keys;
  std::vector<LinkModel> links;
  std::vector<PeerModel> peers;
  std::vector<InstanceModel> instances;
  std::vector<std::vector<size_t>> syncGroups;
  std::vector<TrackerModel> trackers;
  NotifyModel notify;  // global hooks, run before the instance's

  std::optional<size_t> instanceByName(std::string_view name) const;
  std::optional<size_t> peerByName(std::string_view name) const;
  std::optional<size_t> linkByName(std::string_view name) const;
};

// Resolves the config for director `self`. Errors are what validation
// should already have refused; they are reported, never guessed around.
Result<Model> buildModel(const config::Config& cfg, const std::string& self,
                         const std::string& digest);

}  // namespace lvsd::heartbeat
