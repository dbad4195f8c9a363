#include "heartbeat/election.h"

#include <gtest/gtest.h>

#include <random>

#include "fakes/fake_clock.h"

namespace lvsd::heartbeat {
namespace {

using std::chrono::milliseconds;
using Kind = Action::Kind;

IpAddress ip(const char* s) { return IpAddress::parse(s).value(); }

ElectionParams params(uint8_t prio, const char* self = "10.0.0.1") {
  ElectionParams p;
  p.name = "web";
  p.priority = prio;
  p.interval = milliseconds(1000);
  p.deadCount = 3;
  p.self = ip(self);
  return p;
}

PeerAdvert advert(uint8_t prio, const char* from = "10.0.0.2", int intervalMs = 1000) {
  return {prio, ip(from), milliseconds(intervalMs)};
}

std::vector<Action> transitions(const Actions& a) {
  std::vector<Action> t;
  for (const auto& x : a)
    if (x.kind == Kind::kTransition) t.push_back(x);
  return t;
}

size_t count(const Actions& a, Kind k) {
  size_t n = 0;
  for (const auto& x : a) n += x.kind == k;
  return n;
}

class ElectionTest : public ::testing::Test {
 protected:
  testing::FakeClock clock;
  TimePoint now() const { return clock.now(); }
  // Advances in 1 ms steps, firing timers, until `until` has elapsed.
  Actions run(Election& e, Duration until) {
    Actions all;
    TimePoint end = clock.now() + until;
    while (true) {
      auto d = e.nextDeadline();
      if (!d || *d > end) break;
      if (*d > clock.now()) clock.advance(*d - clock.now());
      e.timers(clock.now(), all);
    }
    if (end > clock.now()) clock.advance(end - clock.now());
    return all;
  }
};

TEST_F(ElectionTest, SkewAndMasterDownFollowRfc5798) {
  // RFC 5798 §6.1: Skew_Time = ((256 - Priority) * Master_Adver_Interval) / 256.
  EXPECT_EQ(skewTime(milliseconds(1000), 100), std::chrono::microseconds(609375));
  EXPECT_EQ(skewTime(milliseconds(1000), 255), std::chrono::nanoseconds(3906250));
  EXPECT_EQ(masterDownInterval(milliseconds(1000), 100, 3), std::chrono::microseconds(3609375));
  EXPECT_EQ(masterDownInterval(milliseconds(10), 100, 3), std::chrono::nanoseconds(36093750));
  // A higher priority waits less, so it wins a simultaneous start.
  EXPECT_LT(masterDownInterval(milliseconds(100), 200, 3),
            masterDownInterval(milliseconds(100), 100, 3));
}

TEST_F(ElectionTest, StartsAsBackupAndTakesOverWhenNoMasterIsHeard) {
  Election e(params(100));
  Actions a;
  e.start(now(), a);
  ASSERT_EQ(transitions(a).size(), 1u);
  EXPECT_EQ(transitions(a)[0].from, State::kInit);
  EXPECT_EQ(transitions(a)[0].to, State::kBackup);
  EXPECT_EQ(transitions(a)[0].reason, Reason::kStartup);
  EXPECT_EQ(count(a, Kind::kSendAdvert), 0u);

  Actions b = run(e, std::chrono::microseconds(3609374));
  EXPECT_EQ(e.state(), State::kBackup) << "not a microsecond before Master_Down_Interval";
  b = run(e, std::chrono::microseconds(1));
  ASSERT_EQ(e.state(), State::kMaster);
  // The advertisement goes out before the transition is announced.
  ASSERT_GE(b.size(), 2u);
  EXPECT_EQ(b[0].kind, Kind::kSendAdvert);
  EXPECT_EQ(b[0].priority, 100);
  EXPECT_EQ(transitions(b)[0].reason, Reason::kMasterDown);
  EXPECT_EQ(e.master(), ip("10.0.0.1"));
}

// Restart in place (release_on_stop false, the VIPs still held): the
// restarted MASTER advertises at once, before the backup's master-down
// timer (started by the last advertisement before the stop) runs out.
TEST_F(ElectionTest, ResumeStartsAsMasterAndAdvertisesAtOnce) {
  Election e(params(150));
  Actions a;
  e.start(now(), a, /*resume=*/true);
  ASSERT_EQ(transitions(a).size(), 1u);
  EXPECT_EQ(transitions(a)[0].from, State::kInit);
  EXPECT_EQ(transitions(a)[0].to, State::kMaster);
  EXPECT_EQ(transitions(a)[0].reason, Reason::kResume);
  EXPECT_STREQ(reasonName(Reason::kResume), "resume");
  ASSERT_GE(a.size(), 2u);
  EXPECT_EQ(a[0].kind, Kind::kSendAdvert);
  EXPECT_EQ(a[0].priority, 150);
  Actions b = run(e, milliseconds(5'000));
  EXPECT_EQ(count(b, Kind::kSendAdvert), 5u);
  EXPECT_TRUE(transitions(b).empty());
}

TEST_F(ElectionTest, ResumeAgainstABackupThatNeverTookOver) {
  // The peer (priority 100) is BACKUP; its timer restarts on our first
  // advertisement, so it never becomes MASTER.
  Election backup(params(100, "10.0.0.2"));
  Actions a;
  backup.start(now(), a);
  backup.advert(advert(150, "10.0.0.1"), now(), a);  // the master before its restart
  clock.advance(milliseconds(2'500));                 // the restart: < 3.6 s
  Election restarted(params(150, "10.0.0.1"));
  Actions r;
  restarted.start(now(), r, /*resume=*/true);
  ASSERT_EQ(r[0].kind, Kind::kSendAdvert);
  backup.advert(advert(150, "10.0.0.1"), now(), a);
  a = run(backup, milliseconds(1'000));
  EXPECT_EQ(backup.state(), State::kBackup);
  EXPECT_TRUE(transitions(a).empty());
}

TEST_F(ElectionTest, ResumeYieldsToAHigherMasterAndLowerOneIsReasserted) {
  // The restart took too long: the peer took over. A higher peer keeps it.
  Election low(params(100, "10.0.0.1"));
  Actions a;
  low.start(now(), a, /*resume=*/true);
  ASSERT_EQ(low.state(), State::kMaster);
  low.advert(advert(150, "10.0.0.2"), now(), a);
  EXPECT_EQ(low.state(), State::kBackup);
  EXPECT_EQ(transitions(a).back().reason, Reason::kHigherPriority);
  // A lower peer that took over hears us and yields; we re-assert at once.
  Election high(params(150, "10.0.0.1"));
  Actions b;
  high.start(now(), b, /*resume=*/true);
  clock.advance(milliseconds(1'500));
  b.clear();
  high.advert(advert(100, "10.0.0.2"), now(), b);
  EXPECT_EQ(high.state(), State::kMaster);
  EXPECT_EQ(count(b, Kind::kReassert), 1u);
}

TEST_F(ElectionTest, ResumeDoesNotOverrideAFault) {
  Election e(params(150));
  Actions a;
  e.setOwnFault(true, now(), a);
  e.start(now(), a, /*resume=*/true);
  EXPECT_EQ(e.state(), State::kFault);
}

TEST_F(ElectionTest, MasterAdvertisesEveryInterval) {
  Election e(params(255));
  Actions a;
  e.start(now(), a);
  EXPECT_EQ(e.state(), State::kMaster);
  EXPECT_EQ(transitions(a)[0].reason, Reason::kAddressOwner);
  EXPECT_EQ(count(a, Kind::kSendAdvert), 1u);
  Actions b = run(e, milliseconds(10'000));
  EXPECT_EQ(count(b, Kind::kSendAdvert), 10u);
  EXPECT_TRUE(transitions(b).empty());
}

TEST_F(ElectionTest, BackupStaysWhileAHigherMasterAdvertises) {
  Election e(params(100));
  Actions a;
  e.start(now(), a);
  for (int i = 0; i < 100; ++i) {
    clock.advance(milliseconds(1000));
    e.advert(advert(200), now(), a);
    a = run(e, milliseconds(0));
  }
  EXPECT_EQ(e.state(), State::kBackup);
  EXPECT_EQ(e.master(), ip("10.0.0.2"));
  EXPECT_EQ(e.masterPriority(), 200);
}

TEST_F(ElectionTest, BackupAcceptsAnEqualPriorityMaster) {
  Election e(params(100, "10.0.0.9"));  // higher address, but backups do not compare
  Actions a;
  e.start(now(), a);
  for (int i = 0; i < 10; ++i) {
    clock.advance(milliseconds(1000));
    e.advert(advert(100), now(), a);
  }
  EXPECT_EQ(e.state(), State::kBackup);
}

TEST_F(ElectionTest, PreemptDiscardsALowerMasterAndTakesOverAtMasterDown) {
  Election e(params(150));
  Actions a;
  TimePoint t0 = now();
  e.start(now(), a);
  Actions b;
  for (int ms = 1; e.state() == State::kBackup && ms < 10'000; ++ms) {
    clock.advance(milliseconds(1));
    if (ms % 1000 == 500) e.advert(advert(100), now(), b);  // a lower master: discarded
    e.timers(now(), b);
  }
  ASSERT_EQ(e.state(), State::kMaster);
  // The timer armed at start keeps running: 3 s + 106/256 s = 3414.06 ms.
  EXPECT_EQ(now() - t0, milliseconds(3415));
  EXPECT_EQ(transitions(b).back().reason, Reason::kPreempt);
}

TEST_F(ElectionTest, NoPreemptKeepsALowerMaster) {
  auto p = params(150);
  p.preempt = false;
  Election e(p);
  Actions a;
  e.start(now(), a);
  for (int i = 0; i < 60; ++i) {
    clock.advance(milliseconds(1000));
    e.advert(advert(100), now(), a);
    e.timers(now(), a);
  }
  EXPECT_EQ(e.state(), State::kBackup);
  // …but takes over when that master dies.
  a = run(e, milliseconds(4000));
  EXPECT_EQ(e.state(), State::kMaster);
  EXPECT_EQ(transitions(a).back().reason, Reason::kMasterDown);
}

TEST_F(ElectionTest, PreemptDelayHoldsOffPreemption) {
  auto p = params(150);
  p.preemptDelay = milliseconds(10'000);
  Election e(p);
  Actions a;
  e.start(now(), a);
  TimePoint firstHeard = now();
  Actions b;
  for (int step = 0; e.state() == State::kBackup && step < 100'000; ++step) {
    if (step % 1000 == 0) e.advert(advert(100), now(), b);
    clock.advance(milliseconds(1));
    e.timers(now(), b);
  }
  ASSERT_EQ(e.state(), State::kMaster);
  Duration took = now() - firstHeard;
  // Accepted for 10 s; then discarded until master-down expires.
  EXPECT_GE(took, milliseconds(10'000));
  EXPECT_LE(took, milliseconds(10'000) + masterDownInterval(milliseconds(1000), 150, 3) + milliseconds(1000));
  EXPECT_EQ(transitions(b).back().reason, Reason::kPreempt);
}

TEST_F(ElectionTest, PreemptDelayRestartsWhenAHigherMasterIsHeard) {
  auto p = params(150);
  p.preemptDelay = milliseconds(5'000);
  Election e(p);
  Actions a;
  e.start(now(), a);
  e.advert(advert(100), now(), a);  // delay starts
  clock.advance(milliseconds(4'000));
  e.advert(advert(200, "10.0.0.3"), now(), a);  // a higher master resets it
  clock.advance(milliseconds(900));
  e.advert(advert(100), now(), a);  // delay starts again now
  for (int i = 0; i < 4; ++i) {
    clock.advance(milliseconds(1000));
    e.advert(advert(100), now(), a);
    e.timers(now(), a);
  }
  EXPECT_EQ(e.state(), State::kBackup) << "4.9 s into the second delay";
}

TEST_F(ElectionTest, PriorityZeroLetsTheBackupTakeOverAfterSkewTime) {
  Election e(params(100));
  Actions a;
  e.start(now(), a);
  clock.advance(milliseconds(300));
  e.advert(advert(200), now(), a);
  clock.advance(milliseconds(700));
  e.advert(advert(0), now(), a);
  TimePoint released = now();
  Actions b = run(e, milliseconds(1000));
  ASSERT_EQ(e.state(), State::kMaster);
  EXPECT_EQ(transitions(b).back().reason, Reason::kMasterReleased);
  // Skew_Time for priority 100 at 1 s: 609.375 ms, below one interval.
  EXPECT_EQ(e.since() - released, skewTime(milliseconds(1000), 100));
}

TEST_F(ElectionTest, ALateTimerGetsOneIntervalOfGraceOncePerSilence) {
  Election e(params(100));
  Actions a;
  e.start(now(), a);
  e.advert(advert(200), now(), a);
  TimePoint due = *e.nextDeadline();
  // The loop wakes up 600 ms late (a stalled host): no verdict yet.
  clock.advance(due - now() + milliseconds(600));
  a.clear();
  e.timers(now(), a, milliseconds(600));
  EXPECT_EQ(e.state(), State::kBackup);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].kind, Kind::kStallGrace);
  EXPECT_EQ(*e.nextDeadline(), now() + milliseconds(1000));
  // The master was only stalled too: its advert arrives, all is well, and
  // the next silence gets its own grace.
  clock.advance(milliseconds(5));
  e.advert(advert(200), now(), a);
  clock.advance(*e.nextDeadline() - now() + milliseconds(700));
  a.clear();
  e.timers(now(), a, milliseconds(700));
  EXPECT_EQ(e.state(), State::kBackup);
  // Still silent one interval later, even late: the master is gone.
  clock.advance(*e.nextDeadline() - now() + milliseconds(900));
  a.clear();
  e.timers(now(), a, milliseconds(900));
  EXPECT_EQ(e.state(), State::kMaster);
  EXPECT_EQ(transitions(a).at(0).reason, Reason::kMasterDown);
}

TEST_F(ElectionTest, AnOnTimeTimerGetsNoGrace) {
  Election e(params(100));
  Actions a;
  e.start(now(), a);
  clock.advance(*e.nextDeadline() - now() + milliseconds(499));
  e.timers(now(), a, milliseconds(499));
  EXPECT_EQ(e.state(), State::kMaster) << "less than half an interval late";
}

TEST_F(ElectionTest, BackupLearnsTheMastersInterval) {
  Election e(params(100));
  Actions a;
  e.start(now(), a);
  e.advert(advert(200, "10.0.0.2", 100), now(), a);
  EXPECT_EQ(e.masterInterval(), milliseconds(100));
  TimePoint heard = now();
  run(e, milliseconds(1000));
  ASSERT_EQ(e.state(), State::kMaster);
  EXPECT_EQ(e.since() - heard, masterDownInterval(milliseconds(100), 100, 3));
}

TEST_F(ElectionTest, Vrrp2DoesNotLearnTheInterval) {
  auto p = params(100);
  p.learnInterval = false;
  Election e(p);
  Actions a;
  e.start(now(), a);
  e.advert(advert(200, "10.0.0.2", 100), now(), a);
  EXPECT_EQ(e.masterInterval(), milliseconds(1000));
}

TEST_F(ElectionTest, MasterYieldsToAHigherPriority) {
  Election e(params(255));
  Actions a;
  e.start(now(), a);
  e.setPriority(100, now(), a);
  a.clear();
  e.advert(advert(150), now(), a);
  EXPECT_EQ(e.state(), State::kBackup);
  EXPECT_EQ(transitions(a)[0].reason, Reason::kHigherPriority);
  EXPECT_EQ(count(a, Kind::kSendAdvert), 0u);
  EXPECT_FALSE(e.nextDeadline() == std::nullopt) << "master-down timer armed";
}

TEST_F(ElectionTest, EqualPriorityIsBrokenByAddress) {
  Election low(params(100, "10.0.0.1"));
  Election high(params(100, "10.0.0.2"));
  Actions a;
  low.start(now(), a);
  high.start(now(), a);
  run(low, milliseconds(4000));
  run(high, milliseconds(0));
  ASSERT_EQ(low.state(), State::kMaster);
  ASSERT_EQ(high.state(), State::kMaster);
  a.clear();
  high.advert(advert(100, "10.0.0.1"), now(), a);
  EXPECT_EQ(high.state(), State::kMaster);
  EXPECT_EQ(count(a, Kind::kReassert), 1u);
  a.clear();
  low.advert(advert(100, "10.0.0.2"), now(), a);
  EXPECT_EQ(low.state(), State::kBackup);
  EXPECT_EQ(transitions(a)[0].reason, Reason::kHigherAddress);
}

TEST_F(ElectionTest, MasterReassertsOnceAnIntervalAgainstALowerMaster) {
  Election e(params(255));
  Actions a;
  e.start(now(), a);
  e.setPriority(200, now(), a);
  a.clear();
  e.advert(advert(100), now(), a);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].kind, Kind::kSendAdvert);
  EXPECT_EQ(a[1].kind, Kind::kReassert);
  a.clear();
  clock.advance(milliseconds(10));
  e.advert(advert(100), now(), a);  // same advert over a second link
  EXPECT_TRUE(a.empty());
  clock.advance(milliseconds(990));
  e.advert(advert(100), now(), a);
  EXPECT_EQ(count(a, Kind::kReassert), 1u);
  EXPECT_EQ(e.state(), State::kMaster);
}

TEST_F(ElectionTest, PeerReturningMakesAMasterReassert) {
  Election e(params(255));
  Actions a;
  e.start(now(), a);
  a.clear();
  e.peerReturned(now(), a);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[1].kind, Kind::kReassert);
  Election backup(params(100));
  backup.start(now(), a);
  a.clear();
  backup.peerReturned(now(), a);
  EXPECT_TRUE(a.empty()) << "only a MASTER has something to announce";
}

TEST_F(ElectionTest, MasterAnswersPriorityZeroAtOnce) {
  Election e(params(255));
  Actions a;
  e.start(now(), a);
  clock.advance(milliseconds(300));
  a.clear();
  e.advert(advert(0), now(), a);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].kind, Kind::kSendAdvert);
  EXPECT_EQ(*e.nextDeadline(), now() + milliseconds(1000));
}

TEST_F(ElectionTest, OwnAddressIsIgnored) {
  Election e(params(100));
  Actions a;
  e.start(now(), a);
  a.clear();
  e.advert(advert(200, "10.0.0.1"), now(), a);
  EXPECT_TRUE(a.empty());
  EXPECT_FALSE(e.master().has_value());
}

TEST_F(ElectionTest, PriorityChangeAsMasterIsAdvertisedAtOnce) {
  Election e(params(255));
  Actions a;
  e.start(now(), a);
  clock.advance(milliseconds(200));
  a.clear();
  e.setPriority(90, now(), a);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].kind, Kind::kSendAdvert);
  EXPECT_EQ(a[0].priority, 90);
}

TEST_F(ElectionTest, FaultAsMasterHandsOverWithPriorityZero) {
  Election e(params(255));
  Actions a;
  e.start(now(), a);
  a.clear();
  e.setOwnFault(true, now(), a);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].kind, Kind::kSendAdvert);
  EXPECT_EQ(a[0].priority, 0);
  EXPECT_EQ(a[1].to, State::kFault);
  EXPECT_EQ(a[1].reason, Reason::kTrackerFault);
  EXPECT_FALSE(e.nextDeadline().has_value()) << "FAULT sends nothing and waits for nothing";
  // Adverts in FAULT change nothing but who we think is master.
  a.clear();
  e.advert(advert(100), now(), a);
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(e.master(), ip("10.0.0.2"));
  e.setOwnFault(false, now(), a);
  EXPECT_EQ(e.state(), State::kMaster) << "255 owns the address again";
  EXPECT_EQ(transitions(a).back().reason, Reason::kFaultCleared);
}

TEST_F(ElectionTest, FaultBeforeStartStartsInFault) {
  Election e(params(100));
  Actions a;
  e.setOwnFault(true, now(), a);
  EXPECT_TRUE(a.empty());
  e.start(now(), a);
  EXPECT_EQ(e.state(), State::kFault);
  e.setOwnFault(false, now(), a);
  EXPECT_EQ(e.state(), State::kBackup);
}

TEST_F(ElectionTest, StopAsMasterReleasesWithPriorityZero) {
  Election e(params(255));
  Actions a;
  e.start(now(), a);
  a.clear();
  e.stop(now(), true, a);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].kind, Kind::kSendAdvert);
  EXPECT_EQ(a[0].priority, 0);
  EXPECT_EQ(a[1].to, State::kStop);
  EXPECT_FALSE(e.nextDeadline().has_value());
  a.clear();
  e.advert(advert(100), now(), a);
  e.setOwnFault(true, now(), a);
  EXPECT_TRUE(a.empty()) << "STOP is final";
}

TEST_F(ElectionTest, StopWithoutReleaseSendsNothing) {
  Election e(params(255));
  Actions a;
  e.start(now(), a);
  a.clear();
  e.stop(now(), false, a);
  EXPECT_EQ(count(a, Kind::kSendAdvert), 0u);
  EXPECT_EQ(e.state(), State::kStop);
}

// Two routers exchanging adverts over a link that can be cut: a partition
// makes two masters; healing leaves exactly one within an interval.
TEST_F(ElectionTest, SplitBrainHealsWithinOneInterval) {
  Election a(params(150, "10.0.0.1")), b(params(100, "10.0.0.2"));
  Actions out;
  a.start(now(), out);
  b.start(now(), out);
  bool linkUp = true;
  auto step = [&] {
    clock.advance(milliseconds(1));
    Actions oa, ob;
    a.timers(now(), oa);
    b.timers(now(), ob);
    if (!linkUp) return;
    for (auto& x : oa)
      if (x.kind == Kind::kSendAdvert) b.advert(advert(x.priority, "10.0.0.1"), now(), ob);
    for (auto& x : ob)
      if (x.kind == Kind::kSendAdvert) a.advert(advert(x.priority, "10.0.0.2"), now(), oa);
    // Answers provoked by the deliveries above.
    for (auto& x : oa)
      if (x.kind == Kind::kSendAdvert) b.advert(advert(x.priority, "10.0.0.1"), now(), ob);
  };
  for (int i = 0; i < 5000; ++i) step();
  ASSERT_EQ(a.state(), State::kMaster);
  ASSERT_EQ(b.state(), State::kBackup);
  linkUp = false;
  for (int i = 0; i < 5000; ++i) step();
  ASSERT_EQ(a.state(), State::kMaster);
  ASSERT_EQ(b.state(), State::kMaster);
  linkUp = true;
  TimePoint healed = now();
  while (b.state() == State::kMaster && now() - healed < milliseconds(5000)) step();
  EXPECT_EQ(a.state(), State::kMaster);
  EXPECT_EQ(b.state(), State::kBackup);
  EXPECT_LE(now() - healed, milliseconds(1000));
}

// Random inputs in every state: the machine never breaks its invariants.
TEST_F(ElectionTest, RandomInputsKeepInvariants) {
  std::mt19937 rng(12345);
  for (int run = 0; run < 200; ++run) {
    auto p = params(static_cast<uint8_t>(1 + rng() % 255));
    p.preempt = rng() % 2;
    p.preemptDelay = milliseconds(rng() % 3 * 1000);
    Election e(p);
    Actions a;
    e.setOwnFault(rng() % 4 == 0, now(), a);
    e.start(now(), a);
    State prev = e.state();
    for (int i = 0; i < 500; ++i) {
      a.clear();
      clock.advance(milliseconds(rng() % 1500));
      switch (rng() % 8) {
        case 0: e.timers(now(), a); break;
        case 1: e.advert(advert(static_cast<uint8_t>(rng() % 256), rng() % 2 ? "10.0.0.2" : "10.0.0.0"), now(), a); break;
        case 2: e.setPriority(static_cast<uint8_t>(1 + rng() % 255), now(), a); break;
        case 3: e.setOwnFault(rng() % 2, now(), a); break;
        case 4: e.setGroupFault(rng() % 3 == 0, now(), a); break;
        case 5: e.force(rng() % 2 ? State::kMaster : State::kBackup, now(), a); break;
        case 6: if (rng() % 50 == 0) e.stop(now(), rng() % 2, a); break;
        default: e.timers(now(), a); break;
      }
      for (size_t k = 0; k < a.size(); ++k) {
        if (a[k].kind == Kind::kTransition) {
          ASSERT_EQ(a[k].from, prev);
          ASSERT_NE(a[k].from, a[k].to);
          prev = a[k].to;
        }
        if (a[k].kind == Kind::kSendAdvert && a[k].priority == 0) {
          // Priority 0 only on the way out of MASTER.
          ASSERT_EQ(prev, State::kMaster);
          ASSERT_LT(k + 1, a.size());
          ASSERT_EQ(a[k + 1].kind, Kind::kTransition);
        }
      }
      ASSERT_EQ(prev, e.state());
      auto d = e.nextDeadline();
      switch (e.state()) {
        case State::kMaster: ASSERT_TRUE(d.has_value()); break;
        case State::kBackup: ASSERT_TRUE(d.has_value()); break;
        case State::kFault: case State::kStop: ASSERT_FALSE(d.has_value()); break;
        case State::kInit: FAIL() << "INIT after start";
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Sync groups

class ElectorTest : public ElectionTest {
 protected:
  Elector el;
  Actions runAll(Duration until) {
    Actions all;
    TimePoint end = clock.now() + until;
    while (true) {
      auto d = el.nextDeadline();
      if (!d || *d > end) break;
      if (*d > clock.now()) clock.advance(*d - clock.now());
      Actions a = el.timers(clock.now());
      all.insert(all.end(), a.begin(), a.end());
    }
    if (end > clock.now()) clock.advance(end - clock.now());
    return all;
  }
};

TEST_F(ElectorTest, GroupBecomesMasterOnlyWhenEveryMemberIsReady) {
  size_t a = el.add(params(100)), b = el.add(params(100)), c = el.add(params(100));
  el.addSyncGroup({a, b});
  el.start(now());
  // b keeps hearing a master; a alone would take over but must wait.
  for (int i = 0; i < 10; ++i) {
    clock.advance(milliseconds(1000));
    el.advert(b, advert(200), now());
    runAll(milliseconds(0));
  }
  EXPECT_EQ(el.at(a).state(), State::kBackup);
  EXPECT_TRUE(el.at(a).ready());
  EXPECT_EQ(el.at(b).state(), State::kBackup);
  EXPECT_EQ(el.at(c).state(), State::kMaster) << "not in the group";
  // The master of b dies: once b is ready too, both move together.
  Actions moved = runAll(milliseconds(5000));
  EXPECT_EQ(el.at(a).state(), State::kMaster);
  EXPECT_EQ(el.at(b).state(), State::kMaster);
  size_t n = 0;
  for (const auto& x : transitions(moved)) {
    EXPECT_EQ(x.reason, Reason::kMasterDown);
    ++n;
  }
  EXPECT_EQ(n, 2u);
}

TEST_F(ElectorTest, ResumeIsPerInstanceAndTakesItsSyncGroupAlong) {
  size_t a = el.add(params(100)), b = el.add(params(100)), c = el.add(params(100));
  size_t d = el.add(params(100));
  el.addSyncGroup({a, b});
  Actions started = el.start(now(), {true, false, false, true});
  EXPECT_EQ(el.at(a).state(), State::kMaster);
  EXPECT_EQ(el.at(b).state(), State::kMaster) << "its sync group follows";
  EXPECT_EQ(el.at(c).state(), State::kBackup);
  EXPECT_EQ(el.at(d).state(), State::kMaster);
  // a resumes, b with it (one member resuming resumes the group), d alone.
  size_t resumed = 0;
  for (const auto& x : transitions(started)) resumed += x.reason == Reason::kResume;
  EXPECT_EQ(resumed, 3u);
  EXPECT_EQ(transitions(started).size(), 4u);
}

TEST_F(ElectorTest, OneMemberYieldingTakesTheGroupToBackup) {
  auto p = params(255);
  size_t a = el.add(p), b = el.add(p);
  el.addSyncGroup({a, b});
  el.start(now());
  ASSERT_EQ(el.at(a).state(), State::kMaster);
  ASSERT_EQ(el.at(b).state(), State::kMaster);
  el.setPriority(a, 100, now());
  el.setPriority(b, 100, now());
  Actions out = el.advert(a, advert(200), now());
  EXPECT_EQ(el.at(a).state(), State::kBackup);
  EXPECT_EQ(el.at(b).state(), State::kBackup);
  auto t = transitions(out);
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].instance, a);
  EXPECT_EQ(t[0].reason, Reason::kHigherPriority);
  EXPECT_EQ(t[1].instance, b);
  EXPECT_EQ(t[1].reason, Reason::kSyncGroup);
}

TEST_F(ElectorTest, FaultFaultsTheGroupAndClearsWithIt) {
  size_t a = el.add(params(255)), b = el.add(params(255));
  el.addSyncGroup({a, b});
  el.start(now());
  Actions out = el.setFault(b, true, now());
  EXPECT_EQ(el.at(a).state(), State::kFault);
  EXPECT_EQ(el.at(b).state(), State::kFault);
  // Both hand over: two priority-0 adverts.
  size_t zeros = 0;
  for (const auto& x : out) zeros += x.kind == Kind::kSendAdvert && x.priority == 0;
  EXPECT_EQ(zeros, 2u);
  el.setFault(a, true, now());
  el.setFault(b, false, now());
  EXPECT_EQ(el.at(a).state(), State::kFault) << "a's own fault holds";
  EXPECT_EQ(el.at(b).state(), State::kFault) << "held by the group";
  el.setFault(a, false, now());
  EXPECT_EQ(el.at(a).state(), State::kMaster);
  EXPECT_EQ(el.at(b).state(), State::kMaster);
}

TEST_F(ElectorTest, StopStopsEveryInstance) {
  size_t a = el.add(params(255)), b = el.add(params(100));
  el.start(now());
  Actions out = el.stop(now(), true);
  EXPECT_EQ(el.at(a).state(), State::kStop);
  EXPECT_EQ(el.at(b).state(), State::kStop);
  EXPECT_FALSE(el.nextDeadline().has_value());
  EXPECT_EQ(out[0].kind, Kind::kSendAdvert);
  EXPECT_EQ(out[0].instance, a);
}

}  // namespace
}  // namespace lvsd::heartbeat
