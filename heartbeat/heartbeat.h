#pragma once
// heartbeat/: paired directors elect one MASTER per instance. The one public
// header.
//
// HeartbeatService runs the election on its own thread with its own event
// loop, so advertisements are sent and received on time whatever the rest
// of lvsd is doing (health checks, netlink bulk work, logging). It reports
// transitions through callbacks; it does not touch VIPs (daemon/ turns a
// transition into vip/ commands).

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/result.h"
#include "heartbeat/types.h"
#include "proto/control.pb.h"

namespace lvsd::heartbeat {

struct Transition {
  std::string instance;
  State from = State::kInit;
  State to = State::kInit;
  Reason reason = Reason::kStartup;
  uint8_t priority = 0;  // effective priority at the transition
  int64_t unixMs = 0;
  std::vector<std::string> vipGroups;  // what the instance holds as MASTER
  // "instance=web BACKUP -> MASTER reason=master-down-timer prio=100"
  std::string line;
};

struct Callbacks {
  // Both run on the heartbeat thread, in order, and must not block: post
  // the work elsewhere.
  std::function<void(const Transition&)> onTransition;
  // A MASTER heard a lower-priority master (a healing split brain): the
  // instance's VIPs should be announced again now.
  std::function<void(const std::string& instance, const std::vector<std::string>& vipGroups)>
      onReassert;
};

class HeartbeatService {
 public:
  // Resolves the config for director `self`; opens nothing yet.
  static Result<std::unique_ptr<HeartbeatService>> create(const config::Config& cfg,
                                                          const std::string& self,
                                                          const std::string& digest,
                                                          Callbacks callbacks);
  ~HeartbeatService();

  // Opens the sockets, reads the trackers' first state and starts the loop.
  // `resume`: instances this director was MASTER of before restarting in
  // place (daemon/ finds their VIPs still held with release_on_stop
  // false); they start as MASTER and advertise at once (reason `resume`).
  Status start(const std::vector<std::string>& resume = {});
  // Clean stop: with heartbeat.release_on_stop a MASTER advertises priority
  // 0 first. Every instance reports a transition to STOP; queued notify
  // hooks (on_stop included) run before this returns.
  void stop();

  // `lvsctl failover`: the instance (every one when empty) runs at priority
  // 1 for `duration` (0 = until endFailovers); a MASTER steps down at once
  // with priority 0, so the backup takes over after its skew time. Unknown
  // instance: an error.
  Status failover(const std::string& instance, Duration duration);
  // Back to the configured priorities (a reload does this).
  void endFailovers();

  // Result of a quorum tracker's virtual service (from the health checks).
  void setQuorum(const std::string& virtualService, bool ok);
  // After a reload: the digest NATIVE heartbeats carry (peers compare it).
  void setConfigDigest(const std::string& digest);
  // Health summary carried in NATIVE heartbeats.
  void setHealth(uint32_t services, uint32_t servicesQuorumOk, uint32_t realServers,
                 uint32_t realServersUp);

  // Instance and peer parts of `lvsctl status`.
  void fillStatus(control::Status& status) const;
  // Lines for the SIGUSR1 dump: instances, peers, counters, loop lateness.
  std::vector<std::string> dumpState() const;
  // Flat counters ("drop.bad-mac", "sent", "loop.late_over_5ms", ...).
  std::map<std::string, uint64_t> counters() const;

 private:
  class Impl;
  explicit HeartbeatService(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lvsd::heartbeat
