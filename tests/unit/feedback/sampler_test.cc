#include "feedback/sampler.h"

#include <gtest/gtest.h>

#include "feedback/agent_core.h"
#include "feedback/agent_protocol.h"

namespace lvsd::feedback {
namespace {

using namespace std::chrono_literals;

constexpr double kPageKb = 4;

// A synthetic host: each step advances `dt` with the given CPU split, swap
// traffic and gauges.
struct Host {
  Reading r;
  Host() {
    r.at = TimePoint(1000s);
    r.uptimeS = 1000;
    r.stat.cpus = 2;
    r.stat.cpu.idle = 50000;  // 25% idle since boot
    r.stat.cpu.user = 150000;
    r.mem.totalKb = 1000000;
    r.mem.freeKb = 500000;
    r.mem.availableKb = 800000;
    r.vm.pswpout = 250;  // 1000 KB since boot = 1 KB/s
  }
  Reading step(Duration dt, uint64_t idleJ, uint64_t busyJ, uint64_t iowaitJ, uint64_t swapOutPages,
               uint64_t running, uint64_t blocked, uint64_t freeKb, uint64_t availKb) {
    r.at += dt;
    r.uptimeS += std::chrono::duration<double>(dt).count();
    r.stat.cpu.idle += idleJ;
    r.stat.cpu.user += busyJ;
    r.stat.cpu.iowait += iowaitJ;
    r.vm.pswpout += swapOutPages;
    r.stat.procsRunning = running;
    r.stat.procsBlocked = blocked;
    r.mem.freeKb = freeKb;
    r.mem.availableKb = availKb;
    return r;
  }
};

TEST(SampleBetween, RatesAndGauges) {
  Host h;
  Reading a = h.r;
  Reading b = h.step(5s, 600, 300, 100, 50, 4, 1, 400000, 700000);
  auto s = sampleBetween(a, b, kPageKb);
  ASSERT_TRUE(s);
  EXPECT_DOUBLE_EQ(s->cpuIdlePct, 60.0);
  EXPECT_DOUBLE_EQ(s->cpuIowaitPct, 10.0);
  EXPECT_DOUBLE_EQ(s->swapOutKbS, 50 * 4 / 5.0);
  EXPECT_DOUBLE_EQ(s->runQueue, 4);
  EXPECT_DOUBLE_EQ(s->blocked, 1);
  EXPECT_DOUBLE_EQ(s->freeKb, 400000);
  EXPECT_DOUBLE_EQ(s->availableKb, 700000);
}

TEST(SampleBetween, RejectsEmptyOrBackwardIntervals) {
  Host h;
  Reading a = h.r;
  EXPECT_FALSE(sampleBetween(a, a, kPageKb));  // no time passed
  Reading b = h.step(5s, 100, 100, 0, 0, 1, 0, 1, 1);
  Reading back = b;
  back.stat.cpu.idle = a.stat.cpu.idle - 1;  // counter went backwards
  EXPECT_FALSE(sampleBetween(a, back, kPageKb));
  back = b;
  back.vm.pswpout = 0;
  EXPECT_FALSE(sampleBetween(a, back, kPageKb));
  back = b;
  back.stat.cpu = a.stat.cpu;  // no jiffies at all
  EXPECT_FALSE(sampleBetween(a, back, kPageKb));
}

TEST(SampleSinceBoot, IsVmstatsFirstLine) {
  Host h;
  Sample s = sampleSinceBoot(h.r, kPageKb);
  EXPECT_DOUBLE_EQ(s.cpuIdlePct, 25.0);
  EXPECT_DOUBLE_EQ(s.swapOutKbS, 1.0);
}

// The paper's scheme: 5 readings 5 s apart, the first (since boot) dropped,
// the mean of the other 4.
TEST(Sampler, PaperSchemeMeanOfFourDropsTheFirst) {
  Host h;
  Sampler sampler(120, kPageKb);
  sampler.add(h.r);  // reading 1: since boot, dropped
  const uint64_t idle[] = {900, 800, 700, 600};
  const uint64_t freeKb[] = {410000, 420000, 430000, 440000};
  for (int i = 0; i < 4; ++i) {
    EXPECT_FALSE(sampler.window(4, h.r.at));  // still warming up
    sampler.add(h.step(5s, idle[i], 1000 - idle[i], 0, i == 3 ? 100 : 0, i + 1, i == 2 ? 2 : 0,
                       freeKb[i], 2 * freeKb[i]));
  }
  auto w = sampler.window(4, h.r.at + 1s);
  ASSERT_TRUE(w) << w.error().message;
  EXPECT_EQ(w->samples, 4u);
  EXPECT_EQ(w->span, 20s);
  EXPECT_EQ(w->age, 1s);
  EXPECT_DOUBLE_EQ(w->mean.cpuIdlePct, (90.0 + 80 + 70 + 60) / 4);
  EXPECT_DOUBLE_EQ(w->mean.freeKb, 425000);
  EXPECT_DOUBLE_EQ(w->mean.availableKb, 850000);
  EXPECT_DOUBLE_EQ(w->mean.runQueue, 2.5);
  EXPECT_DOUBLE_EQ(w->mean.blocked, 0.5);
  EXPECT_DOUBLE_EQ(w->mean.swapOutKbS, (100 * 4 / 5.0) / 4);
  EXPECT_EQ(w->latest.mem.totalKb, 1000000u);
  // The since-boot line (25% idle) never entered the mean.
  EXPECT_NE(w->mean.cpuIdlePct, (90.0 + 80 + 70 + 60 + 25) / 5);
}

TEST(Sampler, KeepFirstIncludesSinceBoot) {
  Host h;
  Sampler sampler(10, kPageKb, /*keepFirst=*/true);
  sampler.add(h.r);
  auto w = sampler.window(1, h.r.at);
  ASSERT_TRUE(w);
  EXPECT_DOUBLE_EQ(w->mean.cpuIdlePct, 25.0);
}

TEST(Sampler, SlidingWindowAndCapacity) {
  Host h;
  Sampler sampler(3, kPageKb);
  sampler.add(h.r);
  for (uint64_t i = 1; i <= 5; ++i) sampler.add(h.step(5s, i * 100, 1000 - i * 100, 0, 0, i, 0, 1, 1));
  EXPECT_EQ(sampler.available(), 3u);
  auto w = sampler.window(3, h.r.at);
  ASSERT_TRUE(w);
  EXPECT_DOUBLE_EQ(w->mean.runQueue, 4.0);  // samples 3, 4, 5
  auto w2 = sampler.window(1, h.r.at);
  ASSERT_TRUE(w2);
  EXPECT_DOUBLE_EQ(w2->mean.runQueue, 5.0);
  EXPECT_FALSE(sampler.window(4, h.r.at));  // longer than the history
}

TEST(Sampler, SkipsBadIntervals) {
  Host h;
  Sampler sampler(10, kPageKb);
  sampler.add(h.r);
  sampler.add(h.step(5s, 500, 500, 0, 0, 1, 0, 1, 1));
  Reading reset = h.step(5s, 500, 500, 0, 0, 1, 0, 1, 1);
  reset.stat.cpu = CpuTimes{};  // counters reset
  sampler.add(reset);
  EXPECT_EQ(sampler.skipped(), 1u);
  EXPECT_EQ(sampler.available(), 1u);
  h.r = reset;
  sampler.add(h.step(5s, 500, 500, 0, 0, 1, 0, 1, 1));  // continues from the reset
  EXPECT_EQ(sampler.available(), 2u);
}

TEST(SamplesFor, ConvertsThePapersTermsToTheAgentsInterval) {
  EXPECT_EQ(samplesFor(5, 5000, 5000), 4u);   // the paper
  EXPECT_EQ(samplesFor(5, 5000, 1000), 20u);  // same 20 s at 1 s
  EXPECT_EQ(samplesFor(3, 1000, 5000), 1u);   // shorter than one sample
  EXPECT_EQ(samplesFor(1, 5000, 5000), 1u);   // nothing to drop: one interval
  EXPECT_EQ(samplesFor(5, 5000, 0), 1u);
}

Window windowWith(double availKb, double totalKb, double idlePct) {
  Window w;
  w.samples = 4;
  w.mean.availableKb = availKb;
  w.mean.cpuIdlePct = idlePct;
  w.latest.mem.totalKb = static_cast<uint64_t>(totalKb);
  return w;
}

TEST(CapacityPct, MixesMemoryAndCpu) {
  EXPECT_EQ(capacityPct(windowWith(500, 1000, 100), 0.7), 65u);  // 0.7*0.5 + 0.3*1
  EXPECT_EQ(capacityPct(windowWith(1000, 1000, 100), 0.7), 100u);
  EXPECT_EQ(capacityPct(windowWith(0, 1000, 0), 0.7), 1u);  // never 0 (that is drain)
  EXPECT_EQ(capacityPct(windowWith(500, 1000, 20), 1.0), 50u);
  EXPECT_EQ(capacityPct(windowWith(500, 0, 20), 0.0), 20u);
}

// ---------------------------------------------------------------------------
// AgentCore

TEST(StateFile, Parses) {
  EXPECT_EQ(parseStateFile("")->state, agent::READY);
  EXPECT_EQ(parseStateFile("  \n")->state, agent::READY);
  EXPECT_EQ(parseStateFile("ready\n")->state, agent::READY);
  EXPECT_EQ(parseStateFile("DRAIN\n")->state, agent::DRAIN);
  auto d = parseStateFile("down kernel upgrade\nignored\n");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->state, agent::DOWN);
  EXPECT_EQ(d->reason, "kernel upgrade");
  EXPECT_EQ(parseStateFile("maint")->state, agent::DOWN);
  EXPECT_FALSE(parseStateFile("sideways\n"));
  EXPECT_LE(parseStateFile("down " + std::string(1000, 'x'))->reason.size(), 200u);
}

class AgentCoreTest : public ::testing::Test {
 protected:
  AgentCoreTest() : core_(AgentOptions{}, kPageKb, "rs1") {}
  void fill(int readings) {
    core_.addReading(h_.r);
    for (int i = 0; i < readings; ++i)
      core_.addReading(h_.step(5s, 500, 500, 0, 0, 2, 0, 300000, 500000));
  }
  Host h_;
  AgentCore core_;
};

TEST_F(AgentCoreTest, WarmingUpIsNotValid) {
  fill(3);
  auto r = core_.report(nullptr, h_.r.at);
  EXPECT_EQ(r.version(), kAgentProtocolVersion);
  EXPECT_FALSE(r.valid());
  EXPECT_EQ(r.state(), agent::READY);
  EXPECT_NE(r.reason().find("warming up"), std::string::npos);
  EXPECT_EQ(formatTextAnswer(r), "up ready\n");
}

TEST_F(AgentCoreTest, PaperWindowByDefault) {
  fill(4);
  auto r = core_.report(nullptr, h_.r.at);
  ASSERT_TRUE(r.valid()) << r.reason();
  EXPECT_EQ(r.window_samples(), 4u);
  EXPECT_EQ(r.window_ms(), 20000u);
  EXPECT_EQ(r.hostname(), "rs1");
  EXPECT_DOUBLE_EQ(r.mem_available_kb(), 500000);
  EXPECT_DOUBLE_EQ(r.cpu_idle_pct(), 50);
  EXPECT_EQ(r.mem_total_kb(), 1000000u);
  EXPECT_EQ(r.cpus(), 2u);
  EXPECT_EQ(r.capacity_pct(), 50u);  // 0.7*0.5 + 0.3*0.5
  EXPECT_EQ(formatTextAnswer(r), "up ready 50%\n");
}

TEST_F(AgentCoreTest, RequestChoosesTheWindow) {
  fill(10);
  agent::AgentRequest req;
  req.set_samples(11);
  req.set_sample_interval_ms(5000);
  auto r = core_.report(&req, h_.r.at);
  ASSERT_TRUE(r.valid()) << r.reason();
  EXPECT_EQ(r.window_samples(), 10u);
  req.set_samples(12);
  EXPECT_FALSE(core_.report(&req, h_.r.at).valid());
}

TEST_F(AgentCoreTest, AdminStateWins) {
  fill(4);
  core_.setAdmin(*parseStateFile("drain\n"));
  auto r = core_.report(nullptr, h_.r.at);
  EXPECT_EQ(r.state(), agent::DRAIN);
  EXPECT_EQ(formatTextAnswer(r), "drain\n");
  core_.setAdmin(*parseStateFile("down disk\nreplacement"));
  r = core_.report(nullptr, h_.r.at);
  EXPECT_EQ(r.state(), agent::DOWN);
  EXPECT_EQ(r.reason(), "state-file: disk");
  EXPECT_EQ(formatTextAnswer(r), "down #state-file: disk\n");
}

TEST_F(AgentCoreTest, SamplerFailureIsNoDataNotDown) {
  fill(4);
  core_.readingFailed("open /proc/meminfo: Permission denied");
  auto r = core_.report(nullptr, h_.r.at);
  EXPECT_EQ(r.state(), agent::READY);
  EXPECT_FALSE(r.valid());
  EXPECT_NE(r.reason().find("Permission denied"), std::string::npos);
  core_.readingOk();
  EXPECT_TRUE(core_.report(nullptr, h_.r.at).valid());
}

}  // namespace
}  // namespace lvsd::feedback
