#include "feedback/policy.h"

#include <gtest/gtest.h>

#include <cmath>

namespace lvsd::feedback {
namespace {

using config::Feedback;

ServerLoad load(double memKb, uint32_t cfg = 1) {
  ServerLoad l;
  l.valid = true;
  l.configuredWeight = cfg;
  l.memoryKb = memKb;
  l.memTotalKb = 262144;
  l.cpuIdlePct = 50;
  l.cpus = 1;
  return l;
}

std::vector<uint32_t> weightsOf(const std::vector<Decision>& d) {
  std::vector<uint32_t> out;
  for (const auto& x : d) out.push_back(x.weight.value_or(999999));
  return out;
}

// ---------------------------------------------------------------------------
// paper-1 (eq. 2)

TEST(Paper1, TableTwoWlcMeansGiveFig4Weights) {
  // Table 2, WLC row: server 1 129680.1 KB, server 2 145873.9 KB available.
  // eq. 2: server 1 (less memory) gets 1; server 2 gets 16193.8 / 3500 =
  // 4.6268; Fig. 4 multiplies by 1000 and truncates.
  EXPECT_EQ(paper1Weights({129680.1, 145873.9}, 3500), (std::vector<uint32_t>{1000, 4626}));
}

TEST(Paper1, WholeProcessesOfDifference) {
  EXPECT_EQ(paper1Weights({100000, 117500}, 3500), (std::vector<uint32_t>{1000, 5000}));
  EXPECT_EQ(paper1Weights({117500, 100000}, 3500), (std::vector<uint32_t>{5000, 1000}));
}

TEST(Paper1, DifferenceBelowOneProcessIsEqualWeights) {
  // Read literally, eq. 2 would give the server with MORE memory a weight
  // below 1 here (0.29); the generalisation floors the ratio at 1.
  EXPECT_EQ(paper1Weights({100000, 101000}, 3500), (std::vector<uint32_t>{1000, 1000}));
  EXPECT_EQ(paper1Weights({100000, 100000}, 3500), (std::vector<uint32_t>{1000, 1000}));
}

TEST(Paper1, GeneralisedToNServers) {
  // Each server is measured against the one with the least memory.
  EXPECT_EQ(paper1Weights({100000, 107000, 117500, 101000}, 3500),
            (std::vector<uint32_t>{1000, 2000, 5000, 1000}));
  EXPECT_EQ(paper1Weights({42}, 3500), (std::vector<uint32_t>{1000}));
  EXPECT_TRUE(paper1Weights({}, 3500).empty());
}

TEST(Paper1, CappedAt65535Proportionally) {
  // 100 processes of difference = 100000 > 65535: Fig. 4's dec_rate scales
  // both by 65535 / 100000.
  EXPECT_EQ(paper1Weights({0, 350000}, 3500), (std::vector<uint32_t>{655, 65535}));
  // Extreme spread: the small one stays at least 1.
  auto w = paper1Weights({0, 3500.0 * 1e9}, 3500);
  EXPECT_EQ(w[0], 1u);
  EXPECT_EQ(w[1], 65535u);
}

// ---------------------------------------------------------------------------
// paper-2 (eq. 3)

TEST(Paper2, PaperExampleAfterOneMinute) {
  // §5.3: "after 1 minute, 405 and 400": weight_diff 5 -> K = 2000 / 5 = 400.
  EXPECT_EQ(paper2Weights({117500, 100000}, 3500, 2000), (std::vector<uint32_t>{405, 400}));
}

TEST(Paper2, PaperExampleAfterEightMinutes) {
  // "after 8 minutes, 667 and 670": weight_diff 3 -> K = 666.7.
  EXPECT_EQ(paper2Weights({100000, 110500}, 3500, 2000), (std::vector<uint32_t>{667, 670}));
}

TEST(Paper2, PaperRangeFrom87To1000) {
  // "from 87 up to 1000": K for weight_diff 23 and 2.
  EXPECT_EQ(paper2Weights({0, 23 * 3500.0}, 3500, 2000)[0], 87u);
  EXPECT_EQ(paper2Weights({0, 2 * 3500.0}, 3500, 2000)[0], 1000u);
}

TEST(Paper2, TableTwoWlcMeans) {
  // 16193.8 / 3500 = 4.63 rounds to 5: the same 400/405 as the example.
  EXPECT_EQ(paper2Weights({129680.1, 145873.9}, 3500, 2000), (std::vector<uint32_t>{400, 405}));
}

TEST(Paper2, NoDifferenceGivesEqualWeights) {
  // weight_diff 0 would divide by zero; every server gets C.
  EXPECT_EQ(paper2Weights({100000, 101000}, 3500, 2000), (std::vector<uint32_t>{2000, 2000}));
}

TEST(Paper2, GeneralisedToNServersUsesTheLargestSpreadForK) {
  // d = {0, 2, 4}; K = 2000 / 4 = 500.
  EXPECT_EQ(paper2Weights({100000, 107000, 114000}, 3500, 2000),
            (std::vector<uint32_t>{500, 502, 504}));
}

TEST(Paper2, TinyConstantStaysAtLeastOne) {
  auto w = paper2Weights({0, 23 * 3500.0}, 3500, 1);
  EXPECT_EQ(w[0], 1u);  // K = 0.04 would round to 0
  EXPECT_EQ(w[1], 23u);
}

TEST(Paper2, HugeConstantIsCapped) {
  auto w = paper2Weights({0, 3500}, 3500, 1e6);
  EXPECT_EQ(w[1], 65535u);
  EXPECT_LE(w[0], 65535u);
}

// ---------------------------------------------------------------------------
// The paper policies around the formulas

TEST(PaperPolicy, InvalidServersKeepTheirConfiguredWeight) {
  PolicyParams p;
  auto pol = makePolicy(Feedback::PAPER_1, p);
  ServerLoad dead;
  auto d = pol->update({load(100000), dead, load(117500)});
  EXPECT_EQ(d[0], (Decision{1000u, Reason::kPolicy}));
  EXPECT_EQ(d[1], (Decision{std::nullopt, Reason::kNoData}));
  EXPECT_EQ(d[2], (Decision{5000u, Reason::kPolicy}));
}

TEST(PaperPolicy, StalledServerGetsZeroAsInThePaper) {
  PolicyParams p;
  auto pol = makePolicy(Feedback::PAPER_1, p);
  ServerLoad stalled = load(50000);
  stalled.blocked = 1.25;  // mean b over the window
  auto d = pol->update({load(100000), stalled, load(107000)});
  EXPECT_EQ(d[1], (Decision{0u, Reason::kStalled}));
  // The stalled server's low memory does not count as the minimum.
  EXPECT_EQ(d[0].weight, 1000u);
  EXPECT_EQ(d[2].weight, 2000u);
}

TEST(PaperPolicy, SwapOutIsAStallToo) {
  PolicyParams p;
  auto pol = makePolicy(Feedback::PAPER_2, p);
  ServerLoad swapping = load(117500);
  swapping.swapOutKbS = 12;
  auto d = pol->update({load(100000), swapping});
  EXPECT_EQ(d[1], (Decision{0u, Reason::kStalled}));
  EXPECT_EQ(d[0], (Decision{2000u, Reason::kPolicy}));
}

TEST(PaperPolicy, AllStalledMeansNoneIs) {
  // Fig. 4: when both stall factors are 0 both are treated alike.
  PolicyParams p;
  auto pol = makePolicy(Feedback::PAPER_2, p);
  ServerLoad a = load(117500), b = load(100000);
  a.blocked = b.blocked = 3;
  auto d = pol->update({a, b});
  EXPECT_EQ(d[0], (Decision{405u, Reason::kPolicy}));
  EXPECT_EQ(d[1], (Decision{400u, Reason::kPolicy}));
}

TEST(PaperPolicy, StallCanReduceInsteadOfZero) {
  PolicyParams p;
  p.paperZeroOnStall = false;
  p.minWeight = 5;
  auto pol = makePolicy(Feedback::PAPER_1, p);
  ServerLoad stalled = load(100000);
  stalled.blocked = 1;
  auto d = pol->update({load(100000), stalled});
  EXPECT_EQ(d[1], (Decision{5u, Reason::kStalled}));
}

TEST(PaperPolicy, BlockedBelowThresholdIsNotAStall) {
  PolicyParams p;
  auto pol = makePolicy(Feedback::PAPER_1, p);
  ServerLoad l = load(117500);
  l.blocked = 0.75;  // blocked in 3 of 4 samples, not continuously
  EXPECT_EQ(pol->update({load(100000), l})[1], (Decision{5000u, Reason::kPolicy}));
}

TEST(PaperPolicy, WeightBoundsApply) {
  PolicyParams p;
  p.minWeight = 1500;
  p.maxWeight = 3000;
  auto pol = makePolicy(Feedback::PAPER_1, p);
  EXPECT_EQ(weightsOf(pol->update({load(100000), load(117500)})),
            (std::vector<uint32_t>{1500, 3000}));
}

TEST(PolicyFactory, Names) {
  PolicyParams p;
  EXPECT_EQ(makePolicy(Feedback::NONE, p), nullptr);
  EXPECT_STREQ(makePolicy(Feedback::PAPER_1, p)->name(), "paper-1");
  EXPECT_STREQ(makePolicy(Feedback::PAPER_2, p)->name(), "paper-2");
  EXPECT_STREQ(makePolicy(Feedback::ADAPTIVE, p)->name(), "adaptive");
  EXPECT_STREQ(policyName(Feedback::NONE), "none");
  EXPECT_STREQ(policyName(Feedback::ADAPTIVE), "adaptive");
}

TEST(PolicyParams, FromProtoDefaults) {
  Feedback fb;
  PolicyParams p = PolicyParams::fromProto(fb);
  EXPECT_EQ(p.processMemoryKb, 3500);
  EXPECT_EQ(p.connectionsPerMinute, 2000);
  EXPECT_DOUBLE_EQ(p.memoryShare, 0.7);
  EXPECT_DOUBLE_EQ(p.maxStep, 0.25);
  EXPECT_DOUBLE_EQ(p.hysteresis, 0.05);
  EXPECT_EQ(p.minWeight, 1u);
  EXPECT_EQ(p.maxWeight, 65535u);
  EXPECT_TRUE(p.paperZeroOnStall);
}

// ---------------------------------------------------------------------------
// adaptive

PolicyParams memoryOnly() {
  PolicyParams p;
  p.memoryShare = 1.0;
  p.ewmaAlpha = 1.0;  // no smoothing unless a test wants it
  return p;
}

TEST(Adaptive, BalancedServersKeepTheirBaseline) {
  auto pol = makePolicy(Feedback::ADAPTIVE, memoryOnly());
  for (int round = 0; round < 5; ++round)
    EXPECT_EQ(weightsOf(pol->update({load(100000), load(100000)})),
              (std::vector<uint32_t>{1000, 1000}));
}

TEST(Adaptive, BaselineFollowsConfiguredWeights) {
  auto pol = makePolicy(Feedback::ADAPTIVE, memoryOnly());
  EXPECT_EQ(weightsOf(pol->update({load(100000, 1), load(100000, 4)})),
            (std::vector<uint32_t>{250, 1000}));
}

TEST(Adaptive, CorrectsTowardHeadroomWithBoundedSteps) {
  auto pol = makePolicy(Feedback::ADAPTIVE, memoryOnly());
  // Server 1 has 60% more memory than the mean of (160, 40): error +0.6 and
  // -0.6, each step bounded by 25%.
  EXPECT_EQ(weightsOf(pol->update({load(160000), load(40000)})),
            (std::vector<uint32_t>{1250, 750}));
  EXPECT_EQ(weightsOf(pol->update({load(160000), load(40000)})),
            (std::vector<uint32_t>{1563, 563}));
}

TEST(Adaptive, SmallErrorMovesByGainTimesError) {
  auto pol = makePolicy(Feedback::ADAPTIVE, memoryOnly());
  // mean 100000; errors +0.1 / -0.1 -> x1.1 / x0.9
  EXPECT_EQ(weightsOf(pol->update({load(110000), load(90000)})),
            (std::vector<uint32_t>{1100, 900}));
}

TEST(Adaptive, HysteresisHoldsSmallChangesButIntegratesThem) {
  auto pol = makePolicy(Feedback::ADAPTIVE, memoryOnly());
  // 3% off the mean: the internal weights move to 1030/970, but a 3% change
  // is below the 5% hysteresis, so nothing is published.
  EXPECT_EQ(weightsOf(pol->update({load(103000), load(97000)})),
            (std::vector<uint32_t>{1000, 1000}));
  // Still 3%: internal 1060.9/940.9, now 6% away: published.
  EXPECT_EQ(weightsOf(pol->update({load(103000), load(97000)})),
            (std::vector<uint32_t>{1061, 941}));
  // Balanced: the integral holds, nothing moves.
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(weightsOf(pol->update({load(100000), load(100000)})),
              (std::vector<uint32_t>{1061, 941}));
  // 1% the other way for a while: small steps add up before they show.
  std::vector<uint32_t> w;
  int rounds = 0;
  do {
    w = weightsOf(pol->update({load(99000), load(101000)}));
    ++rounds;
  } while (w[0] == 1061 && rounds < 20);
  // Server 1 passes 5% of 941 after 5 steps (988.9), server 0 needs 6
  // (1060.9 x 0.99^6 = 998.8, more than 5% of 1061 below it).
  EXPECT_EQ(rounds, 6);
  EXPECT_EQ(w, (std::vector<uint32_t>{999, 989}));
}

TEST(Adaptive, EwmaDampsASingleSpike) {
  PolicyParams p = memoryOnly();
  p.ewmaAlpha = 0.3;
  auto pol = makePolicy(Feedback::ADAPTIVE, p);
  for (int i = 0; i < 3; ++i) pol->update({load(100000), load(100000)});
  // A one-off 10% deviation is smoothed to 3%: inside the band.
  EXPECT_EQ(weightsOf(pol->update({load(110000), load(90000)})),
            (std::vector<uint32_t>{1000, 1000}));
  // Sustained, it gets through: 0.3*0.1 + 0.7*0.03 = 0.051.
  auto w = weightsOf(pol->update({load(110000), load(90000)}));
  EXPECT_GT(w[0], 1000u);
  EXPECT_LT(w[1], 1000u);
}

TEST(Adaptive, StalledServerIsReducedNeverZeroed) {
  PolicyParams p = memoryOnly();
  auto pol = makePolicy(Feedback::ADAPTIVE, p);
  ServerLoad stalled = load(100000);
  stalled.blocked = 2;
  auto d = pol->update({load(100000), stalled});
  EXPECT_EQ(d[1], (Decision{750u, Reason::kStalled}));
  for (int i = 0; i < 100; ++i) d = pol->update({load(100000), stalled});
  EXPECT_EQ(d[1].reason, Reason::kStalled);
  ASSERT_TRUE(d[1].weight.has_value());
  EXPECT_GE(*d[1].weight, 1u);
  EXPECT_EQ(d[0].weight, 1000u);
}

TEST(Adaptive, RespectsMinAndMaxWeight) {
  PolicyParams p = memoryOnly();
  p.minWeight = 600;
  p.maxWeight = 1300;
  auto pol = makePolicy(Feedback::ADAPTIVE, p);
  std::vector<Decision> d;
  for (int i = 0; i < 20; ++i) d = pol->update({load(190000), load(10000)});
  EXPECT_EQ(weightsOf(d), (std::vector<uint32_t>{1300, 600}));
  // No wind-up: once balanced, it does not take 20 rounds to come back.
  d = pol->update({load(10000), load(190000)});
  EXPECT_EQ(weightsOf(d), (std::vector<uint32_t>{975, 750}));
}

TEST(Adaptive, CpuShareFollowsIdleCores) {
  PolicyParams p = memoryOnly();
  p.memoryShare = 0.0;
  auto pol = makePolicy(Feedback::ADAPTIVE, p);
  ServerLoad a = load(100000), b = load(100000);
  a.cpuIdlePct = 55;
  b.cpuIdlePct = 45;  // idle cores 0.55 vs 0.45, mean 0.5
  EXPECT_EQ(weightsOf(pol->update({a, b})), (std::vector<uint32_t>{1100, 900}));
  // Same idle share but twice the cores: twice the idle capacity.
  a.cpuIdlePct = b.cpuIdlePct = 50;
  a.cpus = 2;
  auto pol2 = makePolicy(Feedback::ADAPTIVE, p);
  EXPECT_EQ(weightsOf(pol2->update({a, b})), (std::vector<uint32_t>{1250, 750}));
}

TEST(Adaptive, SaturatedCpusCarryNoSignal) {
  PolicyParams p = memoryOnly();
  p.memoryShare = 0.0;
  auto pol = makePolicy(Feedback::ADAPTIVE, p);
  ServerLoad a = load(100000), b = load(100000);
  a.cpuIdlePct = b.cpuIdlePct = 0;
  EXPECT_EQ(weightsOf(pol->update({a, b})), (std::vector<uint32_t>{1000, 1000}));
}

TEST(Adaptive, ServerWithoutDataRestartsFromBaseline) {
  auto pol = makePolicy(Feedback::ADAPTIVE, memoryOnly());
  pol->update({load(160000), load(40000)});
  ServerLoad dead;
  auto d = pol->update({load(160000), dead});
  EXPECT_EQ(d[1], (Decision{std::nullopt, Reason::kNoData}));
  // Alone, server 0 is its own mean: no error, it keeps its weight.
  EXPECT_EQ(d[0].weight, 1250u);
  d = pol->update({load(100000), load(100000)});
  EXPECT_EQ(weightsOf(d), (std::vector<uint32_t>{1250, 1000}));
}

// A closed loop on a toy plant: wlc shares connections by weight, so server
// i holds share_i of `load` processes of `per` KB each. Server 2 has less
// memory to start with (heterogeneous hardware).
struct Plant {
  double total[2] = {400000, 300000};
  double load = 100;
  double per = 3500;
  std::vector<ServerLoad> observe(const std::vector<uint32_t>& w) const {
    double sum = double(w[0]) + double(w[1]);
    std::vector<ServerLoad> out;
    for (int i = 0; i < 2; ++i) out.push_back(::lvsd::feedback::load(total[i] - load * per * w[i] / sum));
    return out;
  }
};

TEST(Adaptive, ClosedLoopConvergesWithoutOscillating) {
  Plant plant;
  auto pol = makePolicy(Feedback::ADAPTIVE, PolicyParams{});
  std::vector<uint32_t> w{1000, 1000};
  double firstGap = 0, gap = 0;
  std::vector<std::vector<uint32_t>> history;
  for (int round = 0; round < 40; ++round) {
    auto obs = plant.observe(w);
    gap = obs[0].memoryKb - obs[1].memoryKb;
    if (round == 0) firstGap = gap;
    w = weightsOf(pol->update(obs));
    history.push_back(w);
  }
  // Equal weights leave a 100 MB gap; adaptive closes it to within the
  // hysteresis band (5% of the mean available memory of ~175 MB).
  EXPECT_NEAR(firstGap, 100000, 1);
  EXPECT_LT(std::fabs(gap), 0.05 * 2 * 175000);
  EXPECT_LT(std::fabs(gap), 0.2 * firstGap);
  // Settled: the last ten rounds did not change the weights.
  for (size_t i = history.size() - 10; i < history.size(); ++i) EXPECT_EQ(history[i], history.back());
}

TEST(Paper1, ClosedLoopOscillatesOnTheSamePlant) {
  // The paper's "wave": method 1 recomputes weights from the current gap
  // only, so it overshoots and flips the sign of the gap.
  Plant plant;
  auto pol = makePolicy(Feedback::PAPER_1, PolicyParams{});
  std::vector<uint32_t> w{1000, 1000};
  int signChanges = 0;
  double prev = 0;
  for (int round = 0; round < 20; ++round) {
    auto obs = plant.observe(w);
    double gap = obs[0].memoryKb - obs[1].memoryKb;
    if (round > 0 && (gap > 0) != (prev > 0)) ++signChanges;
    prev = gap;
    w = weightsOf(pol->update(obs));
  }
  EXPECT_GE(signChanges, 5);
}

}  // namespace
}  // namespace lvsd::feedback
