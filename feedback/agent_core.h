#pragma once
// lvs-agent's logic without sockets or timers: it keeps the sampler, reads
// the operator's state, and builds the answer to one request.

#include <cstdint>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "feedback/sampler.h"
#include "proto/agent.pb.h"

namespace lvsd::feedback {

struct AgentOptions {
  uint32_t samples = 5;             // the paper: 5 readings ...
  uint32_t intervalMs = 5000;       // ... 5 s apart, the first dropped
  uint32_t historySamples = 120;    // longest window a client may ask for
  double memoryShare = 0.7;         // text protocol's capacity mix
  bool keepFirst = false;           // keep the since-boot first sample
};

// The operator's state file on the real server: "ready", "drain", "down"
// (or "maint"), optionally followed by a reason; blank or missing = ready.
struct AdminState {
  agent::ServerState state = agent::READY;
  std::string reason;
};
Result<AdminState> parseStateFile(std::string_view text);

class AgentCore {
 public:
  AgentCore(AgentOptions opts, double pageKb, std::string hostname);

  // A new /proc reading (every intervalMs).
  void addReading(const Reading& r) { sampler_.add(r); }
  // The /proc reading failed: reports carry no data (valid = false) with
  // the reason until the next good one.
  void readingFailed(std::string reason) { samplerError_ = std::move(reason); }
  void readingOk() { samplerError_.clear(); }
  void setAdmin(AdminState s) { admin_ = std::move(s); }

  // The answer to one request (nullptr = the text protocol's defaults).
  agent::AgentReport report(const agent::AgentRequest* req, TimePoint now) const;

  const AgentOptions& options() const { return opts_; }
  const Sampler& sampler() const { return sampler_; }

 private:
  AgentOptions opts_;
  Sampler sampler_;
  std::string hostname_;
  AdminState admin_;
  std::string samplerError_;
};

}  // namespace lvsd::feedback
