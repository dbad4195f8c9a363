#include "feedback/policy.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace lvsd::feedback {

namespace {

constexpr double kMaxIpvsWeight = 65535;

// Scales every weight down by the same factor when the largest exceeds the
// IPVS maximum (the paper's dec_rate), keeping each at least 1.
void capProportionally(std::vector<double>& w) {
  double top = 0;
  for (double x : w) top = std::max(top, x);
  if (top <= kMaxIpvsWeight) return;
  double rate = kMaxIpvsWeight / top;
  // The epsilon keeps the largest at exactly 65535 despite rounding.
  for (double& x : w) x = std::max(1.0, std::floor(x * rate + 1e-9));
}

std::vector<uint32_t> toWeights(const std::vector<double>& w) {
  std::vector<uint32_t> out;
  out.reserve(w.size());
  for (double x : w) out.push_back(static_cast<uint32_t>(std::clamp(x, 1.0, kMaxIpvsWeight)));
  return out;
}

uint32_t clampWeight(double w, const PolicyParams& p) {
  double lo = std::max<double>(p.minWeight, 1.0);
  double hi = std::max<double>(p.maxWeight, lo);
  return static_cast<uint32_t>(std::clamp(std::round(w), lo, hi));
}

// Shared by both paper policies: who is eligible, who is stalled, and the
// Fig. 4 rule that when every server is stalled none is (all weights equal).
class PaperPolicy : public Policy {
 public:
  explicit PaperPolicy(const PolicyParams& p) : p_(p) {}

  std::vector<Decision> update(const std::vector<ServerLoad>& loads) override {
    std::vector<Decision> out(loads.size());
    std::vector<size_t> live;
    std::vector<size_t> stalled;
    for (size_t i = 0; i < loads.size(); ++i) {
      if (!loads[i].valid) continue;  // kNoData, configured weight
      (isStalled(loads[i], p_) ? stalled : live).push_back(i);
    }
    if (live.empty()) {  // all stalled (or none valid): ignore the stall
      live.swap(stalled);
    }
    for (size_t i : stalled) {
      out[i].reason = Reason::kStalled;
      out[i].weight = p_.paperZeroOnStall ? 0u : std::max<uint32_t>(p_.minWeight, 1);
    }
    if (live.empty()) return out;
    std::vector<double> mem;
    for (size_t i : live) mem.push_back(loads[i].memoryKb);
    std::vector<uint32_t> w = formula(mem);
    for (size_t k = 0; k < live.size(); ++k) {
      out[live[k]].reason = Reason::kPolicy;
      out[live[k]].weight = clampWeight(w[k], p_);
    }
    return out;
  }

 protected:
  virtual std::vector<uint32_t> formula(const std::vector<double>& mem) const = 0;
  PolicyParams p_;
};

class Paper1 final : public PaperPolicy {
 public:
  using PaperPolicy::PaperPolicy;
  const char* name() const override { return "paper-1"; }

 private:
  std::vector<uint32_t> formula(const std::vector<double>& mem) const override {
    return paper1Weights(mem, p_.processMemoryKb);
  }
};

class Paper2 final : public PaperPolicy {
 public:
  using PaperPolicy::PaperPolicy;
  const char* name() const override { return "paper-2"; }

 private:
  std::vector<uint32_t> formula(const std::vector<double>& mem) const override {
    return paper2Weights(mem, p_.processMemoryKb, p_.connectionsPerMinute);
  }
};

// Integral control of relative headroom. State per server: the weight as a
// real number (so small steps accumulate), the smoothed error, and whether
// the server is outside the hysteresis band.
class Adaptive final : public Policy {
 public:
  explicit Adaptive(const PolicyParams& p) : p_(p) {}
  const char* name() const override { return "adaptive"; }

  std::vector<Decision> update(const std::vector<ServerLoad>& loads) override {
    if (state_.size() != loads.size()) state_.assign(loads.size(), State{});
    std::vector<Decision> out(loads.size());
    std::vector<size_t> live;
    double maxCfg = 0;
    for (size_t i = 0; i < loads.size(); ++i) {
      maxCfg = std::max<double>(maxCfg, std::max<uint32_t>(loads[i].configuredWeight, 1));
      if (loads[i].valid) {
        live.push_back(i);
      } else {
        state_[i] = State{};  // restarts from its baseline when its agent returns
      }
    }
    if (live.empty()) return out;

    // Relative headroom: each part is the server's figure over the mean of
    // the live servers, so each part (and their mix) averages 1.
    double memMean = 0, cpuMean = 0;
    for (size_t i : live) {
      memMean += std::max(loads[i].memoryKb, 0.0);
      cpuMean += idleCpus(loads[i]);
    }
    memMean /= static_cast<double>(live.size());
    cpuMean /= static_cast<double>(live.size());

    double baseSum = 0, weightSum = 0;
    for (size_t i : live) {
      const ServerLoad& l = loads[i];
      State& s = state_[i];
      double base = kAdaptiveBaseline * std::max<uint32_t>(l.configuredWeight, 1) / maxCfg;
      if (!s.started) {
        s.weight = s.published = base;
        s.started = true;
      }
      double memRel = memMean > 0 ? std::max(l.memoryKb, 0.0) / memMean : 1.0;
      double cpuRel = cpuMean > 1e-9 ? idleCpus(l) / cpuMean : 1.0;
      double error = p_.memoryShare * memRel + (1 - p_.memoryShare) * cpuRel - 1.0;
      s.smoothed = s.seen ? p_.ewmaAlpha * error + (1 - p_.ewmaAlpha) * s.smoothed : error;
      s.seen = true;

      double factor;
      if (isStalled(l, p_)) {
        factor = 1.0 - p_.maxStep;
        out[i].reason = Reason::kStalled;
      } else {
        out[i].reason = Reason::kPolicy;
        factor = std::clamp(1.0 + p_.gain * s.smoothed, 1.0 - p_.maxStep, 1.0 + p_.maxStep);
      }
      s.weight = clampReal(s.weight * factor);
      baseSum += base;
      weightSum += s.weight;
    }
    // Keep the weights near their baseline scale so that they keep their
    // resolution and stay away from the bounds: shares are what wlc uses.
    if (weightSum > 0 && (weightSum > 2 * baseSum || weightSum < baseSum / 2)) {
      double k = baseSum / weightSum;
      for (size_t i : live) {
        state_[i].weight = clampReal(state_[i].weight * k);
        state_[i].published = clampReal(state_[i].published * k);
      }
    }
    // Hysteresis on the output: the internal weight integrates every error
    // (so the imbalance is driven to zero on average), but a new weight is
    // published only when it is hysteresis away from the published one (or
    // the server is stalled), so that small noise causes no edits.
    for (size_t i : live) {
      State& s = state_[i];
      double pub = s.published;
      bool atBound = s.weight != pub && (s.weight == clampReal(0) || s.weight == clampReal(1e300));
      if (out[i].reason == Reason::kStalled || atBound ||
          std::fabs(s.weight - pub) >= p_.hysteresis * pub)
        s.published = s.weight;
      out[i].weight = clampWeight(s.published, p_);
    }
    return out;
  }

 private:
  struct State {
    bool started = false;
    bool seen = false;
    double weight = 0;     // internal (integrating)
    double published = 0;  // what the last update returned
    double smoothed = 0;   // EWMA of the relative headroom error
  };
  static double idleCpus(const ServerLoad& l) {
    return std::clamp(l.cpuIdlePct, 0.0, 100.0) / 100.0 * std::max(l.cpus, 1.0);
  }
  double clampReal(double w) const {
    double lo = std::max<double>(p_.minWeight, 1.0);
    return std::clamp(w, lo, std::max<double>(p_.maxWeight, lo));
  }

  PolicyParams p_;
  std::vector<State> state_;
};

}  // namespace

PolicyParams PolicyParams::fromProto(const config::Feedback& fb) {
  PolicyParams p;
  p.processMemoryKb = fb.process_memory_kb();
  p.connectionsPerMinute = fb.connections_per_minute();
  p.memoryShare = fb.memory_share();
  p.ewmaAlpha = fb.ewma_alpha();
  p.maxStep = fb.max_step_pct() / 100.0;
  p.hysteresis = fb.hysteresis_pct() / 100.0;
  p.gain = fb.adaptive_gain();
  p.minWeight = fb.min_weight();
  p.maxWeight = fb.max_weight();
  p.paperZeroOnStall = fb.paper_zero_on_stall();
  p.blockedThreshold = fb.blocked_threshold();
  p.swapOutThresholdKbS = fb.swap_out_threshold_kb_s();
  return p;
}

bool isStalled(const ServerLoad& load, const PolicyParams& p) {
  return load.blocked >= p.blockedThreshold || load.swapOutKbS > p.swapOutThresholdKbS;
}

std::vector<uint32_t> paper1Weights(const std::vector<double>& memoryKb, double processMemoryKb) {
  if (memoryKb.empty()) return {};
  double lo = *std::min_element(memoryKb.begin(), memoryKb.end());
  std::vector<double> w;
  w.reserve(memoryKb.size());
  for (double m : memoryKb)
    w.push_back(std::floor(kPaper1Scale * std::max(1.0, (m - lo) / processMemoryKb)));
  capProportionally(w);
  return toWeights(w);
}

std::vector<uint32_t> paper2Weights(const std::vector<double>& memoryKb, double processMemoryKb,
                                    double connectionsPerMinute) {
  if (memoryKb.empty()) return {};
  double lo = *std::min_element(memoryKb.begin(), memoryKb.end());
  std::vector<double> diff;
  double top = 0;
  for (double m : memoryKb) {
    diff.push_back(std::round((m - lo) / processMemoryKb));
    top = std::max(top, diff.back());
  }
  std::vector<double> w;
  w.reserve(diff.size());
  if (top == 0) {
    w.assign(diff.size(), std::max(1.0, std::round(connectionsPerMinute)));
  } else {
    double k = connectionsPerMinute / top;
    for (double d : diff) w.push_back(std::max(1.0, std::round(k + d)));
  }
  capProportionally(w);
  return toWeights(w);
}

std::unique_ptr<Policy> makePolicy(config::Feedback::Policy kind, const PolicyParams& params) {
  switch (kind) {
    case config::Feedback::PAPER_1:
      return std::make_unique<Paper1>(params);
    case config::Feedback::PAPER_2:
      return std::make_unique<Paper2>(params);
    case config::Feedback::ADAPTIVE:
      return std::make_unique<Adaptive>(params);
    case config::Feedback::NONE:
      break;
  }
  return nullptr;
}

const char* policyName(config::Feedback::Policy kind) {
  switch (kind) {
    case config::Feedback::PAPER_1:
      return "paper-1";
    case config::Feedback::PAPER_2:
      return "paper-2";
    case config::Feedback::ADAPTIVE:
      return "adaptive";
    case config::Feedback::NONE:
      break;
  }
  return "none";
}

}  // namespace lvsd::feedback
