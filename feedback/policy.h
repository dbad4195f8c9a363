#pragma once
// Weight policies, pure: from each real server's sampled load they compute
// the weight lvsd gives it in IPVS. No sockets, no timers; one call per
// update (the poll round). docs/dynamic-weights.md explains each policy.
//
//   paper-1   Kim & Rhee eq. 2, generalised from 2 to N servers:
//               w_i = 1000 × max(1, (m_i − m_min) / P)
//             scaled down proportionally when the largest exceeds 65535
//             (the paper's Fig. 4). For N = 2 this is eq. 2 exactly: the
//             server with less memory gets 1 (× 1000), the other the
//             difference over P.
//   paper-2   Kim & Rhee eq. 3, generalised the same way:
//               d_i = round((m_i − m_min) / P),  D = max_i d_i,
//               K = C / D,  w_i = round(K + d_i)
//             (D = 0: every server gets C). For N = 2: w_min = K,
//             w_max = K + weight_diff, K = C / weight_diff.
//   adaptive  ours: integral control of headroom. Each server's relative
//             headroom (memory and CPU, configurable mix) against the
//             cluster mean is smoothed (EWMA); every update multiplies the
//             server's internal weight by (1 + gain × error), bounded by
//             ±max_step; the weight is published only when it moved at
//             least hysteresis away from the last published one; a stalled
//             server (blocked I/O or swap-out) is stepped down at once,
//             never to 0.
//
// m_i is the server's memory (MemAvailable, or MemFree as in the paper),
// P the average memory per server process (3,500 KB in the paper), C the
// connections per minute per server (2,000 in the paper).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "proto/config.pb.h"

namespace lvsd::feedback {

// What a policy knows about one real server at one update.
struct ServerLoad {
  bool valid = false;             // a fresh, complete report (else: fall back)
  uint32_t configuredWeight = 1;  // the config's weight
  double memoryKb = 0;            // the chosen memory metric
  double memTotalKb = 0;
  double cpuIdlePct = 100;        // 0..100
  double cpus = 1;
  double runQueue = 0;
  double blocked = 0;             // mean `b`
  double swapOutKbS = 0;          // mean `so`
};

struct PolicyParams {
  double processMemoryKb = 3500;     // P
  double connectionsPerMinute = 2000;  // C
  double memoryShare = 0.7;
  double ewmaAlpha = 0.3;
  double maxStep = 0.25;    // max_step_pct / 100
  double hysteresis = 0.05;  // hysteresis_pct / 100
  double gain = 1.0;
  uint32_t minWeight = 1;
  uint32_t maxWeight = 65535;
  bool paperZeroOnStall = true;
  double blockedThreshold = 1.0;
  double swapOutThresholdKbS = 0;

  static PolicyParams fromProto(const config::Feedback& fb);
};

enum class Reason : uint8_t {
  kPolicy,     // the policy's formula
  kStalled,    // blocked I/O or swap-out
  kNoData,     // no valid report: the configured weight applies
};

struct Decision {
  std::optional<uint32_t> weight;  // nullopt = no dynamic weight (use the configured one)
  Reason reason = Reason::kNoData;
  bool operator==(const Decision&) const = default;
};

// True when the load shows blocked I/O or swap-out per the params.
bool isStalled(const ServerLoad& load, const PolicyParams& p);

class Policy {
 public:
  virtual ~Policy() = default;
  // "paper-1", "paper-2", "adaptive".
  virtual const char* name() const = 0;
  // One update. loads.size() must stay the same between calls (the owner
  // makes a new policy when the set of servers changes); decisions[i] is for
  // loads[i].
  virtual std::vector<Decision> update(const std::vector<ServerLoad>& loads) = 0;
};

// nullptr for NONE.
std::unique_ptr<Policy> makePolicy(config::Feedback::Policy kind, const PolicyParams& params);
// "none", "paper-1", "paper-2", "adaptive".
const char* policyName(config::Feedback::Policy kind);

// The formulas alone, on memory figures (KB), for tests and the simulator.
// Every entry of `memoryKb` takes part; results are unclamped (1..65535 by
// construction).
std::vector<uint32_t> paper1Weights(const std::vector<double>& memoryKb, double processMemoryKb);
std::vector<uint32_t> paper2Weights(const std::vector<double>& memoryKb, double processMemoryKb,
                                    double connectionsPerMinute);

// The paper's scale for eq. 2 weights (Fig. 4: `int($weight * 1000)`).
inline constexpr double kPaper1Scale = 1000;
// Adaptive's baseline: the largest configured weight maps to this.
inline constexpr double kAdaptiveBaseline = 1000;

}  // namespace lvsd::feedback
