// config::diff(old, new): what a reload must apply, by key.
#include "config/diff.h"

#include <gtest/gtest.h>

#include "config_test_util.h"

namespace lvsd::config {

void PrintTo(const Change& c, std::ostream* os) {
  *os << (c.kind == ChangeKind::kAdded     ? "+"
          : c.kind == ChangeKind::kRemoved ? "-"
                                           : "~")
      << " " << (c.parent.empty() ? "" : c.parent + " ") << c.key;
}

namespace {

using namespace testing;

Config parsed(const std::string& text) {
  auto r = load(text);
  EXPECT_TRUE(r.ok()) << dump(r);
  return r.ok() ? r.config->proto : Config();
}

ConfigDiff diffOf(const std::string& before, const std::string& after) {
  return diff(parsed(before), parsed(after));
}

TEST(Diff, IdenticalConfigsHaveNoDifference) {
  auto d = diffOf(kBase, kBase);
  EXPECT_TRUE(d.empty()) << d.toString();
  EXPECT_EQ(d.toString(), "");
}

TEST(Diff, CommentsAndOrderAreNoDifference) {
  std::string reordered = "# comment\n" + edit(kBase, "  name: \"lvs1\"\n  priority: 150\n",
                                               "  priority: 150\n  name: \"lvs1\"\n");
  EXPECT_TRUE(diffOf(kBase, reordered).empty());
}

TEST(Diff, ExplicitDefaultEqualsUnset) {
  auto d = diffOf(kBase, base("weight: 5 }", "weight: 5 upper_threshold: 0 }"));
  EXPECT_TRUE(d.empty()) << d.toString();
}

TEST(Diff, RealServerWeightChangeTouchesOnlyThatServer) {
  auto d = diffOf(kBase, base("weight: 10", "weight: 20"));
  EXPECT_TRUE(d.services.empty());
  ASSERT_EQ(d.realServers.size(), 1u);
  EXPECT_EQ(d.realServers[0],
            (Change{ChangeKind::kChanged, "192.0.2.102:80", "tcp/192.0.2.10:80"}));
  EXPECT_EQ(d.toString(), "~ real_server tcp/192.0.2.10:80 192.0.2.102:80\n");
}

TEST(Diff, RealServersAddedAndRemoved) {
  std::string after = base("  real_server { address: \"192.0.2.101:80\" weight: 5 }\n",
                           "  real_server { address: \"192.0.2.103:80\" weight: 5 }\n");
  auto d = diffOf(kBase, after);
  ASSERT_EQ(d.realServers.size(), 2u) << d.toString();
  EXPECT_EQ(d.realServers[0],
            (Change{ChangeKind::kRemoved, "192.0.2.101:80", "tcp/192.0.2.10:80"}));
  EXPECT_EQ(d.realServers[1], (Change{ChangeKind::kAdded, "192.0.2.103:80", "tcp/192.0.2.10:80"}));
  EXPECT_TRUE(d.services.empty());
}

TEST(Diff, ServiceAttributeChange) {
  auto d = diffOf(kBase, base("\"wrr\"", "\"wlc\""));
  ASSERT_EQ(d.services.size(), 1u);
  EXPECT_EQ(d.services[0], (Change{ChangeKind::kChanged, "tcp/192.0.2.10:80", ""}));
  EXPECT_TRUE(d.realServers.empty());
}

TEST(Diff, ServicesKeyedByKeyNotName) {
  // A new address is a new service (remove + add); its real servers come with it.
  auto d = diffOf(kBase, base("\"192.0.2.10:80\"", "\"192.0.2.11:80\""));
  ASSERT_EQ(d.services.size(), 2u) << d.toString();
  EXPECT_EQ(d.services[0], (Change{ChangeKind::kRemoved, "tcp/192.0.2.10:80", ""}));
  EXPECT_EQ(d.services[1], (Change{ChangeKind::kAdded, "tcp/192.0.2.11:80", ""}));
  EXPECT_TRUE(d.realServers.empty());
  // The same address spelled differently is the same service.
  EXPECT_TRUE(diffOf(kBase, base("\"192.0.2.10:80\"", "\"192.0.2.10:080\"")).services.size() == 1u)
      << "address text differs, key does not: a changed attribute, not remove+add";
}

TEST(Diff, NamedItems) {
  std::string after = withExtra(
      "director { name: \"lvs3\" address { link: \"lan\" address: \"192.0.2.4\" } }\n"
      "instance { name: \"VI_2\" vrid: 52 }\n"
      "check { name: \"tcp\" tcp {} }\n"
      "tracker { name: \"up\" interface { name: \"eth1\" } }\n"
      "vip_group { name: \"api\" vip { address: \"192.0.2.20\" interface: \"eth0\" } }\n");
  after = edit(after, "  http { path: \"/\" }\n", "  http { path: \"/health\" }\n");
  after = edit(after, "priority: 150", "priority: 200");
  auto d = diffOf(kBase, after);
  EXPECT_EQ(d.directors, (std::vector<Change>{{ChangeKind::kChanged, "lvs1", ""},
                                              {ChangeKind::kAdded, "lvs3", ""}}));
  EXPECT_EQ(d.instances, (std::vector<Change>{{ChangeKind::kAdded, "VI_2", ""}}));
  EXPECT_EQ(d.checks, (std::vector<Change>{{ChangeKind::kChanged, "http", ""},
                                           {ChangeKind::kAdded, "tcp", ""}}));
  EXPECT_EQ(d.trackers, (std::vector<Change>{{ChangeKind::kAdded, "up", ""}}));
  EXPECT_EQ(d.vipGroups, (std::vector<Change>{{ChangeKind::kAdded, "api", ""}}));
  EXPECT_FALSE(d.heartbeat);
  // And back: everything added is removed.
  auto back = diffOf(after, kBase);
  // Removals first (in the old order), then additions and changes.
  EXPECT_EQ(back.directors, (std::vector<Change>{{ChangeKind::kRemoved, "lvs3", ""},
                                                 {ChangeKind::kChanged, "lvs1", ""}}));
  EXPECT_EQ(back.vipGroups, (std::vector<Change>{{ChangeKind::kRemoved, "api", ""}}));
}

TEST(Diff, SingletonSections) {
  auto d = diffOf(
      kBase, withExtra("metrics { listen: \"127.0.0.1:9465\" }\nipvs { tcp_timeout_s: 900 }\n"));
  EXPECT_TRUE(d.metrics);
  EXPECT_TRUE(d.ipvs);
  EXPECT_FALSE(d.heartbeat);
  EXPECT_EQ(d.toString(), "~ metrics\n~ ipvs\n");
  auto h = diffOf(kBase, base("  key {", "  interval_ms: 500\n  key {"));
  EXPECT_TRUE(h.heartbeat);
  EXPECT_EQ(h.toString(), "~ heartbeat\n");
}

TEST(Diff, ToStringFormat) {
  std::string after = edit(withExtra("virtual_service {\n  address: \"192.0.2.11:443\"\n}\n"),
                           "weight: 5 }", "weight: 6 }");
  auto d = diffOf(kBase, after);
  EXPECT_EQ(d.toString(),
            "+ service tcp/192.0.2.11:443\n"
            "~ real_server tcp/192.0.2.10:80 192.0.2.101:80\n");
}

}  // namespace
}  // namespace lvsd::config
