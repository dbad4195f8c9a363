#include "healthcheck/checker.h"

#include <gtest/gtest.h>

#include "fakes/fake_clock.h"
#include "fakes/fake_rng.h"

namespace lvsd::healthcheck {
namespace {

using namespace std::chrono_literals;
using lvsd::testing::FakeClock;
using lvsd::testing::FakeRng;

CheckerParams params(uint32_t rise, uint32_t fall, Health initial = Health::kDown) {
  CheckerParams p;
  p.interval = 1s;
  p.jitterPct = 0;
  p.timeout = 300ms;
  p.retries = 0;
  p.retryDelay = 100ms;
  p.rise = rise;
  p.fall = fall;
  p.initial = initial;
  return p;
}

// Drives a checker the way the shell does: wait until the time the core
// asked for, begin an attempt, finish it after `latency`.
struct Driver {
  FakeClock clock;
  FakeRng rng{0.0};
  CheckerCore core;
  TimePoint next;
  std::vector<Transition> transitions;

  explicit Driver(CheckerParams p) : core(p, rng) { next = core.start(clock.now()); }

  CheckerCore::Step attempt(bool up, Duration latency = 10ms, bool timeout = false) {
    if (next > clock.now()) clock.advance(next - clock.now());
    TimePoint deadline = core.beginAttempt(clock.now());
    ProbeResult r = up ? ProbeResult::ok("status 200") : ProbeResult::fail("status 503");
    if (timeout) {
      clock.advance(deadline - clock.now());
      r = ProbeResult::fail("timeout");
      r.timedOut = true;
    } else {
      clock.advance(latency);
    }
    auto step = core.finishAttempt(clock.now(), r);
    next = step.next;
    if (step.transition) transitions.push_back(*step.transition);
    return step;
  }
};

TEST(Checker, InitialStateIsConfigured) {
  FakeRng rng;
  CheckerCore down(params(2, 3, Health::kDown), rng);
  CheckerCore up(params(2, 3, Health::kUp), rng);
  EXPECT_EQ(down.health(), Health::kDown);
  EXPECT_EQ(up.health(), Health::kUp);
}

TEST(Checker, FromProtoAppliesDefaults) {
  config::Check c;
  c.mutable_http();
  auto p = CheckerParams::fromProto(c);
  EXPECT_EQ(p.interval, 5s);
  EXPECT_EQ(p.jitterPct, 10u);
  EXPECT_EQ(p.timeout, 3s);
  EXPECT_EQ(p.retries, 0u);
  EXPECT_EQ(p.retryDelay, 1s);
  EXPECT_EQ(p.rise, 2u);
  EXPECT_EQ(p.fall, 3u);
  EXPECT_EQ(p.warmup, 0s);
  EXPECT_EQ(p.initial, Health::kDown);
  EXPECT_FALSE(p.immediate);
  c.mutable_file();
  c.set_initial(config::Check::UP);
  c.set_jitter_pct(90);
  c.set_rise(0);
  p = CheckerParams::fromProto(c);
  EXPECT_TRUE(p.immediate);
  EXPECT_EQ(p.initial, Health::kUp);
  EXPECT_EQ(p.jitterPct, 50u);  // clamped
  EXPECT_EQ(p.rise, 1u);        // 0 would never change state
}

TEST(Checker, FirstAttemptIsSpreadOverOneInterval) {
  for (double u : {0.0, 0.25, 0.999}) {
    FakeClock clock;
    FakeRng rng(u);
    CheckerCore core(params(1, 1), rng);
    TimePoint first = core.start(clock.now());
    auto expected = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(u));
    EXPECT_NEAR((first - clock.now()).count(), expected.count(), 1000) << u;
    EXPECT_LT(first, clock.now() + 1s);
  }
}

// Every (rise, fall) pair up to 5: from DOWN it takes exactly `rise`
// consecutive successes to go UP, then exactly `fall` consecutive failures
// to go DOWN; a run one short changes nothing.
TEST(Checker, RiseAndFallThresholdsExhaustive) {
  for (uint32_t rise = 1; rise <= 5; ++rise) {
    for (uint32_t fall = 1; fall <= 5; ++fall) {
      SCOPED_TRACE("rise=" + std::to_string(rise) + " fall=" + std::to_string(fall));
      Driver d(params(rise, fall));
      for (uint32_t i = 1; i < rise; ++i) {
        auto s = d.attempt(true);
        EXPECT_FALSE(s.transition);
        EXPECT_EQ(d.core.health(), Health::kDown);
      }
      // A failure resets the run of successes.
      d.attempt(false);
      for (uint32_t i = 1; i < rise; ++i) d.attempt(true);
      EXPECT_EQ(d.core.health(), Health::kDown);
      auto s = d.attempt(true);
      ASSERT_TRUE(s.transition);
      EXPECT_EQ(s.transition->from, Health::kDown);
      EXPECT_EQ(s.transition->to, Health::kUp);
      EXPECT_EQ(s.transition->count, rise);
      EXPECT_EQ(s.transition->needed, rise);
      EXPECT_STREQ(s.transition->rule, "rise");
      EXPECT_TRUE(s.outputChanged);
      EXPECT_EQ(d.core.health(), Health::kUp);

      for (uint32_t i = 1; i < fall; ++i) {
        EXPECT_FALSE(d.attempt(false).transition);
        EXPECT_EQ(d.core.health(), Health::kUp);
      }
      // A success resets the run of failures.
      d.attempt(true);
      for (uint32_t i = 1; i < fall; ++i) d.attempt(false);
      EXPECT_EQ(d.core.health(), Health::kUp);
      s = d.attempt(false);
      ASSERT_TRUE(s.transition);
      EXPECT_EQ(s.transition->to, Health::kDown);
      EXPECT_EQ(s.transition->count, fall);
      EXPECT_STREQ(s.transition->rule, "fall");
      EXPECT_EQ(s.transition->toString(),
                "UP -> DOWN reason=status 503 (fall " + std::to_string(fall) + "/" +
                    std::to_string(fall) + ")");
      EXPECT_EQ(d.core.counters().transitions, 2u);
      EXPECT_EQ(d.transitions.size(), 2u);
    }
  }
}

TEST(Checker, FurtherResultsInSameStateDoNotTransition) {
  Driver d(params(2, 2, Health::kUp));
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(d.attempt(true).transition);
  d.attempt(false);
  d.attempt(false);
  EXPECT_EQ(d.core.health(), Health::kDown);
  for (int i = 0; i < 10; ++i) {
    auto s = d.attempt(false);
    EXPECT_FALSE(s.transition);
    EXPECT_FALSE(s.outputChanged);
  }
  EXPECT_EQ(d.core.consecutiveFailures(), 12u);
}

TEST(Checker, FlappingWithRise3Fall3NeverChangesState) {
  Driver up(params(3, 3, Health::kUp));
  Driver down(params(3, 3, Health::kDown));
  // good good bad good good bad ...: never three bad or three good in a row
  // against the current state... for UP only failures matter, for DOWN only
  // successes; alternate patterns with runs of at most 2.
  const bool pattern[] = {true, false, true, true, false, false, true, true, false, true};
  for (int rep = 0; rep < 5; ++rep)
    for (bool ok : pattern) {
      up.attempt(ok);
      down.attempt(ok);
    }
  EXPECT_TRUE(up.transitions.empty());
  EXPECT_TRUE(down.transitions.empty());
  EXPECT_EQ(up.core.health(), Health::kUp);
  EXPECT_EQ(down.core.health(), Health::kDown);
}

TEST(Checker, RoundsAreAnchoredAtTheirStartWithoutJitter) {
  Driver d(params(1, 1));
  d.rng.setFallback(0.0);
  TimePoint t0 = d.next;
  d.attempt(true, 250ms);
  EXPECT_EQ(d.next, t0 + 1s);  // not t0 + 250ms + 1s
  d.attempt(false, 10ms);
  EXPECT_EQ(d.next, t0 + 2s);
}

TEST(Checker, LateStartsDoNotStretchTheInterval) {
  FakeClock clock;
  FakeRng rng(0.0);
  CheckerCore core(params(1, 1), rng);
  TimePoint due = core.start(clock.now());
  for (int i = 0; i < 5; ++i) {
    // The loop gets to each attempt 30 ms late.
    clock.advance(due - clock.now() + 30ms);
    core.beginAttempt(clock.now());
    clock.advance(5ms);
    auto s = core.finishAttempt(clock.now(), ProbeResult::ok());
    EXPECT_EQ(s.next, due + 1s) << i;
    due = s.next;
  }
}

TEST(Checker, SlowRoundIsFollowedImmediately) {
  auto p = params(1, 1);
  p.timeout = 1500ms;  // longer than the interval
  Driver d(p);
  TimePoint t0 = d.next;
  d.attempt(false, 0ms, /*timeout=*/true);
  EXPECT_EQ(d.clock.now(), t0 + 1500ms);
  EXPECT_EQ(d.next, d.clock.now());
}

TEST(Checker, JitterSpreadsIntervalsWithinBounds) {
  auto p = params(1, 1);
  p.jitterPct = 20;
  FakeClock clock;
  FakeRng rng;
  CheckerCore core(p, rng);
  core.start(clock.now());
  struct Case {
    double u;
    Duration expected;
  };
  for (Case c : {Case{0.0, 800ms}, Case{0.5, 1000ms}, Case{0.75, 1100ms}, Case{0.99999, 1200ms}}) {
    TimePoint begin = clock.now();
    core.beginAttempt(begin);
    rng.push(c.u);
    auto s = core.finishAttempt(begin, ProbeResult::ok());
    EXPECT_NEAR(static_cast<double>((s.next - begin).count()),
                static_cast<double>(c.expected.count()), 1e5)
        << c.u;
    clock.advance(s.next - clock.now());
  }
}

TEST(Checker, DeadlineIsAttemptStartPlusTimeout) {
  FakeClock clock;
  FakeRng rng;
  CheckerCore core(params(1, 1), rng);
  core.start(clock.now());
  EXPECT_EQ(core.beginAttempt(clock.now()), clock.now() + 300ms);
  EXPECT_TRUE(core.attemptInFlight());
  core.finishAttempt(clock.now(), ProbeResult::ok());
  EXPECT_FALSE(core.attemptInFlight());
}

TEST(Checker, RetriesWithinARoundExhaustive) {
  for (uint32_t retries = 0; retries <= 4; ++retries) {
    // The attempt that succeeds: 1..retries+1 succeed within the round,
    // retries+2 means every attempt of the round failed.
    for (uint32_t okAt = 1; okAt <= retries + 2; ++okAt) {
      SCOPED_TRACE("retries=" + std::to_string(retries) + " okAt=" + std::to_string(okAt));
      auto p = params(1, 1, Health::kUp);
      p.retries = retries;
      Driver d(p);
      TimePoint roundStart = d.next;
      for (uint32_t a = 1; a <= retries + 1; ++a) {
        TimePoint before = d.next;
        auto s = d.attempt(a == okAt, 10ms);
        if (a < okAt && a <= retries) {
          EXPECT_FALSE(s.roundDone);
          EXPECT_EQ(s.next, before + 10ms + 100ms);  // retry delay after the failure
          EXPECT_EQ(d.core.health(), Health::kUp);
          continue;
        }
        EXPECT_TRUE(s.roundDone);
        EXPECT_EQ(s.next, roundStart + 1s);
        break;
      }
      EXPECT_EQ(d.core.health(), okAt <= retries + 1 ? Health::kUp : Health::kDown);
      EXPECT_EQ(d.core.counters().rounds, 1u);
      EXPECT_EQ(d.core.counters().attempts, std::min(okAt, retries + 1));
    }
  }
}

TEST(Checker, TimeoutsAreCountedFailures) {
  Driver d(params(1, 2, Health::kUp));
  d.attempt(false, 0ms, true);
  auto s = d.attempt(false, 0ms, true);
  ASSERT_TRUE(s.transition);
  EXPECT_EQ(s.transition->reason, "timeout");
  EXPECT_EQ(d.core.counters().timeouts, 2u);
  EXPECT_EQ(d.core.counters().failures, 2u);
  EXPECT_EQ(d.core.counters().attempts, 2u);
}

TEST(Checker, WarmupIgnoresFailuresOnlyUntilItEnds) {
  auto p = params(2, 2, Health::kUp);
  p.warmup = 3500ms;
  Driver d(p);
  // Starts at t=0 with the first attempt at t=0 (rng 0), rounds each second:
  // attempts at 0,1,2,3 are inside the warm-up (finish at +10ms < 3.5s).
  for (int i = 0; i < 4; ++i) {
    EXPECT_FALSE(d.attempt(false).transition);
    EXPECT_EQ(d.core.health(), Health::kUp);
  }
  EXPECT_EQ(d.core.counters().ignoredFailures, 4u);
  EXPECT_EQ(d.core.consecutiveFailures(), 0u);
  EXPECT_FALSE(d.attempt(false).transition);  // t=4: counts, 1/2
  auto s = d.attempt(false);                  // t=5: 2/2
  ASSERT_TRUE(s.transition);
  EXPECT_EQ(s.transition->count, 2u);
}

TEST(Checker, WarmupDoesNotBreakRunOfSuccesses) {
  auto p = params(3, 1, Health::kDown);
  p.warmup = 10s;
  Driver d(p);
  d.attempt(true);
  d.attempt(false);  // ignored in warm-up
  d.attempt(true);
  auto s = d.attempt(true);
  ASSERT_TRUE(s.transition);
  EXPECT_EQ(s.transition->count, 3u);
}

TEST(Checker, ImmediateModeAppliesEachResult) {
  auto p = params(5, 5, Health::kUp);
  p.immediate = true;
  p.warmup = 1h;  // ignored in immediate mode
  Driver d(p);
  auto s = d.attempt(false);
  ASSERT_TRUE(s.transition);
  EXPECT_STREQ(s.transition->rule, "file");
  EXPECT_EQ(d.core.health(), Health::kDown);
  s = d.attempt(true);
  ASSERT_TRUE(s.transition);
  EXPECT_EQ(d.core.health(), Health::kUp);
}

TEST(Checker, WeightAndDrainFollowTheLastSuccessfulRound) {
  Driver d(params(1, 1));
  FakeClock& clock = d.clock;
  (void)clock;
  auto run = [&](ProbeResult r) {
    if (d.next > d.clock.now()) d.clock.advance(d.next - d.clock.now());
    d.core.beginAttempt(d.clock.now());
    auto s = d.core.finishAttempt(d.clock.now(), r);
    d.next = s.next;
    return s;
  };
  ProbeResult w = ProbeResult::ok("exit 7");
  w.weight = 5;
  auto s = run(w);
  EXPECT_TRUE(s.outputChanged);
  EXPECT_EQ(d.core.weight(), 5u);
  s = run(w);
  EXPECT_FALSE(s.outputChanged);  // same weight again
  ProbeResult drain = ProbeResult::ok("drain");
  drain.drain = true;
  s = run(drain);
  EXPECT_TRUE(s.outputChanged);
  EXPECT_TRUE(d.core.drain());
  EXPECT_FALSE(d.core.weight());
  s = run(ProbeResult::ok());
  EXPECT_TRUE(s.outputChanged);
  EXPECT_FALSE(d.core.drain());
  run(w);
  s = run(ProbeResult::fail("exit 1"));  // going DOWN clears the dynamic weight
  EXPECT_TRUE(s.transition);
  EXPECT_FALSE(d.core.weight());
}

TEST(Checker, CountersAddUp) {
  auto p = params(2, 2);
  p.retries = 1;
  Driver d(p);
  d.attempt(true);
  d.attempt(false);
  d.attempt(false);  // round 2: failed twice
  d.attempt(false, 0ms, true);
  d.attempt(true);  // round 3: retry succeeded
  const auto& c = d.core.counters();
  EXPECT_EQ(c.attempts, 5u);
  EXPECT_EQ(c.successes, 2u);
  EXPECT_EQ(c.failures, 3u);
  EXPECT_EQ(c.timeouts, 1u);
  EXPECT_EQ(c.rounds, 3u);
  EXPECT_EQ(c.failedRounds, 1u);
  EXPECT_EQ(d.core.lastReason(), "status 200");
}

TEST(Checker, RestartResetsToInitialState) {
  Driver d(params(1, 1, Health::kDown));
  d.attempt(true);
  EXPECT_EQ(d.core.health(), Health::kUp);
  d.core.start(d.clock.now());
  EXPECT_EQ(d.core.health(), Health::kDown);
  EXPECT_EQ(d.core.consecutiveSuccesses(), 0u);
}

// Restart on a table a predecessor left (CheckManager::start with adopted
// servers): the check starts UP, and the ordinary rules apply from there.
Driver adopted(CheckerParams p) {
  Driver d(p);
  d.next = d.core.start(d.clock.now(), /*adoptedUp=*/true);
  return d;
}

TEST(Checker, AdoptedStartsUpAndSuccessesChangeNothing) {
  for (Health initial : {Health::kDown, Health::kUp}) {
    Driver d = adopted(params(2, 3, initial));
    EXPECT_EQ(d.core.health(), Health::kUp);
    EXPECT_EQ(d.core.lastReason(), "adopted from the kernel table");
    auto s = d.attempt(true);
    EXPECT_FALSE(s.transition);  // no rise needed: it was up
    EXPECT_FALSE(s.outputChanged);
    EXPECT_EQ(d.core.counters().transitions, 0u);
  }
}

TEST(Checker, AdoptedGoesDownAfterFallLikeAnyUpCheck) {
  // A server that died while lvsd was down is taken out after `fall`
  // failed rounds, as if lvsd had not restarted; one bad round (a stalled
  // loop at start-up, say) does not remove a healthy server.
  Driver d = adopted(params(2, 3));
  EXPECT_FALSE(d.attempt(false).transition);
  EXPECT_FALSE(d.attempt(false).transition);
  EXPECT_EQ(d.core.health(), Health::kUp);
  auto s = d.attempt(false);
  ASSERT_TRUE(s.transition);
  EXPECT_EQ(s.transition->toString(), "UP -> DOWN reason=status 503 (fall 3/3)");
  EXPECT_TRUE(s.outputChanged);
  // A failure followed by a success resets the run, as for any check.
  Driver e = adopted(params(2, 3));
  e.attempt(false);
  e.attempt(false);
  e.attempt(true);
  e.attempt(false);
  e.attempt(false);
  EXPECT_EQ(e.core.health(), Health::kUp);
}

TEST(Checker, AdoptedHonoursWarmup) {
  auto p = params(2, 1);
  p.warmup = 2500ms;
  Driver d = adopted(p);
  for (int i = 0; i < 3; ++i) {  // t=0,1,2: in the warm-up
    EXPECT_FALSE(d.attempt(false).transition);
    EXPECT_EQ(d.core.health(), Health::kUp);
  }
  auto s = d.attempt(false);  // t=3: fall 1/1
  ASSERT_TRUE(s.transition);
  EXPECT_STREQ(s.transition->rule, "fall");
}

TEST(Checker, AdoptedFileCheckAppliesItsFirstResult) {
  auto p = params(1, 1);
  p.immediate = true;
  Driver d = adopted(p);
  EXPECT_EQ(d.core.health(), Health::kUp);
  auto s = d.attempt(false);
  ASSERT_TRUE(s.transition);
  EXPECT_STREQ(s.transition->rule, "file");
}

TEST(Checker, RestartWithoutAdoptionIsInitialAgain) {
  Driver d = adopted(params(1, 1));
  d.next = d.core.start(d.clock.now());
  EXPECT_EQ(d.core.health(), Health::kDown);
}

}  // namespace
}  // namespace lvsd::healthcheck
