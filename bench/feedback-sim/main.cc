// feedback-sim: reproduces the paper's Table 2 experiment in simulation and
// compares the policies. Deterministic: the same seed gives the same table.
//   feedback-sim [--seed N] [--seeds N] [--duration S] [--step S]
// Each row is the mean over --seeds arrival streams (default 5), the same
// streams for every policy.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "feedback/sim_model.h"

namespace {

using namespace lvsd::feedback;
using lvsd::config::Feedback;

struct Row {
  const char* name;
  Feedback::Policy policy;
  double memoryShare;  // adaptive only
};
// adaptive runs with the config defaults (memory_share 0.7); adaptive-mem
// with memory_share 1.0, the paper's objective (memory only).
const Row kRows[] = {{"wlc", Feedback::NONE, 0},
                     {"paper-1", Feedback::PAPER_1, 0},
                     {"paper-2", Feedback::PAPER_2, 0},
                     {"adaptive", Feedback::ADAPTIVE, 0.7},
                     {"adapt-mem", Feedback::ADAPTIVE, 1.0}};

// Runs every policy on `seeds` arrival streams (the same streams for every
// policy) and averages the results field by field.
std::vector<sim::RunResult> runAll(sim::RunSpec spec, int seeds) {
  std::vector<sim::RunResult> out;
  uint64_t first = spec.seed;
  for (const auto& row : kRows) {
    spec.policy = row.policy;
    spec.params = PolicyParams::fromProto(Feedback{});
    spec.params.memoryShare = row.memoryShare;
    sim::RunResult sum;
    for (int k = 0; k < seeds; ++k) {
      spec.seed = first + static_cast<uint64_t>(k);
      sim::RunResult r = sim::run(spec);
      if (k == 0) {
        sum = r;
        continue;
      }
      for (size_t i = 0; i < r.servers.size(); ++i) {
        sum.servers[i].meanAvailableKb += r.servers[i].meanAvailableKb;
        sum.servers[i].connections += r.servers[i].connections;
      }
      sum.spreadOfMeansKb += r.spreadOfMeansKb;
      sum.meanRangeKb += r.meanRangeKb;
      sum.weightEdits += r.weightEdits;
      sum.weightFlips += r.weightFlips;
      sum.dropped += r.dropped;
      sum.meanExpensiveLatencyS += r.meanExpensiveLatencyS;
    }
    double k = 1.0 / seeds;
    for (auto& s : sum.servers) {
      s.meanAvailableKb *= k;
      s.connections = static_cast<uint64_t>(std::llround(static_cast<double>(s.connections) * k));
    }
    sum.spreadOfMeansKb *= k;
    sum.meanRangeKb *= k;
    sum.meanExpensiveLatencyS *= k;
    sum.weightEdits = static_cast<uint64_t>(std::llround(static_cast<double>(sum.weightEdits) * k));
    sum.weightFlips = static_cast<uint64_t>(std::llround(static_cast<double>(sum.weightFlips) * k));
    out.push_back(sum);
  }
  return out;
}

double reduction(double base, double x) { return base > 0 ? 100.0 * (1.0 - x / base) : 0.0; }

void printTwo(const std::vector<sim::RunResult>& r) {
  std::printf("\n2 servers (server 2 is 30%% slower), mean available memory (KB), Table 2 style\n");
  std::printf("%-10s %12s %12s %12s %10s %7s %6s %9s %8s %8s\n", "method", "server 1", "server 2",
              "1 - 2", "reduction", "edits", "flips", "cgi_ms", "dropped", "conns 1/2");
  for (size_t k = 0; k < r.size(); ++k) {
    const auto& x = r[k];
    double diff = x.servers[0].meanAvailableKb - x.servers[1].meanAvailableKb;
    std::printf("%-10s %12.1f %12.1f %12.1f %9.1f%% %7llu %6llu %9.1f %8llu %llu/%llu\n",
                kRows[k].name, x.servers[0].meanAvailableKb, x.servers[1].meanAvailableKb, diff,
                reduction(r[0].spreadOfMeansKb, x.spreadOfMeansKb),
                static_cast<unsigned long long>(x.weightEdits),
                static_cast<unsigned long long>(x.weightFlips), 1000 * x.meanExpensiveLatencyS,
                static_cast<unsigned long long>(x.dropped),
                static_cast<unsigned long long>(x.servers[0].connections),
                static_cast<unsigned long long>(x.servers[1].connections));
  }
  std::printf("(paper, Table 2: WLC -16193.1, method 1 -11328.3, method 2 -6821.7 KB; 58%% reduction)\n");
}

void printEight(const std::vector<sim::RunResult>& r) {
  std::printf("\n8 heterogeneous servers (384 MB each; speed 0.6-1.2, 1-2 CPUs, base 80-140 MB), mean available memory (MB)\n");
  std::printf("%-10s", "method");
  for (int i = 1; i <= 8; ++i) std::printf(" %7s%d", "rs", i);
  std::printf(" %11s %11s %10s %7s %9s\n", "spread_kb", "range_kb", "reduction", "edits", "cgi_ms");
  for (size_t k = 0; k < r.size(); ++k) {
    const auto& x = r[k];
    std::printf("%-10s", kRows[k].name);
    for (const auto& s : x.servers) std::printf(" %8.1f", s.meanAvailableKb / 1024);
    std::printf(" %11.1f %11.1f %9.1f%% %7llu %9.1f\n", x.spreadOfMeansKb, x.meanRangeKb,
                reduction(r[0].spreadOfMeansKb, x.spreadOfMeansKb),
                static_cast<unsigned long long>(x.weightEdits), 1000 * x.meanExpensiveLatencyS);
  }
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t seed = 1;
  int seeds = 5;
  double duration = 900, step = 0.01;
  for (int i = 1; i < argc; ++i) {
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "feedback-sim: %s needs a value\n", argv[i]);
        std::exit(1);
      }
      return argv[++i];
    };
    if (!std::strcmp(argv[i], "--seed")) seed = std::strtoull(next(), nullptr, 10);
    else if (!std::strcmp(argv[i], "--seeds")) seeds = std::max(1, std::atoi(next()));
    else if (!std::strcmp(argv[i], "--duration")) duration = std::atof(next());
    else if (!std::strcmp(argv[i], "--step")) step = std::atof(next());
    else {
      std::fprintf(stderr, "usage: feedback-sim [--seed N] [--seeds N] [--duration S] [--step S]\n");
      return 1;
    }
  }

  sim::RunSpec two;
  two.seed = seed;
  two.durationS = duration;
  two.stepS = step;
  two.servers = {sim::ServerModel{}, sim::ServerModel{}};
  two.servers[1].speed = 0.7;
  auto r2 = runAll(two, seeds);
  std::printf("feedback-sim: seeds=%llu..%llu duration=%.0fs step=%.3fs arrivals=%.0f/s cgi=%.1f%%\n",
              static_cast<unsigned long long>(seed),
              static_cast<unsigned long long>(seed + static_cast<uint64_t>(seeds) - 1), duration, step,
              two.load.arrivalsPerS, 100 * two.load.expensiveShare);
  printTwo(r2);

  sim::RunSpec eight = two;
  eight.servers.clear();
  // Same RAM (so that equal available memory is reachable), different CPUs,
  // disks and co-located daemons (base memory).
  const double baseMb[] = {80, 140, 100, 120, 90, 130, 110, 100};
  const double speed[] = {0.6, 0.8, 1.0, 1.2, 1.0, 1.2, 0.8, 0.6};
  const double cpus[] = {1, 1, 1, 1, 2, 2, 2, 2};
  for (int i = 0; i < 8; ++i) {
    sim::ServerModel m;
    m.totalKb = 384 * 1024;
    m.baseUsedKb = baseMb[i] * 1024;
    m.speed = speed[i];
    m.cpus = cpus[i];
    eight.servers.push_back(m);
  }
  eight.load.arrivalsPerS *= 5;
  auto r8 = runAll(eight, seeds);
  printEight(r8);

  auto diff = [](const sim::RunResult& x) { return x.spreadOfMeansKb; };
  std::printf(
      "\nRESULT sim2_wlc_diff_kb=%.1f sim2_paper1_diff_kb=%.1f sim2_paper2_diff_kb=%.1f "
      "sim2_adaptive_diff_kb=%.1f sim2_adaptive_reduction_pct=%.1f "
      "sim2_adaptive_mem_diff_kb=%.1f sim2_adaptive_mem_reduction_pct=%.1f "
      "sim8_wlc_spread_kb=%.1f sim8_paper1_spread_kb=%.1f sim8_paper2_spread_kb=%.1f "
      "sim8_adaptive_spread_kb=%.1f sim8_adaptive_reduction_pct=%.1f "
      "sim8_adaptive_mem_spread_kb=%.1f sim8_adaptive_mem_reduction_pct=%.1f\n",
      diff(r2[0]), diff(r2[1]), diff(r2[2]), diff(r2[3]), reduction(diff(r2[0]), diff(r2[3])),
      diff(r2[4]), reduction(diff(r2[0]), diff(r2[4])), diff(r8[0]), diff(r8[1]), diff(r8[2]),
      diff(r8[3]), reduction(diff(r8[0]), diff(r8[3])), diff(r8[4]),
      reduction(diff(r8[0]), diff(r8[4])));
  return 0;
}
