#include "feedback/sim_model.h"

#include <gtest/gtest.h>

namespace lvsd::feedback::sim {
namespace {

TEST(WlcPick, LeastOverheadPerWeight) {
  // overhead = active * 256 + inactive
  EXPECT_EQ(wlcPick({1, 1}, {0, 0}, {1, 1}), 0);       // tie: the first
  EXPECT_EQ(wlcPick({2, 1}, {0, 0}, {1, 1}), 1);
  EXPECT_EQ(wlcPick({2, 1}, {0, 0}, {3, 1}), 0);       // 512/3 < 256/1
  EXPECT_EQ(wlcPick({1, 1}, {300, 0}, {1, 1}), 1);     // inactive connections count
  EXPECT_EQ(wlcPick({0, 5}, {0, 0}, {0, 1}), 1);       // weight 0 gets nothing
  EXPECT_EQ(wlcPick({0, 0}, {0, 0}, {0, 0}), -1);
  EXPECT_EQ(wlcPick({}, {}, {}), -1);
}

TEST(Rng, DeterministicAndInRange) {
  Rng a(42), b(42), c(43);
  for (int i = 0; i < 1000; ++i) {
    double x = a.uniform();
    EXPECT_EQ(x, b.uniform());
    EXPECT_GE(x, 0.0);
    EXPECT_LT(x, 1.0);
  }
  EXPECT_NE(Rng(42).next(), c.next());
  // The mean of an exponential is 1 / rate.
  Rng e(7);
  double sum = 0;
  for (int i = 0; i < 100000; ++i) sum += e.exponential(4.0);
  EXPECT_NEAR(sum / 100000, 0.25, 0.01);
}

RunSpec small() {
  RunSpec s;
  s.servers = {ServerModel{}, ServerModel{}};
  s.servers[1].speed = 0.7;
  s.durationS = 180;
  s.stepS = 0.01;
  return s;
}

TEST(Run, SameSeedSameResult) {
  RunSpec s = small();
  s.policy = config::Feedback::ADAPTIVE;
  RunResult a = run(s), b = run(s);
  EXPECT_EQ(a.arrivals, b.arrivals);
  EXPECT_EQ(a.completed, b.completed);
  EXPECT_EQ(a.weightEdits, b.weightEdits);
  EXPECT_EQ(a.spreadOfMeansKb, b.spreadOfMeansKb);
  s.seed = 2;
  EXPECT_NE(run(s).arrivals, a.arrivals);
}

TEST(Run, EveryPolicySeesTheSameArrivals) {
  RunSpec s = small();
  uint64_t arrivals = run(s).arrivals;
  for (auto p : {config::Feedback::PAPER_1, config::Feedback::PAPER_2, config::Feedback::ADAPTIVE}) {
    s.policy = p;
    EXPECT_EQ(run(s).arrivals, arrivals);
  }
}

TEST(Run, ConservesRequestsAndCountsConnections) {
  RunSpec s = small();
  RunResult r = run(s);
  // ~133/s for 180 s
  EXPECT_NEAR(static_cast<double>(r.arrivals), 133.0 * 180, 133.0 * 180 * 0.05);
  uint64_t conns = 0;
  for (const auto& srv : r.servers) conns += srv.connections;
  EXPECT_EQ(conns + r.dropped, r.arrivals);
  EXPECT_EQ(r.dropped, 0u);
  EXPECT_LE(r.completed, r.arrivals);
  EXPECT_GT(r.completed, r.arrivals * 99 / 100);  // not overloaded
  // Plain wlc never edits weights.
  EXPECT_EQ(r.weightEdits, 0u);
}

TEST(Run, IdleServersKeepOnlyTheirBaseAndSpareProcesses) {
  RunSpec s = small();
  s.load.arrivalsPerS = 1e-9;  // nothing arrives
  RunResult r = run(s);
  for (const auto& srv : r.servers) {
    // 256 MB − 100 MB base − 10 spare httpd of 3000 KB
    EXPECT_NEAR(srv.meanAvailableKb, 262144 - 102400 - 10 * 3000, 1);
  }
  EXPECT_NEAR(r.spreadOfMeansKb, 0, 1e-6);
}

TEST(Run, SlowerServerHoldsMoreMemoryUnderWlc) {
  RunSpec s = small();
  RunResult r = run(s);
  // wlc counts inactive connections too, so the slow server (fewer
  // completions, fewer inactive) is given as many active ones and holds
  // more memory: the paper's point about connection counts.
  EXPECT_GT(r.servers[0].meanAvailableKb, r.servers[1].meanAvailableKb);
  EXPECT_GT(r.servers[0].connections, r.servers[1].connections);
}

TEST(Run, StallZeroesPaperWeightsButNotAdaptive) {
  RunSpec s = small();
  s.servers[1].totalKb = 150 * 1024;  // its base and pool nearly fill it: it swaps
  RunResult wlc = run(s);
  EXPECT_GT(wlc.servers[1].swappedOutKb, 0);
  EXPECT_EQ(wlc.zeroWeights, 0u);
  s.policy = config::Feedback::PAPER_1;
  EXPECT_GT(run(s).zeroWeights, 0u);
  s.policy = config::Feedback::ADAPTIVE;
  RunResult adaptive = run(s);
  EXPECT_GT(adaptive.weightEdits, 0u);
  EXPECT_EQ(adaptive.zeroWeights, 0u);  // reduced, never zeroed
}

}  // namespace
}  // namespace lvsd::feedback::sim
