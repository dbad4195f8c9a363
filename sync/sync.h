#pragma once
// sync/: connection-state sync between directors. The only public header
// of the module.
//
// A SyncManager keeps three things going on one Asio io_context:
//  - the kernel's IPVS sync daemons, following this director's election
//    roles (MASTER runs the master daemon, BACKUP the backup daemon, or both
//    with KernelSync.mode BOTH), switched without a gap and checked against
//    what the kernel reports;
//  - full-table resyncs: when a peer enters BACKUP (it asks over the peer
//    channel, or the daemon reports it), the MASTER reads its connection
//    table and persistence templates from /proc/net/ip_vs_conn and sends
//    them as IPVS sync protocol v1 datagrams to the sync group, paced, with
//    the remaining timeouts; the backup's kernel creates the entries;
//  - the peer channel: TLS (mutual certificates or a pre-shared key)
//    between directors, carrying each director's real-server health and
//    dynamic weights, its config digest, and resync requests. It reconnects
//    with backoff; every socket operation is asynchronous, so the heartbeat
//    sharing the loop never waits on it.
// Blocking work (netlink round trips, reading the proc table) runs on a
// worker thread owned by the manager.
//
// Inputs come from daemon/ (role transitions, local health, a peer seen
// entering BACKUP); outputs go out through Callbacks. sync/ calls no other
// module.

#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/address.h"
#include "core/clock.h"
#include "core/result.h"

namespace lvsd::ipvs {
class IpvsBackend;
}

namespace lvsd::sync {

// This director's state in one election instance (heartbeat's states).
enum class InstanceRole : uint8_t { kInit, kBackup, kMaster, kFault, kStop };
const char* roleName(InstanceRole r);  // "INIT" "BACKUP" "MASTER" "FAULT" "STOP"

// ---------------------------------------------------------------------------
// Health and weights, as directors exchange them.

struct RealServerHealth {
  Endpoint address;
  bool up = false;
  // The weight this director wants in IPVS (dynamic weights included);
  // nullopt = not in the pool.
  std::optional<uint32_t> weight;
  bool draining = false;
  // The checks have reached a verdict (rise or fall) at least once. An
  // unsettled state is the configured initial state, not knowledge.
  bool settled = false;
  bool operator==(const RealServerHealth&) const = default;
};

struct ServiceHealth {
  std::string key;  // config::serviceKey()
  bool quorum = false;
  bool sorryActive = false;
  std::vector<RealServerHealth> realServers;
  bool operator==(const ServiceHealth&) const = default;
};

struct HealthView {
  std::vector<ServiceHealth> services;
  bool operator==(const HealthView&) const = default;
};

// Where a merged real-server state came from.
enum class HealthSource : uint8_t { kLocal, kPeer };

struct MergedRealServer {
  std::string service;
  RealServerHealth health;
  HealthSource source = HealthSource::kLocal;
  std::string peer;  // with kPeer
};

// The view a director should act on (e.g. when it becomes MASTER, or right
// after it starts): for each real server of the local view, the local state
// once the local checks have settled; before that, the state a peer reports
// as settled (the newest report wins when several peers report it);
// otherwise the local state. Servers only a peer knows are ignored (its
// config differs). Pure.
std::vector<MergedRealServer> mergeHealth(
    const HealthView& local, const std::vector<std::pair<std::string, HealthView>>& peers);

// ---------------------------------------------------------------------------
// The manager.

struct PeerStatus {
  std::string director;
  bool connected = false;
  std::string address;       // "ip:port" the channel uses
  std::string configDigest;  // the peer's, as last reported
  bool configMismatch = false;
  int64_t lastHeardUnixMs = 0;
  std::string lastError;     // why the last connection closed
  uint64_t connects = 0;
  uint64_t protocolErrors = 0;
  bool hasHealth = false;
};

struct ResyncStatus {
  uint64_t runs = 0;
  uint64_t entries = 0;    // of the last run
  uint64_t datagrams = 0;  // of the last run
  uint64_t skipped = 0;
  uint64_t unresolved = 0;
  int64_t durationMs = 0;
  std::string lastError;
  bool running = false;
};

struct SyncStatus {
  std::string daemons;  // "none" "master" "backup" "both": what should run
  std::string kernelDaemons;  // what the kernel last reported, e.g. "master eth1 syncid 3"
  std::string daemonError;    // last mismatch or failure, empty when in line
  uint64_t daemonSwitches = 0;
  ResyncStatus resync;
  std::vector<PeerStatus> peers;
  // Peer-channel protocol errors by reason ("bad-frame", "bad-hello", ...).
  std::vector<std::pair<std::string, uint64_t>> channelErrors;
};

struct Callbacks {
  // A peer's health view arrived (full replacement of that peer's view).
  std::function<void(const std::string& peer, const HealthView& view)> onPeerHealth;
  // The config digest comparison with a peer changed (or was first made).
  std::function<void(const std::string& peer, bool mismatch, const std::string& peerDigest)>
      onConfigCompared;
  // A peer channel came up (true) or went down (false, with the reason).
  std::function<void(const std::string& peer, bool up, const std::string& reason)> onPeerChannel;
};

struct Options {
  std::string director;  // this director's name
  // Where the connection table is read from (tests point elsewhere).
  std::string connProcPath = "/proc/net/ip_vs_conn";
  // Opens the backend the worker thread uses for sync-daemon requests and
  // for reading the service table. Default: ipvs::makeNetlinkBackend().
  std::function<Result<std::unique_ptr<ipvs::IpvsBackend>>()> makeBackend;
  // Program nothing into the kernel (dry run): daemons and resyncs are
  // planned and logged only. The peer channel still runs.
  bool dryRun = false;
  // Monotonic seed for reconnect jitter (0 = random).
  uint64_t seed = 0;
};

class SyncManager {
 public:
  SyncManager(boost::asio::io_context& io, const Clock& clock, Options options,
              Callbacks callbacks);
  ~SyncManager();
  SyncManager(const SyncManager&) = delete;
  SyncManager& operator=(const SyncManager&) = delete;

  lvsd::Status start(const config::ConfigPtr& cfg);
  // Applies only what changed: daemons are re-planned, the channel is
  // restarted only when its endpoints or credentials changed, and the new
  // digest is announced to the peers at once.
  lvsd::Status reload(const config::ConfigPtr& cfg);
  // leave = keep the kernel sync daemons running (restart without disruption).
  void stop(bool leave);

  // This director's role in an instance changed.
  void setRole(const std::string& instance, InstanceRole role);
  // This director's health view changed; sent to the peers (coalesced).
  void setLocalHealth(HealthView view);
  // The heartbeat saw `peer` enter BACKUP: a MASTER resyncs the table to it.
  void peerEnteredBackup(const std::string& peer);
  // Operator request: resync now (MASTER only).
  lvsd::Status requestResync(const std::string& reason);

  SyncStatus status() const;
  std::optional<HealthView> peerHealth(const std::string& peer) const;
  // mergeHealth() of the last local view and every peer's view.
  std::vector<MergedRealServer> mergedHealth() const;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace lvsd::sync
