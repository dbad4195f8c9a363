#pragma once
// The weight engine of one virtual service, pure: poll outcomes in, weight
// updates out. It owns the policy, the agent-failure counting (fall), the
// fallback and the rate limit; the shell (manager.cc) only moves bytes and
// runs timers.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "feedback/feedback.h"
#include "feedback/policy.h"
#include "proto/agent.pb.h"
#include "proto/config.pb.h"

namespace lvsd::feedback {

struct EngineServer {
  Endpoint address;
  Endpoint agent;
  uint32_t configuredWeight = 1;
  int realServerIndex = -1;
  bool operator==(const EngineServer&) const = default;
};

struct EngineSpec {
  std::string service;
  std::string key;
  int serviceIndex = -1;
  config::Feedback feedback;  // effective: Config.feedback merged with the service's
  std::vector<EngineServer> servers;

  // nullopt-like: an error only for a config validation should have refused.
  static Result<EngineSpec> fromProto(const config::Config& config, int serviceIndex);
  // The service's effective feedback settings (service fields override global ones).
  static config::Feedback effective(const config::Config& config, int serviceIndex);
  bool sameAs(const EngineSpec& o) const;
};

class ServiceEngine {
 public:
  explicit ServiceEngine(EngineSpec spec);

  const EngineSpec& spec() const { return spec_; }
  size_t size() const { return servers_.size(); }

  // One poll's outcome for server i.
  void report(size_t i, const agent::AgentReport& r);
  void failure(size_t i, std::string why);

  // End of a poll round: applies the policy and returns what changed.
  struct Round {
    std::vector<WeightUpdate> updates;
    uint64_t fallbacks = 0;
    uint64_t downs = 0;
    uint64_t rateLimited = 0;  // 1 when the policy was held back this round
  };
  Round evaluate();

  // Updates that send every server with a non-configured state back to its
  // configured weight (on reload of a changed service, or removal).
  std::vector<WeightUpdate> resetAll(const std::string& why);

  // The current non-configured state of every server, as updates (for a
  // consumer that rebuilt its state, e.g. after a reload).
  std::vector<WeightUpdate> currentState(const std::string& why) const;

  RealServerView view(size_t i) const;

 private:
  struct Published {
    WeightUpdate::Kind kind = WeightUpdate::Kind::kConfigured;
    uint32_t weight = 0;
    bool operator==(const Published&) const = default;
  };
  struct Server {
    EngineServer spec;
    std::optional<agent::AgentReport> last;  // last good report
    uint32_t failures = 0;                   // consecutive
    std::string lastError;
    Published published;
  };
  ServerLoad loadOf(const Server& s) const;
  WeightUpdate makeUpdate(const Server& s, const Published& to, const std::string& reason,
                          const Published& from) const;

  EngineSpec spec_;
  PolicyParams params_;
  std::unique_ptr<Policy> policy_;
  std::vector<Server> servers_;
  uint64_t round_ = 0;
  std::optional<uint64_t> lastPolicyRound_;
  uint64_t minRoundsBetweenChanges_ = 1;
};

}  // namespace lvsd::feedback
