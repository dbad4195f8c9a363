#pragma once
// feedback/: dynamic weights from real-server load. The only public header
// of the module (docs/dynamic-weights.md).
//
// A FeedbackManager polls the lvs-agent of every real server of every
// virtual service whose Feedback.policy is not NONE, applies the policy per
// service once per poll round, and reports each change of a real server's
// desired weight through Callbacks::onWeight. It never touches IPVS:
// daemon/ feeds the updates into the desired state (the healthcheck pool's
// dynamic weight), which the reconciler turns into in-place edits.
//
// Every change is logged once
//   feedback: service=web rs=10.0.0.1:80 weight 100 -> 140 reason=adaptive mem=... cpu=...
// and counted. An agent that stops answering (agent_fall polls in a row)
// makes its server fall back to its configured weight, or go down when
// Feedback.agent_is_health_check is set.

#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/address.h"
#include "core/clock.h"
#include "core/result.h"
#include "proto/config.pb.h"

namespace lvsd::feedback {

// What feedback wants for one real server of one virtual service.
struct WeightUpdate {
  enum class Kind : uint8_t {
    kDynamic,     // use `weight` (1..65535; 0 only for a paper policy's stalled server)
    kConfigured,  // no dynamic weight: back to the configured weight (`weight` holds it)
    kDown,        // the agent is the health check and failed, or reported `down`
    kDrain,       // the agent reported `drain`: weight 0, keep existing connections
  };
  std::string service;  // VirtualService.name, else its key
  std::string key;      // config::serviceKey()
  int serviceIndex = -1;     // index into Config.virtual_service
  int realServerIndex = -1;  // index into VirtualService.real_server
  Endpoint realServer;
  Kind kind = Kind::kConfigured;
  uint32_t weight = 0;
  std::string reason;  // "adaptive", "paper-1", "stalled", "agent-unreachable: ..."
  std::string line;    // the log line
  bool operator==(const WeightUpdate&) const = default;
};
const char* weightKindName(WeightUpdate::Kind k);  // dynamic configured down drain

struct Callbacks {
  // Called on the io_context thread for every change (never for a repeat).
  std::function<void(const WeightUpdate&)> onWeight;
};

struct Counters {
  uint64_t polls = 0;           // agent queries started
  uint64_t answers = 0;         // valid reports received
  uint64_t connectErrors = 0;   // refused, unreachable
  uint64_t timeouts = 0;        // no full answer within agent_timeout_ms
  uint64_t malformed = 0;       // not a report frame / not an AgentReport / closed early
  uint64_t oversized = 0;       // announced more than the bound
  uint64_t rounds = 0;          // policy evaluations
  uint64_t weightChanges = 0;   // published updates of any kind
  uint64_t fallbacks = 0;       // servers sent back to their configured weight
  uint64_t downs = 0;           // servers taken down by their agent
  uint64_t rateLimited = 0;     // rounds whose policy run was held back by min_update_interval_ms
};

struct RealServerView {
  Endpoint address;
  Endpoint agent;
  std::string kind;  // dynamic configured down drain
  uint32_t weight = 0;
  uint32_t configuredWeight = 0;
  uint32_t consecutiveFailures = 0;
  std::string lastError;
  double memoryKb = 0;  // last report's memory metric
  double cpuIdlePct = 0;
};

struct ServiceView {
  std::string service;
  std::string policy;
  std::vector<RealServerView> realServers;
};

class FeedbackManager {
 public:
  FeedbackManager(boost::asio::io_context& io, const Clock& clock, Callbacks callbacks);
  ~FeedbackManager();
  FeedbackManager(const FeedbackManager&) = delete;
  FeedbackManager& operator=(const FeedbackManager&) = delete;

  // Starts polling for every service with a policy. Call once.
  Status start(const config::Config& config);
  // Services whose feedback settings and real servers are unchanged keep
  // their policy state and published weights, and their non-configured
  // states are reported again (so the consumer may clear its table before
  // calling reload); others restart (servers that had a dynamic weight are
  // sent back to configured first).
  Status reload(const config::Config& config);
  // Stops polling; publishes nothing.
  void stop();

  std::vector<ServiceView> snapshot() const;
  Counters counters() const;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace lvsd::feedback
