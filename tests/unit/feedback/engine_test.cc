#include "feedback/engine.h"

#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

namespace lvsd::feedback {
namespace {

using Kind = WeightUpdate::Kind;

config::Config parse(const std::string& text) {
  config::Config c;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &c)) << text;
  return c;
}

const char* kConfig = R"(
  feedback { policy: PAPER_2 agent_port: 7411 poll_interval_ms: 60000 }
  virtual_service {
    name: "web" address: "192.0.2.10:80" forwarding: TUN
    real_server { address: "10.0.0.1:80" weight: 100 }
    real_server { address: "10.0.0.2:80" weight: 100 agent_port: 9000 }
  }
  virtual_service {
    address: "192.0.2.10:443"
    feedback { policy: ADAPTIVE poll_interval_ms: 10000 min_update_interval_ms: 30000 }
    real_server { address: "10.0.0.1:443" }
  }
)";

agent::AgentReport report(double availKb, double idle = 50) {
  agent::AgentReport r;
  r.set_version(1);
  r.set_state(agent::READY);
  r.set_valid(true);
  r.set_mem_available_kb(availKb);
  r.set_free_kb(availKb / 2);
  r.set_mem_total_kb(1000000);
  r.set_cpu_idle_pct(idle);
  r.set_cpus(1);
  return r;
}

ServiceEngine engineFor(const std::string& text, int index) {
  auto spec = EngineSpec::fromProto(parse(text), index);
  EXPECT_TRUE(spec) << spec.error().message;
  return ServiceEngine(*spec);
}

TEST(EngineSpec, BuildsFromConfig) {
  auto cfg = parse(kConfig);
  auto web = EngineSpec::fromProto(cfg, 0);
  ASSERT_TRUE(web) << web.error().message;
  EXPECT_EQ(web->service, "web");
  EXPECT_EQ(web->key, "tcp/192.0.2.10:80");
  ASSERT_EQ(web->servers.size(), 2u);
  EXPECT_EQ(web->servers[0].agent.toString(), "10.0.0.1:7411");
  EXPECT_EQ(web->servers[1].agent.toString(), "10.0.0.2:9000");  // per-server port
  EXPECT_EQ(web->servers[1].configuredWeight, 100u);
  // The service's own feedback fields override the global ones, the rest inherit.
  auto tls = EngineSpec::fromProto(cfg, 1);
  ASSERT_TRUE(tls);
  EXPECT_EQ(tls->service, "tcp/192.0.2.10:443");
  EXPECT_EQ(tls->feedback.policy(), config::Feedback::ADAPTIVE);
  EXPECT_EQ(tls->feedback.poll_interval_ms(), 10000u);
  EXPECT_EQ(tls->feedback.agent_port(), 7411u);
  EXPECT_FALSE(EngineSpec::fromProto(cfg, 2));
  EXPECT_TRUE(web->sameAs(*EngineSpec::fromProto(cfg, 0)));
  EXPECT_FALSE(web->sameAs(*tls));
}

TEST(EngineSpec, BadAddressIsAnError) {
  auto cfg = parse(R"(virtual_service { address: "192.0.2.10:80" real_server { address: "nope" } })");
  EXPECT_FALSE(EngineSpec::fromProto(cfg, 0));
}

TEST(Engine, NothingChangesWithoutReports) {
  ServiceEngine e = engineFor(kConfig, 0);
  EXPECT_TRUE(e.evaluate().updates.empty());
}

TEST(Engine, PublishesPolicyWeightsOnceWithALogLine) {
  ServiceEngine e = engineFor(kConfig, 0);
  e.report(0, report(117500));
  e.report(1, report(100000));
  auto round = e.evaluate();
  ASSERT_EQ(round.updates.size(), 2u);
  const WeightUpdate& u = round.updates[0];
  EXPECT_EQ(u.kind, Kind::kDynamic);
  EXPECT_EQ(u.weight, 405u);
  EXPECT_EQ(u.service, "web");
  EXPECT_EQ(u.serviceIndex, 0);
  EXPECT_EQ(u.realServerIndex, 0);
  EXPECT_EQ(u.reason, "paper-2");
  EXPECT_EQ(u.line.rfind("service=web rs=10.0.0.1:80 weight 100 -> 405 reason=paper-2 mem=117500 cpu=50.0", 0), 0u)
      << u.line;
  EXPECT_EQ(round.updates[1].weight, 400u);
  // Same loads again: no repeat.
  e.report(0, report(117500));
  e.report(1, report(100000));
  EXPECT_TRUE(e.evaluate().updates.empty());
}

TEST(Engine, MemFreeMetricReadsFree) {
  std::string text = kConfig;
  text.replace(text.find("policy: PAPER_2"), 15, "policy: PAPER_2 memory_metric: MEM_FREE");
  ServiceEngine e = engineFor(text, 0);
  e.report(0, report(2 * 117500));  // free = half of available
  e.report(1, report(2 * 100000));
  auto round = e.evaluate();
  ASSERT_EQ(round.updates.size(), 2u);
  EXPECT_EQ(round.updates[0].weight, 405u);
}

TEST(Engine, DeadAgentFallsBackToConfiguredAfterFall) {
  ServiceEngine e = engineFor(kConfig, 0);  // agent_fall defaults to 2
  e.report(0, report(117500));
  e.report(1, report(100000));
  ASSERT_EQ(e.evaluate().updates.size(), 2u);
  // One failure: the last report still counts.
  e.report(0, report(117500));
  e.failure(1, "connect: Connection refused");
  EXPECT_TRUE(e.evaluate().updates.empty());
  e.report(0, report(117500));
  e.failure(1, "connect: Connection refused");
  auto round = e.evaluate();
  // Server 1 falls back; server 0, alone now, gets the paper-2 weight of
  // a single server (C).
  ASSERT_EQ(round.updates.size(), 2u);
  EXPECT_EQ(round.fallbacks, 1u);
  const WeightUpdate* fb = round.updates[0].realServerIndex == 1 ? &round.updates[0] : &round.updates[1];
  EXPECT_EQ(fb->kind, Kind::kConfigured);
  EXPECT_EQ(fb->weight, 100u);
  EXPECT_EQ(fb->reason, "agent-unreachable: connect: Connection refused");
  EXPECT_NE(fb->line.find("weight 400 -> 100 reason=agent-unreachable"), std::string::npos) << fb->line;
  EXPECT_EQ(e.view(1).kind, "configured");
  EXPECT_EQ(e.view(1).consecutiveFailures, 2u);
  // It comes back.
  e.report(0, report(117500));
  e.report(1, report(100000));
  round = e.evaluate();
  ASSERT_EQ(round.updates.size(), 2u);
  EXPECT_EQ(e.view(1).kind, "dynamic");
}

TEST(Engine, DeadAgentThatIsTheHealthCheckTakesTheServerDown) {
  std::string text = kConfig;
  text.replace(text.find("policy: PAPER_2"), 15, "policy: PAPER_2 agent_is_health_check: true");
  ServiceEngine e = engineFor(text, 0);
  e.failure(0, "timeout");
  EXPECT_TRUE(e.evaluate().updates.empty());
  e.failure(0, "timeout");
  auto round = e.evaluate();
  ASSERT_EQ(round.updates.size(), 1u);
  EXPECT_EQ(round.downs, 1u);
  EXPECT_EQ(round.updates[0].kind, Kind::kDown);
  EXPECT_NE(round.updates[0].line.find("weight 100 -> down reason=agent-unreachable: timeout"),
            std::string::npos);
}

TEST(Engine, AgentStatesDrainAndDown) {
  ServiceEngine e = engineFor(kConfig, 0);
  auto drain = report(100000);
  drain.set_state(agent::DRAIN);
  drain.set_reason("state-file");
  e.report(0, drain);
  auto down = report(100000);
  down.set_state(agent::DOWN);
  e.report(1, down);
  auto round = e.evaluate();
  ASSERT_EQ(round.updates.size(), 2u);
  EXPECT_EQ(round.updates[0].kind, Kind::kDrain);
  EXPECT_EQ(round.updates[0].reason, "agent-drain: state-file");
  EXPECT_EQ(round.updates[1].kind, Kind::kDown);
}

TEST(Engine, WarmingUpAgentMeansConfiguredWeight) {
  ServiceEngine e = engineFor(kConfig, 0);
  auto warm = report(100000);
  warm.set_valid(false);
  e.report(0, warm);
  e.report(1, report(100000));
  auto round = e.evaluate();
  // Server 1 alone: paper-2 gives it C = 2000; server 0 stays configured (no update).
  ASSERT_EQ(round.updates.size(), 1u);
  EXPECT_EQ(round.updates[0].realServerIndex, 1);
  EXPECT_EQ(round.updates[0].weight, 2000u);
}

TEST(Engine, RateLimitHoldsWeightChangesNotFallbacks) {
  // Service 1: adaptive, poll 10 s, at most one change per 30 s = 3 rounds.
  std::string text = kConfig;
  text.replace(text.find("real_server { address: \"10.0.0.1:443\" }"), 39,
               "real_server { address: \"10.0.0.1:443\" } real_server { address: \"10.0.0.2:443\" }");
  ServiceEngine e = engineFor(text, 1);
  auto feed = [&](double a, double b) {
    e.report(0, report(a));
    e.report(1, report(b));
    return e.evaluate();
  };
  auto r1 = feed(200000, 100000);
  ASSERT_EQ(r1.updates.size(), 2u);  // first change: allowed
  auto r2 = feed(200000, 100000);
  EXPECT_TRUE(r2.updates.empty());
  EXPECT_EQ(r2.rateLimited, 1u);
  auto r3 = feed(200000, 100000);
  EXPECT_TRUE(r3.updates.empty());
  auto r4 = feed(200000, 100000);  // 3 rounds later
  EXPECT_EQ(r4.updates.size(), 2u);
  // A dead agent is not rate-limited.
  e.report(0, report(200000));
  e.failure(1, "x");
  e.evaluate();
  e.report(0, report(200000));
  e.failure(1, "x");
  auto r6 = e.evaluate();
  ASSERT_FALSE(r6.updates.empty());
  EXPECT_EQ(r6.fallbacks, 1u);
}

TEST(Engine, ResetAllReturnsToConfigured) {
  ServiceEngine e = engineFor(kConfig, 0);
  e.report(0, report(117500));
  e.report(1, report(100000));
  e.evaluate();
  auto resets = e.resetAll("reload");
  ASSERT_EQ(resets.size(), 2u);
  for (const auto& u : resets) {
    EXPECT_EQ(u.kind, Kind::kConfigured);
    EXPECT_EQ(u.weight, 100u);
    EXPECT_EQ(u.reason, "reload");
  }
  EXPECT_TRUE(e.resetAll("again").empty());
}

TEST(Engine, CurrentStateRepeatsOnlyNonConfigured) {
  ServiceEngine e = engineFor(kConfig, 0);
  EXPECT_TRUE(e.currentState("reload").empty());
  e.report(0, report(117500));
  e.report(1, report(100000));
  auto published = e.evaluate().updates;
  auto again = e.currentState("reload");
  ASSERT_EQ(again.size(), 2u);
  EXPECT_EQ(again[0].weight, published[0].weight);
  EXPECT_EQ(again[0].kind, Kind::kDynamic);
  EXPECT_EQ(again[0].reason, "reload");
  // Nothing changed: the next round publishes nothing.
  e.report(0, report(117500));
  e.report(1, report(100000));
  EXPECT_TRUE(e.evaluate().updates.empty());
}

TEST(Engine, PolicyNoneOnlyTracksAgentStates) {
  ServiceEngine e = engineFor(R"(virtual_service { address: "192.0.2.10:80"
      real_server { address: "10.0.0.1:80" weight: 3 } })", 0);
  e.report(0, report(100000));
  EXPECT_TRUE(e.evaluate().updates.empty());
}

}  // namespace
}  // namespace lvsd::feedback
