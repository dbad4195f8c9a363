#pragma once
// Pool logic of one virtual service, pure: from each real server's check
// output and the operator's overrides it computes the desired destination
// set and weights, the sorry server, drain progress and the quorum.
//
// Per real server:
//   checks DOWN                      -> DOWN      (REMOVE: absent; INHIBIT: weight 0)
//   checks UP, drain wanted, pending -> DRAINING  (weight 0 until 0 active
//                                                  connections or the deadline)
//   checks UP, drain done            -> DRAINED   (absent)
//   checks UP                        -> ACTIVE    (operator weight, else the
//                                                  checks' dynamic weight, else
//                                                  the configured weight)
// The sorry server is added while no ACTIVE server has a weight above 0.
// Quorum: lost when the up weight drops below min_weight, regained at
// min_weight + hysteresis.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/address.h"
#include "core/clock.h"
#include "core/result.h"
#include "healthcheck/checker.h"
#include "healthcheck/healthcheck.h"

namespace lvsd::healthcheck {

struct RealServerSpec {
  Endpoint address;
  uint32_t weight = 1;
};

struct PoolSpec {
  std::string service;
  std::string key;
  int index = -1;
  std::vector<RealServerSpec> realServers;
  bool inhibitOnDown = false;
  std::optional<Endpoint> sorry;
  uint32_t sorryWeight = 1;
  uint64_t quorumMin = 1;
  uint64_t quorumHysteresis = 0;
  Duration drainTimeout = std::chrono::seconds(300);

  // Errors only for a config that validation should have refused.
  static Result<PoolSpec> fromProto(const config::VirtualService& vs, int index);
};

// The combined output of a real server's checks.
struct CheckOutput {
  Health health = Health::kDown;
  std::optional<uint32_t> weight;
  bool drain = false;
  std::string reason;  // "http: status 503"
  bool operator==(const CheckOutput&) const = default;
};

// lvsctl drain|weight.
struct AdminOverride {
  bool drain = false;
  std::optional<uint32_t> weight;
  bool operator==(const AdminOverride&) const = default;
};

enum class ServerState : uint8_t { kActive, kDown, kDraining, kDrained };
const char* serverStateName(ServerState s);  // ACTIVE DOWN DRAINING DRAINED

struct ServerTransition {
  size_t realServer = 0;
  ServerState from = ServerState::kDown;
  ServerState to = ServerState::kDown;
  std::string reason;
};

class PoolLogic {
 public:
  explicit PoolLogic(PoolSpec spec);

  const PoolSpec& spec() const { return spec_; }
  size_t size() const { return servers_.size(); }

  void setCheckOutput(size_t rs, CheckOutput out);
  void setAdmin(size_t rs, AdminOverride admin);
  const CheckOutput& checkOutput(size_t rs) const { return servers_[rs].check; }
  const AdminOverride& admin(size_t rs) const { return servers_[rs].admin; }
  ServerState state(size_t rs) const { return servers_[rs].state; }

  // Carries the drain progress of a server across a reload (same service,
  // same address): when the drain started and whether it is done.
  struct DrainProgress {
    std::optional<TimePoint> since;
    bool done = false;
  };
  DrainProgress drainProgress(size_t rs) const;
  void restoreDrainProgress(size_t rs, DrainProgress p);
  // Restores the quorum verdict across a reload (hysteresis keeps working).
  void restoreQuorum(bool held) { quorum_ = held; }
  // Restores a server's state so that a reload logs only real changes.
  void restoreServerState(size_t rs, ServerState s);
  // The pool last emitted for this service, so that a reload that does not
  // change it reports no change.
  void restoreLast(const ServicePool& pool);

  using ConnectionsFn = std::function<std::optional<uint64_t>(size_t rs)>;
  struct Eval {
    ServicePool pool;
    bool changed = false;  // pool differs from the previous evaluation
    std::optional<bool> quorumChange;  // set when the quorum verdict changed
    std::vector<ServerTransition> transitions;
    // Earliest drain deadline still pending (the shell re-evaluates then).
    std::optional<TimePoint> nextDeadline;
    bool draining = false;  // some server waits for its connections to end
  };
  // `connections` is asked only for servers that are draining.
  Eval evaluate(TimePoint now, const ConnectionsFn& connections);

  const ServicePool& current() const { return last_; }

 private:
  struct Server {
    CheckOutput check;
    AdminOverride admin;
    ServerState state = ServerState::kDown;
    std::optional<TimePoint> drainSince;
    bool drainDone = false;
    bool evaluated = false;
  };

  PoolSpec spec_;
  std::vector<Server> servers_;
  std::optional<bool> quorum_;
  ServicePool last_;
  bool evaluatedOnce_ = false;
};

}  // namespace lvsd::healthcheck
