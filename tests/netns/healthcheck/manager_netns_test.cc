// CheckManager end to end: real probes against real servers in a private
// namespace, pools out, operator overrides, reloads.
#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <fstream>
#include <map>

#include "fakes/pool_text.h"
#include "healthcheck/healthcheck.h"
#include "netns_env.h"
#include "test_server.h"

namespace lvsd::healthcheck {
namespace {

using namespace std::chrono_literals;
using lvsd::testing::Reply;
using lvsd::testing::TestServer;

Endpoint ep(const std::string& s) { return lvsd::testing::endpoint(s); }

config::Config parse(const std::string& text) {
  config::Config c;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &c)) << text;
  return c;
}

std::string render(const ServicePool& p) { return lvsd::testing::poolText(p); }

class FakeConnections : public ConnectionCounter {
 public:
  std::optional<uint64_t> activeConnections(const std::string& key, const Endpoint& rs) override {
    ++asked;
    auto it = counts.find(key + " " + rs.toString());
    if (it == counts.end()) return std::nullopt;
    return it->second;
  }
  std::map<std::string, uint64_t> counts;
  int asked = 0;
};

class ManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(lvsd::testing::enterTestNetns(), "");
    port_ = server_.listenHttp("0.0.0.0", 0);
    Callbacks cb;
    cb.onPool = [this](const ServicePool& p) {
      pools_[p.service] = p;
      ++emits_[p.service];
    };
    cb.onQuorum = [this](const std::string& s, bool held) { quorum_[s].push_back(held); };
    Options opt;
    opt.connections = &conns_;
    opt.drainPoll = 20ms;
    opt.seed = 7;
    mgr_ = std::make_unique<CheckManager>(io_, SystemClock::instance(), cb, opt);
  }
  void TearDown() override {
    if (mgr_) mgr_->stop();
  }

  // Runs the loop until `pred` holds; the bound only stops a broken build.
  bool until(const std::function<bool()>& pred) {
    auto limit = std::chrono::steady_clock::now() + 20s;
    while (!pred()) {
      if (std::chrono::steady_clock::now() > limit) return false;
      io_.run_for(5ms);
    }
    return true;
  }

  std::string rs(const char* ip) { return std::string(ip) + ":" + std::to_string(port_); }

  std::string config(const std::string& check = "http { path: \"/\" }", const std::string& extra = "") {
    return R"(
      check { name: "web" )" + check + R"( interval_ms: 30 timeout_ms: 300 rise: 1 fall: 1 jitter_pct: 0 }
      virtual_service { name: "a" address: "192.0.2.10:80" check: "web" drain_timeout_s: 30
        real_server { address: ")" + rs("10.0.0.1") + R"(" weight: 3 }
        real_server { address: ")" + rs("10.0.0.2") + R"(" weight: 2 }
        sorry_server { address: "10.0.0.99:80" }
        quorum { min_weight: 5 hysteresis: 0 } }
      virtual_service { name: "b" address: "192.0.2.11:80" check: "web"
        real_server { address: ")" + rs("10.0.0.1") + R"(" }
        real_server { address: "10.0.0.3:1" } }
    )" + extra;
  }

  TestServer server_;
  uint16_t port_ = 0;
  boost::asio::io_context io_;
  FakeConnections conns_;
  std::unique_ptr<CheckManager> mgr_;
  std::map<std::string, ServicePool> pools_;
  std::map<std::string, int> emits_;
  std::map<std::string, std::vector<bool>> quorum_;
};

TEST_F(ManagerTest, SharedChecksFeedEveryServiceAndSorryAndQuorum) {
  ASSERT_TRUE(mgr_->start(parse(config())).ok());
  // Before any result everything is DOWN: sorry server, quorum lost.
  EXPECT_EQ(render(mgr_->pools()[0]), "!10.0.0.99:80=1");
  ASSERT_TRUE(until([&] {
    return render(pools_["a"]) == rs("10.0.0.1") + "=3 " + rs("10.0.0.2") + "=2" &&
           render(pools_["b"]) == rs("10.0.0.1") + "=1";
  })) << render(pools_["a"]) << " | " << render(pools_["b"]);
  EXPECT_TRUE(pools_["a"].quorum);
  EXPECT_EQ(quorum_["a"], (std::vector<bool>{false, true}));
  // 10.0.0.1 is in both services: one check. 10.0.0.3:1 is refused.
  auto snap = mgr_->snapshot();
  ASSERT_EQ(snap.checks.size(), 3u);
  int shared = 0;
  for (const auto& c : snap.checks) {
    if (c.target == ep(rs("10.0.0.1"))) {
      EXPECT_EQ(c.users, 2u);
      ++shared;
    }
    if (c.target == ep("10.0.0.3:1")) {
      EXPECT_FALSE(c.up);
      EXPECT_EQ(c.lastReason, "connect: Connection refused");
    }
  }
  EXPECT_EQ(shared, 1);
  ASSERT_EQ(snap.services.size(), 2u);
  EXPECT_EQ(snap.services[1].realServers[1].state, "DOWN");
  EXPECT_EQ(snap.services[1].realServers[1].lastCheck, "web: connect: Connection refused");

  // The server starts failing: everything leaves, sorry server in, quorum lost.
  server_.setDefault(Reply::kStatus503);
  ASSERT_TRUE(until([&] { return render(pools_["a"]) == "!10.0.0.99:80=1"; }));
  ASSERT_TRUE(until([&] { return render(pools_["b"]).empty(); }));
  EXPECT_EQ(quorum_["a"], (std::vector<bool>{false, true, false}));
  auto c = mgr_->counters();
  EXPECT_EQ(c.checks, 3u);
  EXPECT_GT(c.attempts, 3u);
  EXPECT_GT(c.failures, 0u);
  EXPECT_GE(c.checkTransitions, 4u);  // two UP, two DOWN
  EXPECT_EQ(c.latency.count, c.attempts);
  EXPECT_EQ(c.quorumChanges, 6u);  // a and b (b: default quorum 1) each lost, regained, lost
}

TEST_F(ManagerTest, DrainUndrainAndWeight) {
  ASSERT_TRUE(mgr_->start(parse(config())).ok());
  ASSERT_TRUE(until([&] { return pools_["b"].upWeight == 1; }));
  conns_.counts["tcp/192.0.2.10:80 " + rs("10.0.0.1")] = 4;
  // Drain 10.0.0.1 everywhere: "a" keeps it at weight 0 while connections
  // last; "b" has no connection count, so it waits for its deadline.
  ASSERT_TRUE(mgr_->drain("", ep(rs("10.0.0.1"))).ok());
  ASSERT_TRUE(until([&] { return render(pools_["a"]) == rs("10.0.0.1") + "=0 " + rs("10.0.0.2") + "=2"; }));
  ASSERT_TRUE(until([&] { return render(pools_["b"]) == rs("10.0.0.1") + "=0"; }));
  conns_.asked = 0;
  ASSERT_TRUE(until([&] { return conns_.asked >= 3; }));  // polled while draining
  conns_.counts["tcp/192.0.2.10:80 " + rs("10.0.0.1")] = 0;
  ASSERT_TRUE(until([&] { return render(pools_["a"]) == rs("10.0.0.2") + "=2"; }));
  auto snap = mgr_->snapshot();
  EXPECT_EQ(snap.services[0].realServers[0].state, "DRAINED");
  EXPECT_TRUE(snap.services[0].realServers[0].adminDrain);
  EXPECT_EQ(snap.services[1].realServers[0].state, "DRAINING");

  ASSERT_TRUE(mgr_->undrain("a", ep(rs("10.0.0.1"))).ok());
  ASSERT_TRUE(until([&] { return render(pools_["a"]) == rs("10.0.0.1") + "=3 " + rs("10.0.0.2") + "=2"; }));
  ASSERT_TRUE(mgr_->setWeight("tcp/192.0.2.10:80", ep(rs("10.0.0.2")), 9).ok());
  ASSERT_TRUE(until([&] { return render(pools_["a"]) == rs("10.0.0.1") + "=3 " + rs("10.0.0.2") + "=9"; }));
  ASSERT_TRUE(mgr_->setWeight("a", ep(rs("10.0.0.2")), std::nullopt).ok());
  ASSERT_TRUE(until([&] { return render(pools_["a"]) == rs("10.0.0.1") + "=3 " + rs("10.0.0.2") + "=2"; }));

  auto bad = mgr_->drain("a", ep("10.9.9.9:80"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "no real server 10.9.9.9:80 in service 'a'");
  EXPECT_FALSE(mgr_->drain("nope", ep(rs("10.0.0.1"))).ok());
  EXPECT_FALSE(mgr_->setWeight("", ep(rs("10.0.0.1")), 70000).ok());
}

TEST_F(ManagerTest, ReloadKeepsUnchangedChecksAndOverrides) {
  ASSERT_TRUE(mgr_->start(parse(config())).ok());
  ASSERT_TRUE(until([&] { return pools_["a"].upWeight == 5; }));
  ASSERT_TRUE(mgr_->setWeight("a", ep(rs("10.0.0.2")), 7).ok());
  ASSERT_TRUE(until([&] { return pools_["a"].upWeight == 10; }));
  auto before = mgr_->snapshot();
  int emitsA = emits_["a"];
  auto transitions = mgr_->counters().checkTransitions;

  // Same checks, service "b" gone, a new server in "a".
  std::string next = R"(
      check { name: "web-renamed" http { path: "/" } interval_ms: 30 timeout_ms: 300 rise: 1 fall: 1 jitter_pct: 0 }
      virtual_service { name: "a" address: "192.0.2.10:80" check: "web-renamed" drain_timeout_s: 30
        real_server { address: ")" + rs("10.0.0.1") + R"(" weight: 3 }
        real_server { address: ")" + rs("10.0.0.2") + R"(" weight: 2 }
        sorry_server { address: "10.0.0.99:80" }
        quorum { min_weight: 5 hysteresis: 0 } }
  )";
  ASSERT_TRUE(mgr_->reload(parse(next)).ok());
  // Unchanged checks kept their state: the pool is complete at once, and it
  // did not change, so nothing was emitted.
  EXPECT_EQ(render(mgr_->pools()[0]), rs("10.0.0.1") + "=3 " + rs("10.0.0.2") + "=7");
  EXPECT_EQ(emits_["a"], emitsA);
  auto after = mgr_->snapshot();
  ASSERT_EQ(after.checks.size(), 2u);
  for (const auto& c : after.checks) {
    EXPECT_TRUE(c.up);
    EXPECT_EQ(c.name, "web-renamed");
    for (const auto& b : before.checks)
      if (b.target == c.target) EXPECT_GE(c.stats.attempts, b.stats.attempts);
  }
  EXPECT_EQ(mgr_->counters().checkTransitions, transitions);
  EXPECT_EQ(after.services[0].realServers[1].adminWeight, 7u);

  // A changed check starts over from its initial state (DOWN).
  std::string changed = next;
  changed.replace(changed.find("rise: 1"), 7, "rise: 2");
  ASSERT_TRUE(mgr_->reload(parse(changed)).ok());
  EXPECT_EQ(render(mgr_->pools()[0]), "!10.0.0.99:80=1");
  ASSERT_TRUE(until([&] { return pools_["a"].upWeight == 10; }));

  // A reload that fails changes nothing.
  auto bad = mgr_->reload(parse(R"(virtual_service { name: "a" address: "192.0.2.10:80" check: "missing"
      real_server { address: "10.0.0.1:80" } })"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("unknown check 'missing'"), std::string::npos);
  EXPECT_EQ(mgr_->snapshot().checks.size(), 2u);
  auto badRegex = mgr_->reload(parse(R"(virtual_service { name: "a" address: "192.0.2.10:80"
      inline_check { http { body_regex: "(" } } real_server { address: "10.0.0.1:80" } })"));
  ASSERT_FALSE(badRegex.ok());
  EXPECT_EQ(mgr_->snapshot().checks.size(), 2u);
  EXPECT_EQ(mgr_->pools()[0].upWeight, 10u);
}

TEST_F(ManagerTest, FileProbeDrainsAndWeights) {
  auto path = std::filesystem::temp_directory_path() / ("lvsd-hc-mgr-" + std::to_string(getpid()));
  std::filesystem::remove(path);
  std::string text = R"(
      virtual_service { name: "f" address: "192.0.2.12:80" drain_timeout_s: 1
        real_server { address: "10.0.0.1:80" weight: 4
          inline_check { file { path: ")" + path.string() + R"(" } interval_ms: 20 jitter_pct: 0 initial: UP } } }
  )";
  ASSERT_TRUE(mgr_->start(parse(text)).ok());
  ASSERT_TRUE(until([&] { return render(pools_["f"]) == "10.0.0.1:80=4"; }));
  std::ofstream(path) << "weight 11\n";
  ASSERT_TRUE(until([&] { return render(pools_["f"]) == "10.0.0.1:80=11"; }));
  std::ofstream(path) << "drain\n";
  ASSERT_TRUE(until([&] { return render(pools_["f"]) == "10.0.0.1:80=0"; }));
  // No connection count for this service: removed at the 1 s deadline.
  ASSERT_TRUE(until([&] { return render(pools_["f"]).empty(); }));
  std::ofstream(path) << "up\n";
  ASSERT_TRUE(until([&] { return render(pools_["f"]) == "10.0.0.1:80=4"; }));
  std::ofstream(path) << "down\n";
  ASSERT_TRUE(until([&] { return render(pools_["f"]).empty(); }));
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace lvsd::healthcheck
