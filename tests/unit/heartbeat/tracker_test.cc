#include "heartbeat/tracker.h"

#include <gtest/gtest.h>

namespace lvsd::heartbeat {
namespace {

TrackerInput t(TrackerKind k, int32_t w, bool known, bool ok, int64_t v = 0) {
  return {k, w, {known, ok, v}};
}

PriorityOutcome eval(uint8_t base, std::vector<TrackerInput> in) { return effectivePriority(base, in); }

TEST(Trackers, NoTrackersKeepsThePriority) {
  auto o = eval(100, {});
  EXPECT_EQ(o.priority, 100);
  EXPECT_FALSE(o.fault);
  EXPECT_EQ(o.failed, 0u);
}

TEST(Trackers, WeightZeroFailureIsFault) {
  EXPECT_TRUE(eval(100, {t(TrackerKind::kInterface, 0, true, false)}).fault);
  EXPECT_FALSE(eval(100, {t(TrackerKind::kInterface, 0, true, true)}).fault);
  EXPECT_TRUE(eval(100, {t(TrackerKind::kScript, 0, false, false)}).fault) << "no result yet";
}

TEST(Trackers, NegativeWeightLowersOnFailure) {
  EXPECT_EQ(eval(100, {t(TrackerKind::kScript, -30, true, false)}).priority, 70);
  EXPECT_EQ(eval(100, {t(TrackerKind::kScript, -30, true, true)}).priority, 100);
}

TEST(Trackers, PositiveWeightRaisesOnSuccess) {
  EXPECT_EQ(eval(100, {t(TrackerKind::kScript, 20, true, true)}).priority, 120);
  EXPECT_EQ(eval(100, {t(TrackerKind::kScript, 20, true, false)}).priority, 100);
}

TEST(Trackers, WeightsAddUpAndClamp) {
  auto o = eval(100, {t(TrackerKind::kScript, -60, true, false), t(TrackerKind::kInterface, -60, true, false),
                      t(TrackerKind::kScript, 10, true, true)});
  EXPECT_EQ(o.priority, 1) << "never below 1";
  EXPECT_EQ(o.failed, 2u);
  EXPECT_EQ(eval(250, {t(TrackerKind::kScript, 100, true, true)}).priority, 254) << "never 255";
}

TEST(Trackers, OwnerIgnoresWeightsButNotFaults) {
  EXPECT_EQ(eval(255, {t(TrackerKind::kScript, -50, true, false)}).priority, 255);
  EXPECT_TRUE(eval(255, {t(TrackerKind::kScript, 0, true, false)}).fault);
}

TEST(Trackers, FileValueScalesTheWeight) {
  EXPECT_EQ(eval(100, {t(TrackerKind::kFile, -10, true, true, 3)}).priority, 70);
  EXPECT_EQ(eval(100, {t(TrackerKind::kFile, 5, true, true, 4)}).priority, 120);
  EXPECT_EQ(eval(100, {t(TrackerKind::kFile, -10, true, true, 0)}).priority, 100);
  EXPECT_EQ(eval(100, {t(TrackerKind::kFile, 10, true, false)}).priority, 90) << "unreadable";
  EXPECT_TRUE(eval(100, {t(TrackerKind::kFile, 0, true, true, 1)}).fault);
  EXPECT_FALSE(eval(100, {t(TrackerKind::kFile, 0, true, true, 0)}).fault);
  EXPECT_TRUE(eval(100, {t(TrackerKind::kFile, 0, true, false)}).fault);
}

TEST(RiseFall, FirstResultDecidesThenDebounces) {
  RiseFall rf(2, 3);
  EXPECT_FALSE(rf.state().has_value());
  EXPECT_TRUE(rf.observe(true));
  EXPECT_EQ(rf.state(), true);
  EXPECT_FALSE(rf.observe(false));
  EXPECT_FALSE(rf.observe(false));
  EXPECT_FALSE(rf.observe(true)) << "a success resets the failure run";
  EXPECT_FALSE(rf.observe(false));
  EXPECT_FALSE(rf.observe(false));
  EXPECT_TRUE(rf.observe(false));
  EXPECT_EQ(rf.state(), false);
  EXPECT_FALSE(rf.observe(true));
  EXPECT_TRUE(rf.observe(true));
  EXPECT_EQ(rf.state(), true);
}

TEST(RiseFall, ZeroMeansOne) {
  RiseFall rf(0, 0);
  rf.observe(true);
  EXPECT_TRUE(rf.observe(false));
  EXPECT_TRUE(rf.observe(true));
}

}  // namespace
}  // namespace lvsd::heartbeat
