// Two (or three) engines on a simulated network with one fake clock: the
// acceptance scenarios of issue 5, deterministic and fast.
#include "heartbeat/engine.h"

#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <random>

#include "fakes/fake_clock.h"
#include "fakes/fake_packet_io.h"

namespace lvsd::heartbeat {
namespace {

using std::chrono::milliseconds;

IpAddress ip(const char* s) { return IpAddress::parse(s).value(); }

const char* kNativeConfig = R"(
director { name: "a" priority: 150
  address { link: "lan" address: "10.0.0.1" } address { link: "xover" address: "10.9.0.1" } }
director { name: "b" priority: 100
  address { link: "lan" address: "10.0.0.2" } address { link: "xover" address: "10.9.0.2" } }
heartbeat {
  interval_ms: 100
  link { name: "lan" interface: "eth0" }
  link { name: "xover" interface: "eth1" }
  key { id: 1 secret_hex: "00112233445566778899aabbccddeeff" }
}
instance { name: "web" vrid: 10 vip_group: "web" }
vip_group { name: "web" vip { address: "10.0.0.100/24" interface: "eth0" } }
tracker { name: "uplink" weight: 0 interface { name: "eth2" } }
tracker { name: "app" weight: -60 script { argv: "/bin/true" } }
)";

const char* kVrrpConfig = R"(
director { name: "a" priority: 150 address { link: "lan" address: "10.0.0.1" } }
director { name: "b" priority: 100 address { link: "lan" address: "10.0.0.2" } }
heartbeat { protocol: VRRP3 interval_ms: 100 link { name: "lan" interface: "eth0" } }
instance { name: "web" vrid: 10 vip_group: "web" }
vip_group { name: "web" vip { address: "10.0.0.100/24" interface: "eth0" } }
)";

config::Config parse(const std::string& text) {
  config::Config c;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &c));
  return c;
}

class Recorder final : public EngineObserver {
 public:
  void onTransition(const Transition& e, size_t instance) override {
    transitions.push_back(e);
    EXPECT_EQ(instance, 0u);
  }
  void onReassert(const std::string& instance, const std::vector<std::string>& groups) override {
    reasserts.push_back(instance);
    EXPECT_EQ(groups, std::vector<std::string>{"web"});
  }
  void onNotice(bool warning, const std::string& text) override { notices.push_back(text); }
  std::vector<Transition> transitions;
  std::vector<std::string> reasserts;
  std::vector<std::string> notices;
};

struct Wire {
  std::string from;  // director
  size_t link;
  IpAddress src, dst;
  std::vector<uint8_t> bytes;
};

struct Node {
  std::string name;
  testing::FakePacketIo io;
  Recorder rec;
  std::unique_ptr<Engine> engine;
  bool alive = false;
  uint64_t boots = 0;
};

class Sim {
 public:
  explicit Sim(config::Config cfg, std::string digest = "d1") : cfg_(std::move(cfg)), digest_(std::move(digest)) {}

  Node& add(const std::string& name, const std::string& digest = "") {
    nodes_.push_back(std::make_unique<Node>());
    nodes_.back()->name = name;
    start(*nodes_.back(), digest);
    return *nodes_.back();
  }
  void start(Node& n, const std::string& digest = "") {
    auto m = buildModel(cfg_, n.name, digest.empty() ? digest_ : digest);
    ASSERT_TRUE(m.ok()) << m.error().message;
    n.rec = Recorder();
    n.engine = std::make_unique<Engine>(std::move(*m), clock, n.io, n.rec, ++bootSeed_ * 7919 + n.name[0]);
    n.alive = true;
    n.engine->start();
    pump();
  }
  // kill -9: nothing more is sent or received, no goodbye.
  void kill(Node& n) {
    n.alive = false;
    n.io.sent.clear();
  }
  void stop(Node& n) {
    n.engine->stop();
    pump();
    n.alive = false;
  }

  // Runs the network until `d` has passed, event by event.
  void run(Duration d) {
    TimePoint end = clock.now() + d;
    while (true) {
      std::optional<TimePoint> next;
      for (auto& n : nodes_) {
        if (!n->alive) continue;
        auto dl = n->engine->nextDeadline();
        if (dl && (!next || *dl < *next)) next = dl;
      }
      if (!next || *next > end) break;
      if (*next > clock.now()) clock.advance(*next - clock.now());
      for (auto& n : nodes_)
        if (n->alive) {
          auto dl = n->engine->nextDeadline();
          if (dl && *dl <= clock.now()) n->engine->onTimer();
        }
      pump();
    }
    if (end > clock.now()) clock.advance(end - clock.now());
  }

  // Runs until `pred` holds (checked after every event) or `limit` passes.
  bool runUntil(const std::function<bool()>& pred, Duration limit) {
    TimePoint end = clock.now() + limit;
    while (clock.now() < end) {
      if (pred()) return true;
      run(std::min<Duration>(milliseconds(1), end - clock.now()));
    }
    return pred();
  }

  // Delivers everything sent so far (and what that provokes).
  void pump() {
    for (int round = 0; round < 100; ++round) {
      std::vector<Wire> batch;
      for (auto& n : nodes_) {
        for (auto& s : n->io.take()) {
          if (!n->alive) continue;
          const LinkModel& l = n->engine->model().links[s.link];
          batch.push_back({n->name, s.link, l.local, s.dst, std::move(s.bytes)});
        }
      }
      if (batch.empty()) return;
      for (auto& w : batch) {
        if (tap) tap(w);
        if (filter && !filter(w)) continue;
        deliver(w);
      }
    }
    FAIL() << "packet storm";
  }

  void deliver(const Wire& w, int ttl = 255) {
    for (auto& n : nodes_) {
      if (!n->alive || n->name == w.from) continue;
      const auto& m = n->engine->model();
      const LinkModel& l = m.links[w.link];
      bool multicast = w.dst.isMulticast();
      if (!multicast && l.local != w.dst) continue;
      ReceivedPacket p;
      p.link = w.link;
      p.src = w.src;
      p.dst = w.dst;
      p.ttl = m.protocol == Protocol::kNative ? -1 : ttl;
      p.bytes = w.bytes;
      n->engine->onPacket(p);
    }
  }

  State state(Node& n) { return n.engine->snapshot().instances.at(0).state; }
  size_t masters() {
    size_t k = 0;
    for (auto& n : nodes_) k += n->alive && state(*n) == State::kMaster;
    return k;
  }

  testing::FakeClock clock;
  std::function<bool(const Wire&)> filter;  // false = lost
  std::function<void(const Wire&)> tap;     // sees every packet
  std::vector<std::unique_ptr<Node>> nodes_;

 private:
  config::Config cfg_;
  std::string digest_;
  uint64_t bootSeed_ = 0;
};

uint64_t drops(const Node& n, DropReason r) {
  return n.engine->counters().drops[static_cast<size_t>(r)];
}

class NativeEngine : public ::testing::Test {
 protected:
  Sim sim{parse(kNativeConfig)};
};

std::string tracked() {
  std::string cfg = kNativeConfig;
  cfg.replace(cfg.find("vip_group: \"web\" }"), 18, "vip_group: \"web\" track: \"uplink\" track: \"app\" }");
  return cfg;
}

class TrackedEngine : public ::testing::Test {
 protected:
  Sim sim{parse(tracked())};
};

TEST_F(NativeEngine, HigherPriorityBecomesMaster) {
  Node& a = sim.add("a");
  Node& b = sim.add("b");
  sim.run(milliseconds(1000));
  EXPECT_EQ(sim.state(a), State::kMaster);
  EXPECT_EQ(sim.state(b), State::kBackup);
  ASSERT_EQ(a.rec.transitions.size(), 2u);
  EXPECT_EQ(a.rec.transitions[1].line, "instance=web BACKUP -> MASTER reason=master-down-timer prio=150");
  EXPECT_EQ(a.rec.transitions[1].vipGroups, std::vector<std::string>{"web"});
  EXPECT_EQ(b.rec.transitions.size(), 1u) << "b never flapped";
  auto snap = b.engine->snapshot();
  EXPECT_EQ(snap.instances[0].master, "a");
  ASSERT_EQ(snap.peers.size(), 1u);
  EXPECT_EQ(snap.peers[0].name, "a");
  EXPECT_EQ(snap.peers[0].linksUp, (std::vector<std::string>{"lan", "xover"}));
  EXPECT_FALSE(snap.peers[0].configMismatch);
  EXPECT_EQ(a.engine->counters().dropped(), 0u);
  EXPECT_GT(b.engine->counters().received, 0u);
  // Backups send status heartbeats too: a knows b is there.
  EXPECT_EQ(a.engine->snapshot().peers[0].linksUp.size(), 2u);
}

TEST_F(NativeEngine, CrashedMasterIsReplacedWithinMasterDownInterval) {
  Node& a = sim.add("a");
  Node& b = sim.add("b");
  sim.run(milliseconds(1000));
  TimePoint lastAdvert{};
  sim.tap = [&](const Wire& w) { if (w.from == "a") lastAdvert = sim.clock.now(); };
  sim.run(milliseconds(55));
  sim.kill(a);
  ASSERT_TRUE(sim.runUntil([&] { return sim.state(b) == State::kMaster; }, milliseconds(2000)));
  Duration took = sim.clock.now() - lastAdvert;
  // Master_Down_Interval for priority 100 at 100 ms: 300 + 60.9 ms.
  EXPECT_LE(took, masterDownInterval(milliseconds(100), 100, 3) + milliseconds(1));
  EXPECT_GE(took, masterDownInterval(milliseconds(100), 100, 3) - milliseconds(1));
  EXPECT_EQ(b.rec.transitions.back().reason, Reason::kMasterDown);
}

TEST_F(NativeEngine, ReturningMasterPreempts) {
  Node& a = sim.add("a");
  Node& b = sim.add("b");
  sim.run(milliseconds(1000));
  sim.kill(a);
  sim.run(milliseconds(1000));
  ASSERT_EQ(sim.state(b), State::kMaster);
  sim.start(a);
  sim.run(milliseconds(1000));
  EXPECT_EQ(sim.state(a), State::kMaster);
  EXPECT_EQ(sim.state(b), State::kBackup);
  EXPECT_EQ(a.rec.transitions.back().reason, Reason::kPreempt);
  EXPECT_EQ(b.rec.transitions.back().reason, Reason::kHigherPriority);
  EXPECT_EQ(drops(b, DropReason::kReplayed), 0u) << "a new boot id is not a replay";
}

TEST(NativeEngineNoPreempt, ReturningMasterStaysBackup) {
  std::string cfg = kNativeConfig;
  cfg.replace(cfg.find("vip_group: \"web\" }"), 18, "vip_group: \"web\" preempt: false }");
  Sim sim(parse(cfg));
  Node& a = sim.add("a");
  Node& b = sim.add("b");
  sim.run(milliseconds(1000));
  sim.kill(a);
  sim.run(milliseconds(1000));
  sim.start(a);
  sim.run(milliseconds(5000));
  EXPECT_EQ(sim.state(a), State::kBackup);
  EXPECT_EQ(sim.state(b), State::kMaster);
}

TEST_F(NativeEngine, CleanStopHandsOverWithinOneInterval) {
  Node& a = sim.add("a");
  Node& b = sim.add("b");
  sim.run(milliseconds(1030));
  TimePoint stopped = sim.clock.now();
  sim.stop(a);
  EXPECT_EQ(a.rec.transitions.back().to, State::kStop);
  ASSERT_TRUE(sim.runUntil([&] { return sim.state(b) == State::kMaster; }, milliseconds(1000)));
  EXPECT_LT(sim.clock.now() - stopped, milliseconds(100));
  EXPECT_EQ(b.rec.transitions.back().reason, Reason::kMasterReleased);
}

TEST_F(NativeEngine, OneDeadLinkIsNotAFailover) {
  Node& a = sim.add("a");
  Node& b = sim.add("b");
  sim.run(milliseconds(1000));
  size_t ta = a.rec.transitions.size(), tb = b.rec.transitions.size();
  sim.filter = [](const Wire& w) { return w.link != 0; };  // the LAN is cut
  sim.run(milliseconds(10'000));
  EXPECT_EQ(a.rec.transitions.size(), ta);
  EXPECT_EQ(b.rec.transitions.size(), tb);
  auto peers = b.engine->snapshot().peers;
  EXPECT_EQ(peers[0].linksUp, std::vector<std::string>{"xover"});
  sim.filter = [](const Wire& w) { return w.link != 1; };  // now the other one
  sim.run(milliseconds(10'000));
  EXPECT_EQ(a.rec.transitions.size(), ta);
  EXPECT_EQ(b.rec.transitions.size(), tb);
}

TEST_F(NativeEngine, SplitBrainHealsToOneMasterWithinTwoIntervals) {
  Node& a = sim.add("a");
  Node& b = sim.add("b");
  sim.run(milliseconds(1000));
  sim.filter = [](const Wire&) { return false; };
  sim.run(milliseconds(2000));
  ASSERT_EQ(sim.masters(), 2u);
  sim.filter = nullptr;
  TimePoint healed = sim.clock.now();
  ASSERT_TRUE(sim.runUntil([&] { return sim.masters() == 1; }, milliseconds(1000)));
  EXPECT_LE(sim.clock.now() - healed, milliseconds(200));
  EXPECT_EQ(sim.state(a), State::kMaster);
  sim.run(milliseconds(2000));
  EXPECT_EQ(sim.masters(), 1u) << "and it stays converged";
  EXPECT_EQ(sim.state(b), State::kBackup);
}

TEST_F(NativeEngine, SplitBrainHealsEvenWhenTheLowerMasterSpeaksFirst) {
  Node& a = sim.add("a");
  Node& b = sim.add("b");
  sim.filter = [](const Wire&) { return false; };
  sim.run(milliseconds(2000));
  ASSERT_EQ(sim.masters(), 2u);
  // Let only b's packets through first: a hears a lower master and
  // re-asserts at once (advert + announce).
  sim.filter = [](const Wire& w) { return w.from == "b"; };
  sim.run(milliseconds(100));
  EXPECT_FALSE(a.rec.reasserts.empty());
  sim.filter = nullptr;
  ASSERT_TRUE(sim.runUntil([&] { return sim.masters() == 1; }, milliseconds(200)));
  EXPECT_EQ(sim.state(a), State::kMaster);
  EXPECT_EQ(sim.state(b), State::kBackup);
}

TEST_F(NativeEngine, SplitBrainWinnerReannouncesEvenIfTheLoserYieldsFirst) {
  Node& a = sim.add("a");
  Node& b = sim.add("b");
  sim.run(milliseconds(1000));
  sim.filter = [](const Wire&) { return false; };
  sim.run(milliseconds(2000));
  ASSERT_EQ(sim.masters(), 2u);
  size_t before = a.rec.reasserts.size();
  // Only a's packets get through at first: b yields without a ever hearing
  // b as MASTER. b's VIP announcements were the clients' last word.
  sim.filter = [](const Wire& w) { return w.from == "a"; };
  ASSERT_TRUE(sim.runUntil([&] { return sim.state(b) == State::kBackup; }, milliseconds(200)));
  EXPECT_EQ(a.rec.reasserts.size(), before);
  sim.filter = nullptr;
  sim.run(milliseconds(200));  // b's status heartbeat reaches a
  EXPECT_EQ(a.rec.reasserts.size(), before + 1) << "a announces its VIPs again";
  EXPECT_EQ(sim.state(a), State::kMaster);
}

TEST_F(NativeEngine, OperatorFailoverHandsOverAtOnceAndExpires) {
  Node& a = sim.add("a");
  Node& b = sim.add("b");
  sim.run(milliseconds(1000));
  TimePoint asked = sim.clock.now();
  a.engine->failover(0, sim.clock.now() + milliseconds(2000));
  sim.pump();
  EXPECT_EQ(sim.state(a), State::kBackup);
  EXPECT_EQ(a.rec.transitions.back().reason, Reason::kOperator);
  EXPECT_EQ(a.engine->snapshot().instances[0].effectivePriority, 1);
  ASSERT_TRUE(sim.runUntil([&] { return sim.state(b) == State::kMaster; }, milliseconds(500)));
  EXPECT_LT(sim.clock.now() - asked, milliseconds(100)) << "priority 0: skew time, not master-down";
  sim.run(milliseconds(1500));
  EXPECT_EQ(sim.state(b), State::kMaster) << "a does not preempt while it holds priority 1";
  // The override expires: a preempts again.
  ASSERT_TRUE(sim.runUntil([&] { return sim.state(a) == State::kMaster; }, milliseconds(2000)));
  EXPECT_EQ(a.engine->snapshot().instances[0].effectivePriority, 150);
}

TEST_F(NativeEngine, OperatorFailoverWithoutDurationLastsUntilCleared) {
  Node& a = sim.add("a");
  Node& b = sim.add("b");
  sim.run(milliseconds(1000));
  a.engine->failover(0, std::nullopt);
  sim.run(milliseconds(5000));
  EXPECT_EQ(sim.state(b), State::kMaster);
  a.engine->clearFailover(0);
  ASSERT_TRUE(sim.runUntil([&] { return sim.state(a) == State::kMaster; }, milliseconds(2000)));
}

TEST_F(NativeEngine, ForgedReplayedAndGarbagePacketsChangeNothing) {
  Node& a = sim.add("a");
  Node& b = sim.add("b");
  std::vector<Wire> captured;
  sim.tap = [&](const Wire& w) { if (w.from == "a" && captured.size() < 200) captured.push_back(w); };
  sim.run(milliseconds(1000));
  sim.tap = nullptr;
  ASSERT_FALSE(captured.empty());
  size_t ta = a.rec.transitions.size(), tb = b.rec.transitions.size();

  // A forger that knows the format but not the key claims priority 255 as a.
  config::Config forged = parse(kNativeConfig);
  forged.mutable_heartbeat()->mutable_key(0)->set_secret_hex("ffeeddccbbaa99887766554433221100");
  auto fm = buildModel(forged, "a", "d1");
  ASSERT_TRUE(fm.ok());
  std::mt19937 rng(5);
  for (int burst = 0; burst < 50; ++burst) {
    for (auto& n : {&a, &b}) {
      for (size_t l = 0; l < 2; ++l) {
        const auto& m = n->engine->model();
        IpAddress peerAddr = m.links[l].peers[0].address;
        std::string who = n->name == "a" ? "b" : "a";
        wire::Heartbeat hb;
        hb.set_version(1);
        hb.set_director(who);
        hb.set_boot_id(1);
        hb.set_sequence(1'000'000 + burst);
        hb.set_sent_unix_ms(std::chrono::duration_cast<milliseconds>(sim.clock.wallNow().time_since_epoch()).count());
        hb.set_link(m.links[l].name);
        auto* ia = hb.add_instance();
        ia->set_name("web");
        ia->set_vrid(10);
        ia->set_priority(255);
        ia->set_state(wire::MASTER);
        ia->set_interval_ms(100);
        std::string f = sealFrame(fm->keys, hb);
        sim.deliver({who, l, peerAddr, m.links[l].local, {f.begin(), f.end()}});
        // Replays of a's genuine frames (captured a second ago).
        const Wire& old = captured[rng() % captured.size()];
        sim.deliver(old);
        // Garbage and truncations of genuine frames.
        std::vector<uint8_t> junk(rng() % 300);
        for (auto& x : junk) x = static_cast<uint8_t>(rng());
        sim.deliver({who, l, peerAddr, m.links[l].local, junk});
        std::vector<uint8_t> cut(old.bytes.begin(), old.bytes.begin() + rng() % old.bytes.size());
        sim.deliver({who, l, old.src, old.dst, cut});
        // A genuine frame from the wrong address.
        sim.deliver({"x", old.link, ip("10.0.0.66"), old.dst, old.bytes});
      }
    }
    sim.run(milliseconds(20));
  }
  EXPECT_EQ(a.rec.transitions.size(), ta);
  EXPECT_EQ(b.rec.transitions.size(), tb);
  EXPECT_EQ(sim.state(a), State::kMaster);
  EXPECT_GT(drops(b, DropReason::kBadMac), 0u);
  EXPECT_GT(drops(b, DropReason::kReplayed), 0u);
  EXPECT_GT(drops(b, DropReason::kWrongSource), 0u);
  EXPECT_GT(drops(b, DropReason::kMalformed) + drops(b, DropReason::kTruncated) +
                drops(b, DropReason::kUnknownKey), 0u);
  EXPECT_GT(drops(a, DropReason::kBadMac), 0u);

  // Replaying a dead master's frames cannot keep it alive.
  sim.kill(a);
  TimePoint died = sim.clock.now();
  while (sim.state(b) == State::kBackup && sim.clock.now() - died < milliseconds(2000)) {
    for (int k = 0; k < 5; ++k) sim.deliver(captured[rng() % captured.size()]);
    sim.run(milliseconds(5));
  }
  EXPECT_EQ(sim.state(b), State::kMaster);
  EXPECT_LE(sim.clock.now() - died, milliseconds(400));
}

TEST_F(NativeEngine, ALateLoopDoesNotDeclareAStalledMasterDead) {
  Node& a = sim.add("a");
  Node& b = sim.add("b");
  sim.run(milliseconds(1000));
  // Both hosts stall for 500 ms (a VM pause), longer than b's 361 ms
  // master-down interval: nothing is sent or handled meanwhile.
  sim.clock.advance(milliseconds(500));
  // b's loop wakes first, late, before a has sent anything.
  b.engine->onTimer(milliseconds(150));
  EXPECT_EQ(sim.state(b), State::kBackup);
  EXPECT_EQ(b.engine->counters().stallGraces, 1u);
  EXPECT_EQ(b.rec.notices.size(), 1u);
  sim.run(milliseconds(1000));  // a resumes advertising
  EXPECT_EQ(sim.state(a), State::kMaster);
  EXPECT_EQ(sim.state(b), State::kBackup);
  EXPECT_EQ(b.rec.transitions.size(), 1u);
}

TEST_F(NativeEngine, StaleFramesAreDropped) {
  Node& a = sim.add("a");
  Node& b = sim.add("b");
  std::vector<Wire> captured;
  sim.tap = [&](const Wire& w) { if (w.from == "a") captured.push_back(w); };
  sim.run(milliseconds(300));
  sim.tap = nullptr;
  sim.kill(a);
  sim.run(milliseconds(6000));  // past the 5 s replay window
  uint64_t before = drops(b, DropReason::kStale);
  // A fresh boot of b would not know a's sequence numbers: only time protects.
  sim.kill(b);
  sim.start(b);
  for (const auto& w : captured) sim.deliver(w);
  EXPECT_EQ(drops(b, DropReason::kStale), before + captured.size());
}

TEST_F(TrackedEngine, FaultTrackerHandsOverAtOnceAndRecovers) {
  Node& a = sim.add("a");
  Node& b = sim.add("b");
  for (auto* n : {&a, &b}) {
    n->engine->setTracker(0, {true, true, 0});
    n->engine->setTracker(1, {true, true, 0});
  }
  sim.run(milliseconds(1000));
  ASSERT_EQ(sim.state(a), State::kMaster);
  TimePoint failed = sim.clock.now();
  a.engine->setTracker(0, {true, false, 0});  // uplink down
  sim.pump();
  EXPECT_EQ(sim.state(a), State::kFault);
  EXPECT_EQ(a.rec.transitions.back().reason, Reason::kTrackerFault);
  ASSERT_TRUE(sim.runUntil([&] { return sim.state(b) == State::kMaster; }, milliseconds(1000)));
  EXPECT_LT(sim.clock.now() - failed, milliseconds(100)) << "priority 0, not master-down";
  a.engine->setTracker(0, {true, true, 0});
  sim.pump();
  EXPECT_EQ(sim.state(a), State::kBackup);
  EXPECT_EQ(a.rec.transitions.back().reason, Reason::kFaultCleared);
  ASSERT_TRUE(sim.runUntil([&] { return sim.state(a) == State::kMaster; }, milliseconds(1000)));
  EXPECT_EQ(sim.state(b), State::kBackup);
}

TEST_F(TrackedEngine, WeightedTrackerLowersPriorityAndTheBackupPreempts) {
  Node& a = sim.add("a");
  Node& b = sim.add("b");
  for (auto* n : {&a, &b}) {
    n->engine->setTracker(0, {true, true, 0});
    n->engine->setTracker(1, {true, true, 0});
  }
  sim.run(milliseconds(1000));
  a.engine->setTracker(1, {true, false, 0});  // 150 - 60 = 90 < 100
  sim.pump();
  EXPECT_EQ(a.engine->snapshot().instances[0].effectivePriority, 90);
  ASSERT_TRUE(sim.runUntil([&] { return sim.state(b) == State::kMaster; }, milliseconds(1000)));
  sim.run(milliseconds(10));
  EXPECT_EQ(sim.state(a), State::kBackup);
  EXPECT_EQ(b.rec.transitions.back().reason, Reason::kPreempt);
}

TEST_F(TrackedEngine, UnknownTrackerStateAtStartIsAFault) {
  Node& a = sim.add("a");  // tracker 0 (weight 0) has no result yet
  EXPECT_EQ(sim.state(a), State::kFault);
  a.engine->setTracker(0, {true, true, 0});
  EXPECT_EQ(sim.state(a), State::kBackup);
}

TEST(NativeEngineDigest, MismatchIsReportedOnce) {
  Sim sim(parse(kNativeConfig));
  Node& a = sim.add("a", "digest-one-aaaaaaaa");
  Node& b = sim.add("b", "digest-two-bbbbbbbb");
  sim.run(milliseconds(1000));
  ASSERT_EQ(b.rec.notices.size(), 1u);
  EXPECT_NE(b.rec.notices[0].find("config digest"), std::string::npos);
  EXPECT_TRUE(b.engine->snapshot().peers[0].configMismatch);
  EXPECT_EQ(a.rec.notices.size(), 1u);
}

TEST_F(NativeEngine, SendFailuresAreCounted) {
  Node& a = sim.add("a");
  uint64_t sent = a.engine->counters().sent;
  a.io.fail = true;
  sim.run(milliseconds(500));
  EXPECT_GT(a.engine->counters().sendErrors, 0u);
  EXPECT_EQ(a.engine->counters().sent, sent);
}

TEST(ModelTest, NativeWithoutPeersIsRefused) {
  config::Config c = parse(R"(
director { name: "a" address { link: "lan" address: "10.0.0.1" } }
heartbeat { link { name: "lan" interface: "eth0" } key { id: 1 secret_hex: "00112233445566778899aabbccddeeff" } }
)");
  auto m = buildModel(c, "a", "d");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("no multicast fallback"), std::string::npos);
  EXPECT_FALSE(buildModel(c, "zz", "d").ok());
}

TEST(ModelTest, ResolvesPrioritiesIntervalsAndSyncGroupTrackers) {
  config::Config c = parse(std::string(kNativeConfig) + R"(
instance { name: "db" vrid: 11 interval_ms: 50 priority { director: "a" value: 20 } track: "app" link: "xover" }
instance { name: "dns" vrid: 12 track: "uplink" }
sync_group { name: "g" instance: "db" instance: "dns" }
)");
  auto m = buildModel(c, "a", "d");
  ASSERT_TRUE(m.ok()) << m.error().message;
  const auto& db = m->instances[*m->instanceByName("db")];
  EXPECT_EQ(db.priority, 20);
  EXPECT_EQ(db.interval, milliseconds(50));
  EXPECT_EQ(db.links, std::vector<size_t>{1});
  EXPECT_EQ(db.trackers.size(), 2u) << "shares dns's tracker";
  EXPECT_EQ(m->instances[0].priority, 150);
  EXPECT_EQ(m->instances[0].interval, milliseconds(100));
  EXPECT_EQ(m->instances[0].links, (std::vector<size_t>{0, 1}));
  EXPECT_EQ(m->links[1].peers.at(0).address, ip("10.9.0.2"));
  EXPECT_EQ(m->syncGroups.size(), 1u);
}

// ---------------------------------------------------------------------------
// VRRPv3

class VrrpEngine : public ::testing::Test {
 protected:
  Sim sim{parse(kVrrpConfig)};
};

TEST_F(VrrpEngine, ElectsAndFailsOver) {
  Node& a = sim.add("a");
  Node& b = sim.add("b");
  sim.run(milliseconds(1000));
  EXPECT_EQ(sim.state(a), State::kMaster);
  EXPECT_EQ(sim.state(b), State::kBackup);
  EXPECT_TRUE(b.io.sent.empty()) << "VRRP backups are silent";
  EXPECT_EQ(b.engine->snapshot().instances[0].master, "a");
  sim.kill(a);
  ASSERT_TRUE(sim.runUntil([&] { return sim.state(b) == State::kMaster; }, milliseconds(1000)));
  sim.start(a);
  sim.run(milliseconds(1000));
  EXPECT_EQ(sim.state(a), State::kMaster);
  EXPECT_EQ(sim.state(b), State::kBackup);
}

TEST_F(VrrpEngine, SendsToTheGroupWithTheVipList) {
  Node& a = sim.add("a");
  std::vector<Wire> seen;
  sim.tap = [&](const Wire& w) { seen.push_back(w); };
  sim.run(milliseconds(1000));
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen[0].dst, ip("224.0.0.18"));
  auto d = decodeVrrp(seen[0].bytes, VrrpVersion::kV3, Family::kV4, ip("10.0.0.1"), ip("224.0.0.18"));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d.value.vrid, 10);
  EXPECT_EQ(d.value.priority, 150);
  EXPECT_EQ(d.value.interval, milliseconds(100));
  EXPECT_EQ(d.value.addresses, std::vector<IpAddress>{ip("10.0.0.100")});
  (void)a;
}

TEST_F(VrrpEngine, ChecksTtlDestinationAndVrid) {
  Node& a = sim.add("a");
  Node& b = sim.add("b");
  std::vector<Wire> seen;
  sim.tap = [&](const Wire& w) { if (w.from == "a") seen.push_back(w); };
  sim.run(milliseconds(1000));
  ASSERT_FALSE(seen.empty());
  Wire w = seen.back();
  sim.deliver(w, 254);
  EXPECT_EQ(drops(b, DropReason::kBadTtl), 1u);
  Wire uni = w;
  uni.dst = ip("10.0.0.2");
  sim.deliver(uni);
  EXPECT_EQ(drops(b, DropReason::kWrongDestination) + drops(b, DropReason::kBadChecksum), 1u);
  VrrpAdvert other;
  other.vrid = 99;
  other.priority = 200;
  other.interval = milliseconds(100);
  auto bytes = encodeVrrp(other, Family::kV4, ip("10.0.0.7"), ip("224.0.0.18")).value();
  sim.deliver({"x", 0, ip("10.0.0.7"), ip("224.0.0.18"), bytes});
  EXPECT_EQ(drops(b, DropReason::kUnknownInstance), 1u);
  // A third router with a different VIP list still takes part, with a warning.
  other.vrid = 10;
  other.addresses = {ip("10.0.0.200")};
  bytes = encodeVrrp(other, Family::kV4, ip("10.0.0.7"), ip("224.0.0.18")).value();
  sim.deliver({"x", 0, ip("10.0.0.7"), ip("224.0.0.18"), bytes});
  EXPECT_EQ(sim.state(a), State::kBackup) << "priority 200 beats 150";
  EXPECT_EQ(a.engine->counters().addressListMismatch, 1u);
  EXPECT_EQ(a.rec.notices.size(), 1u);
}

// What an AF_INET raw socket hands over: the whole IP packet.
TEST_F(VrrpEngine, AcceptsRawIpv4PacketsAndChecksTheirHeader) {
  Node& b = sim.add("b");
  VrrpAdvert adv;
  adv.vrid = 10;
  adv.priority = 200;
  adv.interval = milliseconds(100);
  adv.addresses = {ip("10.0.0.100")};
  auto msg = encodeVrrp(adv, Family::kV4, ip("10.0.0.1"), ip("224.0.0.18")).value();
  std::vector<uint8_t> pkt = {0x45, 0xc0, 0, static_cast<uint8_t>(20 + msg.size()), 0, 1, 0, 0,
                              255,  112,  0, 0, 10, 0, 0, 1, 224, 0, 0, 18};
  pkt.insert(pkt.end(), msg.begin(), msg.end());
  auto deliver = [&](const std::vector<uint8_t>& bytes) {
    ReceivedPacket p;
    p.link = 0;
    p.bytes = bytes;
    p.ipv4Header = true;
    b.engine->onPacket(p);
  };
  deliver(pkt);
  EXPECT_EQ(b.engine->counters().received, 1u);
  EXPECT_EQ(b.engine->snapshot().instances[0].master, "a");
  auto ttl = pkt;
  ttl[8] = 64;
  deliver(ttl);
  EXPECT_EQ(drops(b, DropReason::kBadTtl), 1u);
  auto proto = pkt;
  proto[9] = 17;
  deliver(proto);
  EXPECT_EQ(drops(b, DropReason::kMalformed), 1u);
  deliver({pkt.begin(), pkt.begin() + 10});
  EXPECT_EQ(drops(b, DropReason::kTruncated), 1u);
  auto frag = pkt;
  frag[6] = 0x20;
  deliver(frag);
  EXPECT_EQ(drops(b, DropReason::kFragment), 1u);
}

TEST(VrrpUnicast, SendsToPeersAndChecksSources) {
  std::string cfg = kVrrpConfig;
  cfg.replace(cfg.find("interval_ms: 100"), 16, "interval_ms: 100 vrrp_unicast: true");
  Sim sim(parse(cfg));
  Node& a = sim.add("a");
  Node& b = sim.add("b");
  std::vector<Wire> seen;
  sim.tap = [&](const Wire& w) { seen.push_back(w); };
  sim.run(milliseconds(1000));
  EXPECT_EQ(sim.state(a), State::kMaster);
  EXPECT_EQ(sim.state(b), State::kBackup);
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen[0].dst, ip("10.0.0.2"));
  Wire spoof = seen[0];
  spoof.src = ip("10.0.0.9");
  VrrpAdvert x;
  x.vrid = 10;
  x.priority = 250;
  x.interval = milliseconds(100);
  spoof.bytes = encodeVrrp(x, Family::kV4, spoof.src, spoof.dst).value();
  sim.deliver(spoof);
  EXPECT_EQ(drops(b, DropReason::kWrongSource), 1u);
}

}  // namespace
}  // namespace lvsd::heartbeat
