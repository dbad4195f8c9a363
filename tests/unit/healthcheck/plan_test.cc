#include "healthcheck/plan.h"

#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

namespace lvsd::healthcheck {
namespace {

config::Config parse(const std::string& text) {
  config::Config c;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &c)) << text;
  return c;
}

const char* kTwoServices = R"(
  check { name: "web" http { path: "/health" } interval_ms: 1000 }
  check { name: "web-copy" http { path: "/health" } interval_ms: 1000 }
  virtual_service {
    name: "a" address: "192.0.2.10:80" check: "web"
    real_server { address: "10.0.0.1:80" }
    real_server { address: "10.0.0.2:80" }
  }
  virtual_service {
    name: "b" address: "192.0.2.11:80" check: "web-copy"
    real_server { address: "10.0.0.1:80" }
    real_server { address: "10.0.0.3:80" check: "web" inline_check { tcp {} target: ":22" } }
    real_server { address: "10.0.0.4:80" inline_check { ping {} } inline_check { ping {} target: ":7" } }
  }
)";

TEST(Plan, SharesOneCheckPerTargetAndDefinition) {
  auto plan = buildPlan(parse(kTwoServices));
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  // http 10.0.0.1, http 10.0.0.2, http 10.0.0.3, tcp 10.0.0.3:22, ping 10.0.0.4
  ASSERT_EQ(plan->checks.size(), 5u);
  ASSERT_EQ(plan->pools.size(), 2u);
  const auto& a = plan->pools[0];
  const auto& b = plan->pools[1];
  EXPECT_EQ(a.spec.service, "a");
  ASSERT_EQ(a.checks.size(), 2u);
  ASSERT_EQ(b.checks.size(), 3u);
  // 10.0.0.1 in both services, "web" and "web-copy" are the same definition.
  EXPECT_EQ(a.checks[0], b.checks[0]);
  EXPECT_EQ(plan->checks[a.checks[0][0]].name, "web");
  EXPECT_EQ(plan->checks[a.checks[0][0]].target.toString(), "10.0.0.1:80");
  EXPECT_NE(a.checks[0], a.checks[1]);
  // A server's own checks replace the service's.
  ASSERT_EQ(b.checks[1].size(), 2u);
  EXPECT_EQ(plan->checks[b.checks[1][0]].kind, "http");
  EXPECT_EQ(plan->checks[b.checks[1][1]].kind, "tcp");
  EXPECT_EQ(plan->checks[b.checks[1][1]].name, "tcp");
  EXPECT_EQ(plan->checks[b.checks[1][1]].target.toString(), "10.0.0.3:22");
  // Ping has no port: the two pings are one check.
  ASSERT_EQ(b.checks[2].size(), 2u);
  EXPECT_EQ(b.checks[2][0], b.checks[2][1]);
  EXPECT_EQ(plan->checks[b.checks[2][0]].target.toString(), "10.0.0.4:0");
}

TEST(Plan, KeysIgnoreNamesAndExplicitDefaults) {
  auto c1 = parse(R"(
    virtual_service { address: "192.0.2.10:80"
      inline_check { http {} }
      real_server { address: "10.0.0.1:80" } })");
  auto c2 = parse(R"(
    check { name: "x" http { path: "/" max_body_bytes: 65536 } interval_ms: 5000 rise: 2 }
    virtual_service { address: "192.0.2.10:80" check: "x"
      real_server { address: "10.0.0.1:80" weight: 3 } })");
  auto c3 = parse(R"(
    virtual_service { address: "192.0.2.10:80"
      inline_check { http {} rise: 3 }
      real_server { address: "10.0.0.1:80" } })");
  auto p1 = buildPlan(c1), p2 = buildPlan(c2), p3 = buildPlan(c3);
  ASSERT_TRUE(p1.ok() && p2.ok() && p3.ok());
  EXPECT_EQ(p1->checks[0].key, p2->checks[0].key);
  EXPECT_NE(p1->checks[0].key, p3->checks[0].key);
  EXPECT_EQ(p1->checks[0].def.interval_ms(), 5000u);
  EXPECT_TRUE(p1->checks[0].def.has_interval_ms());  // explicit in canonical form
  EXPECT_TRUE(p1->checks[0].def.http().has_path());
  EXPECT_FALSE(p1->checks[0].def.has_https());  // oneof untouched
}

TEST(Plan, FileChecksAreSharedAcrossServers) {
  auto plan = buildPlan(parse(R"(
    virtual_service { address: "192.0.2.10:80"
      inline_check { file { path: "/run/maint" } }
      real_server { address: "10.0.0.1:80" } real_server { address: "10.0.0.2:80" } })"));
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->checks.size(), 1u);
  EXPECT_EQ(plan->checks[0].kind, "file");
}

TEST(Plan, ServersWithoutChecksHaveNone) {
  auto plan = buildPlan(parse(R"(
    virtual_service { address: "192.0.2.10:80" real_server { address: "10.0.0.1:80" } })"));
  ASSERT_TRUE(plan.ok());
  EXPECT_TRUE(plan->checks.empty());
  ASSERT_EQ(plan->pools[0].checks.size(), 1u);
  EXPECT_TRUE(plan->pools[0].checks[0].empty());
}

TEST(Plan, Errors) {
  auto unknown = buildPlan(parse(R"(
    virtual_service { name: "a" address: "192.0.2.10:80" check: "nope"
      real_server { address: "10.0.0.1:80" } })"));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().message, "a real_server 10.0.0.1:80: unknown check 'nope'");
  auto noProbe = buildPlan(parse(R"(
    virtual_service { address: "192.0.2.10:80" inline_check { interval_ms: 1 }
      real_server { address: "10.0.0.1:80" } })"));
  EXPECT_FALSE(noProbe.ok());
  auto badTarget = buildPlan(parse(R"(
    virtual_service { address: "192.0.2.10:80" inline_check { tcp {} target: "x:1" }
      real_server { address: "10.0.0.1:80" } })"));
  EXPECT_FALSE(badTarget.ok());
}

TEST(Plan, ResolveTarget) {
  Endpoint rs = *Endpoint::parse("10.0.0.1:80");
  Endpoint rs6 = *Endpoint::parse("[2001:db8::1]:80");
  EXPECT_EQ(resolveTarget("", rs)->toString(), "10.0.0.1:80");
  EXPECT_EQ(resolveTarget(":8080", rs)->toString(), "10.0.0.1:8080");
  EXPECT_EQ(resolveTarget("10.0.0.9:", rs)->toString(), "10.0.0.9:80");
  EXPECT_EQ(resolveTarget("10.0.0.9:443", rs)->toString(), "10.0.0.9:443");
  EXPECT_EQ(resolveTarget(":81", rs6)->toString(), "[2001:db8::1]:81");
  EXPECT_EQ(resolveTarget("[2001:db8::2]:", rs6)->toString(), "[2001:db8::2]:80");
  EXPECT_EQ(resolveTarget("[2001:db8::2]:9", rs6)->toString(), "[2001:db8::2]:9");
  EXPECT_EQ(resolveTarget("10.0.0.9", rs)->toString(), "10.0.0.9:80");
  EXPECT_EQ(resolveTarget("[2001:db8::2]", rs6)->toString(), "[2001:db8::2]:80");
  EXPECT_EQ(resolveTarget("2001:db8::2", rs6)->toString(), "[2001:db8::2]:80");
  EXPECT_EQ(resolveTarget("::1", rs6)->toString(), "[::1]:80");  // an address, not port 1
  for (const char* bad : {"x:1", ":99999", ":0", "[::1", "[::1]x", "1:2:3", ":x", ":", "[]:", "10.0.0.9:x"})
    EXPECT_FALSE(resolveTarget(bad, rs).ok()) << bad;
}

TEST(Plan, ProbeKinds) {
  config::Check c;
  EXPECT_STREQ(probeKind(c), "none");
  c.mutable_https();
  EXPECT_STREQ(probeKind(c), "https");
  c.mutable_dns();
  EXPECT_STREQ(probeKind(c), "dns");
  c.mutable_exec();
  EXPECT_STREQ(probeKind(c), "exec");
}

TEST(Plan, AdoptedChecksStartUpForAnyAdoptedUser) {
  auto plan = buildPlan(parse(kTwoServices));
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  auto ep = [](const char* s) { return *Endpoint::parse(s); };
  auto names = [&](const std::vector<bool>& up) {
    std::string out;
    for (size_t i = 0; i < up.size(); ++i)
      if (up[i]) out += plan->checks[i].kind + " " + plan->checks[i].target.toString() + ";";
    return out;
  };
  EXPECT_EQ(names(adoptedChecks(*plan, {})), "");
  // 10.0.0.1 is in both services and shares one check: adopted from b alone.
  EXPECT_EQ(names(adoptedChecks(*plan, {{"tcp/192.0.2.11:80", ep("10.0.0.1:80")}})),
            "http 10.0.0.1:80;");
  // Every check of an adopted server starts up (http and the tcp :22 of rs3).
  EXPECT_EQ(names(adoptedChecks(*plan, {{"tcp/192.0.2.11:80", ep("10.0.0.3:80")}})),
            "http 10.0.0.3:80;tcp 10.0.0.3:22;");
  // The same server under another service key, or another port: not adopted.
  EXPECT_EQ(names(adoptedChecks(*plan, {{"tcp/192.0.2.10:80", ep("10.0.0.3:80")},
                                        {"tcp/192.0.2.10:80", ep("10.0.0.2:8080")}})),
            "");
}

}  // namespace
}  // namespace lvsd::healthcheck
