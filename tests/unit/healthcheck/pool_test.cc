#include "healthcheck/pool.h"

#include <gtest/gtest.h>

#include <map>

#include "fakes/fake_clock.h"
#include "fakes/pool_text.h"

namespace lvsd::healthcheck {
namespace {

using namespace std::chrono_literals;
using lvsd::testing::FakeClock;

Endpoint ep(const char* s) { return lvsd::testing::endpoint(s); }

PoolSpec spec3(bool inhibit = false) {
  PoolSpec s;
  s.service = "web";
  s.key = "tcp/192.0.2.10:80";
  s.index = 0;
  s.realServers = {{ep("10.0.0.1:80"), 1}, {ep("10.0.0.2:80"), 2}, {ep("10.0.0.3:80"), 3}};
  s.inhibitOnDown = inhibit;
  s.drainTimeout = 300s;
  return s;
}

CheckOutput up(std::optional<uint32_t> w = std::nullopt, bool drain = false) {
  return {Health::kUp, w, drain, "ok"};
}
CheckOutput down() { return {Health::kDown, std::nullopt, false, "http: status 503"}; }

// "ip:port=weight" of each destination, sorry server marked with '!'.
std::string render(const ServicePool& p) { return lvsd::testing::poolText(p); }

struct Fixture {
  FakeClock clock;
  PoolLogic pool;
  std::map<size_t, std::optional<uint64_t>> conns;
  explicit Fixture(PoolSpec s) : pool(std::move(s)) {}
  PoolLogic::Eval eval() {
    return pool.evaluate(clock.now(), [&](size_t rs) -> std::optional<uint64_t> {
      auto it = conns.find(rs);
      return it == conns.end() ? std::nullopt : it->second;
    });
  }
};

TEST(Pool, SpecFromProto) {
  config::VirtualService vs;
  vs.set_name("web");
  vs.set_address("192.0.2.10:80");
  auto* rs = vs.add_real_server();
  rs->set_address("10.0.0.1:8080");
  rs->set_weight(7);
  vs.add_real_server()->set_address("[2001:db8::1]:80");
  vs.set_on_down(config::VirtualService::INHIBIT);
  vs.mutable_sorry_server()->set_address("10.0.0.99:80");
  vs.mutable_quorum()->set_min_weight(5);
  vs.mutable_quorum()->set_hysteresis(2);
  vs.set_drain_timeout_s(30);
  auto s = PoolSpec::fromProto(vs, 4);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->service, "web");
  EXPECT_EQ(s->key, "tcp/192.0.2.10:80");
  EXPECT_EQ(s->index, 4);
  ASSERT_EQ(s->realServers.size(), 2u);
  EXPECT_EQ(s->realServers[0].weight, 7u);
  EXPECT_EQ(s->realServers[1].weight, 1u);  // default
  EXPECT_EQ(s->realServers[1].address.toString(), "[2001:db8::1]:80");
  EXPECT_TRUE(s->inhibitOnDown);
  EXPECT_EQ(s->sorry->toString(), "10.0.0.99:80");
  EXPECT_EQ(s->quorumMin, 5u);
  EXPECT_EQ(s->quorumHysteresis, 2u);
  EXPECT_EQ(s->drainTimeout, 30s);

  config::VirtualService plain;
  plain.set_address("192.0.2.10:80");
  auto p = PoolSpec::fromProto(plain, 0);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->service, "tcp/192.0.2.10:80");  // name defaults to the key
  EXPECT_FALSE(p->inhibitOnDown);
  EXPECT_EQ(p->quorumMin, 1u);
  EXPECT_EQ(p->drainTimeout, 300s);

  plain.add_real_server()->set_address("not-an-address");
  EXPECT_FALSE(PoolSpec::fromProto(plain, 0).ok());
}

TEST(Pool, RemoveOnDownAddsBackWithConfiguredWeight) {
  Fixture f(spec3());
  auto e = f.eval();
  EXPECT_TRUE(e.changed);
  EXPECT_EQ(render(e.pool), "");
  EXPECT_TRUE(e.transitions.empty());  // DOWN at start is not a change
  f.pool.setCheckOutput(0, up());
  f.pool.setCheckOutput(2, up());
  e = f.eval();
  EXPECT_EQ(render(e.pool), "10.0.0.1:80=1 10.0.0.3:80=3");
  EXPECT_EQ(e.pool.upWeight, 4u);
  ASSERT_EQ(e.transitions.size(), 2u);
  EXPECT_EQ(e.transitions[0].to, ServerState::kActive);
  f.pool.setCheckOutput(0, down());
  e = f.eval();
  EXPECT_EQ(render(e.pool), "10.0.0.3:80=3");
  ASSERT_EQ(e.transitions.size(), 1u);
  EXPECT_EQ(e.transitions[0].from, ServerState::kActive);
  EXPECT_EQ(e.transitions[0].to, ServerState::kDown);
  EXPECT_EQ(e.transitions[0].reason, "http: status 503");
  e = f.eval();
  EXPECT_FALSE(e.changed);
  EXPECT_TRUE(e.transitions.empty());
}

TEST(Pool, InhibitKeepsDownServersWithWeightZero) {
  Fixture f(spec3(/*inhibit=*/true));
  auto e = f.eval();
  EXPECT_EQ(render(e.pool), "10.0.0.1:80=0 10.0.0.2:80=0 10.0.0.3:80=0");
  EXPECT_EQ(e.pool.upWeight, 0u);
  f.pool.setCheckOutput(1, up());
  e = f.eval();
  EXPECT_EQ(render(e.pool), "10.0.0.1:80=0 10.0.0.2:80=2 10.0.0.3:80=0");
  f.pool.setCheckOutput(1, down());
  e = f.eval();
  EXPECT_EQ(render(e.pool), "10.0.0.1:80=0 10.0.0.2:80=0 10.0.0.3:80=0");
}

TEST(Pool, WeightPrecedenceOperatorThenCheckThenConfig) {
  Fixture f(spec3());
  f.pool.setCheckOutput(0, up());
  EXPECT_EQ(render(f.eval().pool), "10.0.0.1:80=1");
  f.pool.setCheckOutput(0, up(9));
  EXPECT_EQ(render(f.eval().pool), "10.0.0.1:80=9");
  f.pool.setAdmin(0, {false, 4});
  EXPECT_EQ(render(f.eval().pool), "10.0.0.1:80=4");
  f.pool.setAdmin(0, {false, 0});
  auto e = f.eval();
  EXPECT_EQ(render(e.pool), "10.0.0.1:80=0");  // weight 0 stays in the table
  EXPECT_EQ(e.pool.upWeight, 0u);
  f.pool.setAdmin(0, {});
  EXPECT_EQ(render(f.eval().pool), "10.0.0.1:80=9");
  f.pool.setCheckOutput(0, up());
  EXPECT_EQ(render(f.eval().pool), "10.0.0.1:80=1");
}

// A count read before the drain's weight 0 reached the kernel may predate
// the very connection being drained: the first evaluation never ends a drain,
// even when the counter says 0.
TEST(Pool, ADrainStartsAsDrainingEvenWithZeroConnections) {
  Fixture f(spec3());
  for (size_t i = 0; i < 3; ++i) f.pool.setCheckOutput(i, up());
  f.eval();
  f.pool.setAdmin(1, {true, std::nullopt});
  f.conns[1] = 0;
  auto e = f.eval();
  ASSERT_EQ(e.transitions.size(), 1u);
  EXPECT_EQ(e.transitions[0].to, ServerState::kDraining);
  EXPECT_EQ(render(e.pool), "10.0.0.1:80=1 10.0.0.2:80=0 10.0.0.3:80=3");
  EXPECT_TRUE(e.draining);
  e = f.eval();  // the next poll: the count now follows weight 0
  ASSERT_EQ(e.transitions.size(), 1u);
  EXPECT_EQ(e.transitions[0].to, ServerState::kDrained);
  EXPECT_EQ(e.transitions[0].reason, "no active connections");
  EXPECT_EQ(render(e.pool), "10.0.0.1:80=1 10.0.0.3:80=3");
}

TEST(Pool, DrainEndsWhenConnectionsReachZero) {
  Fixture f(spec3());
  for (size_t i = 0; i < 3; ++i) f.pool.setCheckOutput(i, up());
  f.eval();
  f.pool.setAdmin(1, {true, std::nullopt});
  f.conns[1] = 12;
  auto e = f.eval();
  EXPECT_EQ(render(e.pool), "10.0.0.1:80=1 10.0.0.2:80=0 10.0.0.3:80=3");
  EXPECT_EQ(e.pool.upWeight, 4u);
  EXPECT_TRUE(e.draining);
  ASSERT_TRUE(e.nextDeadline);
  EXPECT_EQ(*e.nextDeadline, f.clock.now() + 300s);
  ASSERT_EQ(e.transitions.size(), 1u);
  EXPECT_EQ(e.transitions[0].to, ServerState::kDraining);
  EXPECT_EQ(e.transitions[0].reason, "operator drain");
  f.clock.advance(10s);
  f.conns[1] = 3;
  e = f.eval();
  EXPECT_FALSE(e.changed);
  f.conns[1] = std::nullopt;  // unknown is not zero
  EXPECT_FALSE(f.eval().changed);
  f.conns[1] = 0;
  e = f.eval();
  EXPECT_TRUE(e.changed);
  EXPECT_EQ(render(e.pool), "10.0.0.1:80=1 10.0.0.3:80=3");
  EXPECT_FALSE(e.draining);
  EXPECT_FALSE(e.nextDeadline);
  ASSERT_EQ(e.transitions.size(), 1u);
  EXPECT_EQ(e.transitions[0].to, ServerState::kDrained);
  EXPECT_EQ(e.transitions[0].reason, "no active connections");
  // Connections coming back do not re-add a drained server.
  f.conns[1] = 5;
  EXPECT_EQ(render(f.eval().pool), "10.0.0.1:80=1 10.0.0.3:80=3");
  // Undrain: back with its weight.
  f.pool.setAdmin(1, {});
  e = f.eval();
  EXPECT_EQ(render(e.pool), "10.0.0.1:80=1 10.0.0.2:80=2 10.0.0.3:80=3");
  ASSERT_EQ(e.transitions.size(), 1u);
  EXPECT_EQ(e.transitions[0].reason, "undrain");
}

TEST(Pool, DrainEndsAtTheDeadline) {
  auto s = spec3();
  s.drainTimeout = 30s;
  Fixture f(s);
  f.pool.setCheckOutput(0, up());
  f.pool.setAdmin(0, {true, std::nullopt});
  f.conns[0] = 100;
  auto e = f.eval();
  EXPECT_EQ(render(e.pool), "10.0.0.1:80=0");
  f.clock.advance(30s - 1ns);
  EXPECT_EQ(render(f.eval().pool), "10.0.0.1:80=0");
  f.clock.advance(1ns);
  e = f.eval();
  EXPECT_EQ(render(e.pool), "");
  ASSERT_EQ(e.transitions.size(), 1u);
  EXPECT_EQ(e.transitions[0].reason, "drain timeout 30s with 100 active");
}

TEST(Pool, WithoutConnectionCountsDrainWaitsForDeadline) {
  Fixture f(spec3());
  f.pool.setCheckOutput(0, up());
  f.pool.setAdmin(0, {true, std::nullopt});
  auto e = f.pool.evaluate(f.clock.now(), nullptr);
  EXPECT_EQ(render(e.pool), "10.0.0.1:80=0");
  f.clock.advance(300s);
  e = f.pool.evaluate(f.clock.now(), nullptr);
  EXPECT_EQ(render(e.pool), "");
  EXPECT_EQ(e.transitions[0].reason, "drain timeout 300s");
}

TEST(Pool, DrainRequestedByCheckBehavesLikeOperatorDrain) {
  Fixture f(spec3());
  f.pool.setCheckOutput(2, up());
  f.eval();
  f.pool.setCheckOutput(2, up(std::nullopt, /*drain=*/true));
  f.conns[2] = 1;
  auto e = f.eval();
  EXPECT_EQ(render(e.pool), "10.0.0.3:80=0");
  EXPECT_EQ(e.transitions[0].reason, "drain requested by check");
  f.pool.setCheckOutput(2, up());
  EXPECT_EQ(render(f.eval().pool), "10.0.0.3:80=3");
}

TEST(Pool, DownWhileDrainingFollowsOnDownAndDeadlineKeepsRunning) {
  auto s = spec3(/*inhibit=*/true);
  s.drainTimeout = 60s;
  Fixture f(s);
  f.pool.setCheckOutput(0, up());
  f.pool.setAdmin(0, {true, std::nullopt});
  f.conns[0] = 4;
  f.eval();
  f.pool.setCheckOutput(0, down());
  auto e = f.eval();
  EXPECT_EQ(e.transitions[0].to, ServerState::kDown);
  EXPECT_EQ(render(e.pool), "10.0.0.1:80=0 10.0.0.2:80=0 10.0.0.3:80=0");
  f.clock.advance(61s);
  f.pool.setCheckOutput(0, up());
  e = f.eval();
  // The drain started before it went down; its deadline has passed.
  EXPECT_EQ(e.transitions[0].to, ServerState::kDrained);
  EXPECT_EQ(render(e.pool), "10.0.0.2:80=0 10.0.0.3:80=0");
}

TEST(Pool, SorryServerWhileNothingIsUp) {
  auto s = spec3();
  s.sorry = ep("10.0.0.99:80");
  s.sorryWeight = 5;
  Fixture f(s);
  auto e = f.eval();
  EXPECT_EQ(render(e.pool), "!10.0.0.99:80=5");
  EXPECT_TRUE(e.pool.sorryActive);
  f.pool.setCheckOutput(1, up());
  e = f.eval();
  EXPECT_EQ(render(e.pool), "10.0.0.2:80=2");
  EXPECT_FALSE(e.pool.sorryActive);
  // Up with weight 0 serves nothing: the sorry server comes back.
  f.pool.setAdmin(1, {false, 0});
  e = f.eval();
  EXPECT_EQ(render(e.pool), "10.0.0.2:80=0 !10.0.0.99:80=5");
  f.pool.setAdmin(1, {});
  f.eval();
  // Draining the last server brings the sorry server.
  f.pool.setAdmin(1, {true, std::nullopt});
  f.conns[1] = 2;
  e = f.eval();
  EXPECT_EQ(render(e.pool), "10.0.0.2:80=0 !10.0.0.99:80=5");
}

TEST(Pool, SorryServerWithInhibit) {
  auto s = spec3(/*inhibit=*/true);
  s.sorry = ep("10.0.0.99:80");
  Fixture f(s);
  EXPECT_EQ(render(f.eval().pool), "10.0.0.1:80=0 10.0.0.2:80=0 10.0.0.3:80=0 !10.0.0.99:80=1");
}

TEST(Pool, QuorumWithHysteresisExhaustive) {
  // Weights 1, 2, 3: every up-set; quorum min 3, hysteresis 2: lost below 3,
  // regained at 5 or more.
  auto s = spec3();
  s.quorumMin = 3;
  s.quorumHysteresis = 2;
  Fixture f(s);
  auto e = f.eval();
  ASSERT_TRUE(e.quorumChange);
  EXPECT_FALSE(*e.quorumChange);  // nothing up at start
  EXPECT_FALSE(e.pool.quorum);
  bool held = false;
  // Walk every transition between up-sets (Gray-code-like sequence of all
  // pairs) and compare against the model.
  for (int from = 0; from < 8; ++from) {
    for (int to = 0; to < 8; ++to) {
      for (int step : {from, to}) {
        for (size_t i = 0; i < 3; ++i) f.pool.setCheckOutput(i, (step >> i) & 1 ? up() : down());
        e = f.eval();
        uint64_t w = ((step & 1) ? 1 : 0) + ((step & 2) ? 2 : 0) + ((step & 4) ? 3 : 0);
        EXPECT_EQ(e.pool.upWeight, w);
        bool expected = held ? w >= 3 : w >= 5;
        EXPECT_EQ(e.pool.quorum, expected) << "from " << from << " to " << to << " w " << w;
        if (expected != held) {
          ASSERT_TRUE(e.quorumChange);
          EXPECT_EQ(*e.quorumChange, expected);
        } else {
          EXPECT_FALSE(e.quorumChange);
        }
        held = expected;
      }
    }
  }
}

TEST(Pool, QuorumInitialVerdictIgnoresHysteresis) {
  auto s = spec3();
  s.quorumMin = 1;
  s.quorumHysteresis = 10;
  Fixture f(s);
  f.pool.setCheckOutput(0, up());
  auto e = f.eval();
  EXPECT_TRUE(e.pool.quorum);
  ASSERT_TRUE(e.quorumChange);
  EXPECT_TRUE(*e.quorumChange);
}

TEST(Pool, RestoredQuorumAndDrainSurviveRebuild) {
  auto s = spec3();
  s.quorumMin = 3;
  s.quorumHysteresis = 3;
  Fixture a(s);
  for (size_t i = 0; i < 3; ++i) a.pool.setCheckOutput(i, up());
  a.pool.setAdmin(2, {true, std::nullopt});
  a.conns[2] = 9;
  a.eval();
  a.pool.setCheckOutput(2, up());
  // A rebuilt pool (reload) with restored state.
  Fixture b(s);
  b.clock = a.clock;
  for (size_t i = 0; i < 3; ++i) {
    b.pool.setCheckOutput(i, a.pool.checkOutput(i));
    b.pool.setAdmin(i, a.pool.admin(i));
    b.pool.restoreDrainProgress(i, a.pool.drainProgress(i));
  }
  b.pool.restoreQuorum(true);
  b.conns[2] = 9;
  b.clock.advance(299s);
  auto e = b.eval();
  EXPECT_EQ(render(e.pool), "10.0.0.1:80=1 10.0.0.2:80=2 10.0.0.3:80=0");
  EXPECT_TRUE(e.pool.quorum);  // up weight 3 keeps a held quorum
  EXPECT_FALSE(e.quorumChange);
  b.clock.advance(1s);  // 300 s after the drain began in the old pool
  EXPECT_EQ(render(b.eval().pool), "10.0.0.1:80=1 10.0.0.2:80=2");
}

TEST(Pool, StateNames) {
  EXPECT_STREQ(serverStateName(ServerState::kActive), "ACTIVE");
  EXPECT_STREQ(serverStateName(ServerState::kDown), "DOWN");
  EXPECT_STREQ(serverStateName(ServerState::kDraining), "DRAINING");
  EXPECT_STREQ(serverStateName(ServerState::kDrained), "DRAINED");
}

}  // namespace
}  // namespace lvsd::healthcheck
