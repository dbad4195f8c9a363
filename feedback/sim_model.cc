#include "feedback/sim_model.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <memory>

namespace lvsd::feedback::sim {

uint64_t Rng::next() {
  uint64_t z = (s_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

double Rng::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

double Rng::exponential(double rate) { return -std::log(1.0 - uniform()) / rate; }

int wlcPick(const std::vector<uint64_t>& active, const std::vector<uint64_t>& inactive,
            const std::vector<uint32_t>& weights) {
  int best = -1;
  uint64_t bestOverhead = 0;
  for (size_t i = 0; i < weights.size(); ++i) {
    if (weights[i] == 0) continue;
    uint64_t overhead = (active[i] << 8) + inactive[i];
    // overhead_i / w_i < best / w_best, compared without division as the kernel does.
    if (best < 0 || overhead * weights[best] < bestOverhead * weights[i]) {
      best = static_cast<int>(i);
      bestOverhead = overhead;
    }
  }
  return best;
}

namespace {

struct Request {
  double remaining;  // core-seconds at speed 1
  double cpuShare;
  bool expensive;
  double start;
};

struct AgentSample {
  double availKb, idlePct, runQueue, blocked, swapOutKbS;
};

struct Server {
  ServerModel model;
  std::vector<Request> active;
  std::deque<double> inactive;  // expiry times, in order
  double procs = 0;
  double swappedKb = 0;
  // Since the last agent sample:
  double idleSum = 0;
  uint64_t idleSteps = 0;
  double swapOutKb = 0;
  std::deque<AgentSample> ring;
  // Results:
  double availSum = 0;
  double availMin = 1e300;
  double activeSum = 0, inactiveSum = 0;
  uint64_t connections = 0, expensive = 0;
  double swappedTotalKb = 0;

  uint64_t expensiveActive() const {
    uint64_t n = 0;
    for (const auto& r : active) n += r.expensive;
    return n;
  }
  double usedKb(const Workload& w) const {
    return model.baseUsedKb + procs * w.httpdKb + static_cast<double>(expensiveActive()) * w.cgiKb;
  }
  double availableKb(const Workload& w) const { return std::max(0.0, model.totalKb - usedKb(w)); }
};

}  // namespace

RunResult run(const RunSpec& spec) {
  const Workload& w = spec.load;
  std::vector<Server> servers(spec.servers.size());
  for (size_t i = 0; i < servers.size(); ++i) {
    servers[i].model = spec.servers[i];
    servers[i].procs = w.startServers;
  }
  const size_t n = servers.size();
  std::vector<uint32_t> weights(n, 1);  // the paper's initial weights
  std::unique_ptr<Policy> policy = makePolicy(spec.policy, spec.params);

  Rng arrivals(spec.seed);
  RunResult out;
  double nextArrival = arrivals.exponential(w.arrivalsPerS);
  const double dt = spec.stepS;
  const auto steps = static_cast<uint64_t>(std::llround(spec.durationS / dt));
  auto every = [dt](double interval) {
    return std::max<uint64_t>(1, static_cast<uint64_t>(std::llround(interval / dt)));
  };
  const uint64_t sampleEvery = every(spec.sampleIntervalS), pollEvery = every(spec.pollIntervalS),
                 recordEvery = every(spec.recordIntervalS), secondEvery = every(1.0);
  const size_t window = std::max<uint32_t>(spec.samples, 2) - 1;
  std::vector<uint64_t> act(n), inact(n);
  double expLatencySum = 0;
  uint64_t expDone = 0, records = 0;
  double rangeSum = 0;
  int lastSign = 0;

  for (uint64_t step = 1; step <= steps; ++step) {
    const double t = static_cast<double>(step) * dt;
    for (auto& s : servers)
      while (!s.inactive.empty() && s.inactive.front() <= t) s.inactive.pop_front();

    // 1. New connections, scheduled by wlc on the current counts.
    while (nextArrival <= t) {
      bool expensive = arrivals.uniform() < w.expensiveShare;
      double work = (expensive ? w.expensiveWorkS : w.cheapWorkS) * arrivals.exponential(1.0);
      double arrivedAt = nextArrival;
      nextArrival += arrivals.exponential(w.arrivalsPerS);
      ++out.arrivals;
      for (size_t i = 0; i < n; ++i) {
        act[i] = servers[i].active.size();
        inact[i] = servers[i].inactive.size();
      }
      int pick = wlcPick(act, inact, weights);
      if (pick < 0) {
        ++out.dropped;
        continue;
      }
      Server& s = servers[static_cast<size_t>(pick)];
      s.active.push_back({work, expensive ? w.expensiveCpuShare : 1.0, expensive, arrivedAt});
      ++s.connections;
      s.expensive += expensive;
      s.procs = std::max(s.procs, static_cast<double>(s.active.size()));  // fork a child
    }

    // 2. Processor sharing; memory beyond RAM swaps and slows the server.
    for (auto& s : servers) {
      double used = s.usedKb(w);
      bool swapping = used > s.model.totalKb;
      double overflow = std::max(0.0, used - s.model.totalKb);
      if (overflow > s.swappedKb) s.swapOutKb += overflow - s.swappedKb;
      s.swappedTotalKb += std::max(0.0, overflow - s.swappedKb);
      s.swappedKb = overflow;
      double demand = 0;
      for (const auto& r : s.active) demand += r.cpuShare;
      double busy = std::min(demand, s.model.cpus);
      s.idleSum += 1.0 - busy / s.model.cpus;
      ++s.idleSteps;
      if (demand > 0) {
        double rate = s.model.speed * (swapping ? 0.25 : 1.0) * std::min(1.0, s.model.cpus / demand);
        for (size_t k = 0; k < s.active.size();) {
          Request& r = s.active[k];
          r.remaining -= dt * r.cpuShare * rate;
          if (r.remaining <= 0) {
            if (r.expensive) {
              expLatencySum += t - r.start;
              ++expDone;
            }
            ++out.completed;
            s.inactive.push_back(t + w.inactiveTimeoutS);
            r = s.active.back();
            s.active.pop_back();
          } else {
            ++k;
          }
        }
      }
    }

    // 3. Prefork pool: one idle child reaped (or spawned) per second.
    if (step % secondEvery == 0) {
      for (auto& s : servers) {
        double idle = s.procs - static_cast<double>(s.active.size());
        if (idle > w.maxSpare) s.procs -= 1;
        else if (idle < w.minSpare) s.procs += 1;
      }
    }

    // 4. Agents sample; the first reading (since boot) is the one at t = 0,
    // which is never taken, so every sample here is an interval sample.
    if (step % sampleEvery == 0) {
      for (auto& s : servers) {
        bool swapping = s.usedKb(w) > s.model.totalKb;
        AgentSample a;
        a.availKb = s.availableKb(w);
        a.idlePct = 100.0 * s.idleSum / static_cast<double>(std::max<uint64_t>(s.idleSteps, 1));
        a.runQueue = static_cast<double>(s.active.size());
        a.blocked = swapping ? static_cast<double>(s.expensiveActive()) : 0.0;
        a.swapOutKbS = s.swapOutKb / spec.sampleIntervalS;
        s.idleSum = 0;
        s.idleSteps = 0;
        s.swapOutKb = 0;
        s.ring.push_back(a);
        while (s.ring.size() > window) s.ring.pop_front();
      }
    }

    // 5. The director polls and sets weights.
    if (policy && step % pollEvery == 0) {
      std::vector<ServerLoad> loads(n);
      for (size_t i = 0; i < n; ++i) {
        const Server& s = servers[i];
        ServerLoad& l = loads[i];
        l.configuredWeight = 1;
        l.valid = !s.ring.empty();
        l.memTotalKb = s.model.totalKb;
        l.cpus = s.model.cpus;
        l.cpuIdlePct = 0;
        l.memoryKb = 0;
        for (const auto& a : s.ring) {
          double k = 1.0 / static_cast<double>(s.ring.size());
          l.memoryKb += a.availKb * k;
          l.cpuIdlePct += a.idlePct * k;
          l.runQueue += a.runQueue * k;
          l.blocked += a.blocked * k;
          l.swapOutKbS += a.swapOutKbS * k;
        }
      }
      auto decisions = policy->update(loads);
      for (size_t i = 0; i < n; ++i) {
        uint32_t nw = decisions[i].weight.value_or(1);
        if (nw != weights[i]) ++out.weightEdits;
        if (nw == 0) ++out.zeroWeights;
        weights[i] = nw;
      }
      if (n >= 2) {
        int sign = weights[0] > weights[1] ? 1 : weights[0] < weights[1] ? -1 : 0;
        if (sign != 0 && lastSign != 0 && sign != lastSign) ++out.weightFlips;
        if (sign != 0) lastSign = sign;
      }
    }

    // 6. Record available memory, like the lab does.
    if (step % recordEvery == 0) {
      double lo = 1e300, hi = -1e300;
      for (auto& s : servers) {
        double a = s.availableKb(w);
        s.availSum += a;
        s.availMin = std::min(s.availMin, a);
        s.activeSum += static_cast<double>(s.active.size());
        s.inactiveSum += static_cast<double>(s.inactive.size());
        lo = std::min(lo, a);
        hi = std::max(hi, a);
      }
      rangeSum += hi - lo;
      ++records;
    }
  }

  double lo = 1e300, hi = -1e300;
  for (const auto& s : servers) {
    ServerResult r;
    double k = records ? 1.0 / static_cast<double>(records) : 0;
    r.meanAvailableKb = s.availSum * k;
    r.minAvailableKb = records ? s.availMin : 0;
    r.meanActive = s.activeSum * k;
    r.meanInactive = s.inactiveSum * k;
    r.connections = s.connections;
    r.expensive = s.expensive;
    r.swappedOutKb = s.swappedTotalKb;
    lo = std::min(lo, r.meanAvailableKb);
    hi = std::max(hi, r.meanAvailableKb);
    out.servers.push_back(r);
  }
  out.spreadOfMeansKb = n ? hi - lo : 0;
  out.meanRangeKb = records ? rangeSum / static_cast<double>(records) : 0;
  out.meanExpensiveLatencyS = expDone ? expLatencySum / static_cast<double>(expDone) : 0;
  return out;
}

}  // namespace lvsd::feedback::sim
