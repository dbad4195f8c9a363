// keepalived.conf → lvsd config: golden conversions of realistic files plus
// the individual rules (defaults, inference, what must be reported).
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include "cli/import/import.h"
#include "config/config.h"
#include "unit/import/import_test_util.h"

namespace lvsd::import {
namespace {

using testing::expectGolden;
using testing::goldenText;
using testing::hasProblem;
using testing::InDataDir;
using testing::MemReader;

ImportResult importText(const std::string& text, KeepalivedOptions opts = {}) {
  MemReader r;
  r.files["k.conf"] = text;
  if (opts.name.empty()) opts.name = "lvs1";
  return importKeepalived({"k.conf"}, opts, r);
}

// The DR pair the issue names: keepalived -t accepts both files (checked by
// tests/process/import_keepalived.sh); converted together they must give a
// config that lvsd's own validator accepts, with nothing left unconverted.
class KeepalivedGolden : public InDataDir {};

TEST_F(KeepalivedGolden, DrPairFromBothDirectorsFiles) {
  auto reader = fileSystemReader();
  auto r = importKeepalived({"dr-master.conf", "dr-backup.conf"}, {}, *reader);
  EXPECT_TRUE(r.complete()) << ::testing::PrintToString(testing::problemTexts(r));
  expectGolden(goldenText(r), "dr-pair.expected");
  auto loaded = config::loadString(goldenText(r), "dr-pair.expected");
  EXPECT_TRUE(loaded.ok()) << loaded.errorText();
  ASSERT_EQ(r.config.director_size(), 2);
  EXPECT_EQ(r.config.director(0).name(), "lvs1");
  EXPECT_EQ(r.config.director(0).priority(), 150u);
  EXPECT_EQ(r.config.director(1).name(), "lvs2");
  EXPECT_EQ(r.config.director(1).priority(), 100u);
  EXPECT_EQ(r.config.heartbeat().protocol(), config::Heartbeat::VRRP3);
  EXPECT_TRUE(r.config.heartbeat().vrrp_unicast());  // keepalived's unicast_peer
}

TEST_F(KeepalivedGolden, DrMasterAloneInfersItsPeer) {
  auto reader = fileSystemReader();
  auto r = importKeepalived({"dr-master.conf"}, {}, *reader);
  EXPECT_TRUE(r.complete()) << ::testing::PrintToString(testing::problemTexts(r));
  expectGolden(goldenText(r), "dr-master.expected");
  auto loaded = config::loadString(goldenText(r), "dr-master.expected");
  EXPECT_TRUE(loaded.ok()) << loaded.errorText();
  ASSERT_EQ(r.config.director_size(), 2);
  EXPECT_EQ(r.config.director(1).name(), "peer-10.0.0.2");
  EXPECT_EQ(r.config.director(1).priority(), 100u);  // 50 below the MASTER's 150
  EXPECT_TRUE(hasProblem(r, Problem::kNote, 30, "assumed VI_WEB=100"));
}

TEST_F(KeepalivedGolden, KitchenSinkReportsEverythingItDrops) {
  auto reader = fileSystemReader();
  auto r = importKeepalived({"kitchen.conf"}, {}, *reader);
  expectGolden(goldenText(r), "kitchen.expected");
  EXPECT_FALSE(r.complete());
  // What keepalived does that lvsd cannot: each at its exact place.
  EXPECT_TRUE(hasProblem(r, Problem::kUnsupported, 7, "lvs_flush", 5));
  EXPECT_TRUE(hasProblem(r, Problem::kUnsupported, 16, "vrrp_sync_group notify_master", 5));
  EXPECT_TRUE(hasProblem(r, Problem::kUnsupported, 30, "VRRP authentication", 5));
  EXPECT_TRUE(hasProblem(r, Problem::kUnsupported, 36, "brd 198.51.100.255", 35));
  EXPECT_TRUE(hasProblem(r, Problem::kUnsupported, 38, "virtual_routes", 5));
  EXPECT_TRUE(hasProblem(r, Problem::kUnsupported, 108, "notify_down", 9));
  EXPECT_TRUE(hasProblem(r, Problem::kUnsupported, 133, "digest", 17));
  EXPECT_EQ(r.count(Problem::kUnsupported), 7u);
  EXPECT_EQ(r.count(Problem::kError), 0u);
  // Everything else converts to a valid config.
  auto loaded = config::loadString(goldenText(r), "kitchen.expected");
  EXPECT_TRUE(loaded.ok()) << loaded.errorText();
}

TEST(Keepalived, KeepalivedDefaultsAreWrittenExplicitly) {
  auto r = importText(
      "virtual_server 192.0.2.1 80 {\n"
      "  persistence_timeout\n"
      "  real_server 10.0.0.1 80 {\n"
      "    TCP_CHECK {\n"
      "    }\n"
      "  }\n"
      "}\n");
  ASSERT_EQ(r.config.virtual_service_size(), 1);
  const auto& vs = r.config.virtual_service(0);
  // keepalived 2.2: no protocol = UDP, no lvs_method = NAT, scheduler wlc,
  // persistence_timeout without a value = 360 s.
  EXPECT_EQ(vs.protocol(), config::UDP);
  EXPECT_TRUE(vs.has_protocol());
  EXPECT_EQ(vs.forwarding(), config::NAT);
  EXPECT_TRUE(vs.has_forwarding());
  EXPECT_EQ(vs.scheduler(), "wlc");
  EXPECT_EQ(vs.persistence().timeout_s(), 360u);
  ASSERT_EQ(vs.inline_check_size(), 1);
  const auto& ch = vs.inline_check(0);
  // delay_loop 60 s, connect_timeout 5 s, retry 1 after 1 s; keepalived
  // fails and restores after one round, and starts UP without alpha.
  EXPECT_EQ(ch.interval_ms(), 60000u);
  EXPECT_EQ(ch.timeout_ms(), 5000u);
  EXPECT_EQ(ch.retries(), 1u);
  EXPECT_EQ(ch.retry_delay_ms(), 1000u);
  EXPECT_EQ(ch.rise(), 1u);
  EXPECT_EQ(ch.fall(), 1u);
  EXPECT_EQ(ch.initial(), config::Check::UP);
  EXPECT_TRUE(hasProblem(r, Problem::kNote, 1, "defaults to UDP"));
  EXPECT_TRUE(hasProblem(r, Problem::kNote, 1, "default NAT"));
  EXPECT_TRUE(r.complete());
}

TEST(Keepalived, CheckerSettingsInheritServerToRealServerToChecker) {
  auto r = importText(
      "virtual_server 192.0.2.1 80 {\n"
      "  protocol TCP\n"
      "  delay_loop 10\n"
      "  connect_timeout 4\n"
      "  alpha\n"
      "  virtualhost vs.example\n"
      "  real_server 10.0.0.1 80 {\n"
      "    connect_timeout 3\n"
      "    HTTP_GET {\n"
      "      url { path /a }\n"
      "      url {\n"
      "        path /b\n"
      "        virtualhost url.example\n"
      "      }\n"
      "      retry 0\n"
      "    }\n"
      "    SSL_GET {\n"
      "      delay_loop 2.5\n"
      "      url { path /s }\n"
      "    }\n"
      "  }\n"
      "}\n");
  ASSERT_EQ(r.config.virtual_service_size(), 1);
  const auto& rs = r.config.virtual_service(0).real_server(0);
  // One real server: its checks are hoisted to the service.
  const auto& checks = r.config.virtual_service(0).inline_check();
  ASSERT_EQ(checks.size(), 3);  // two URLs = two http checks, and the https one
  EXPECT_EQ(rs.inline_check_size(), 0);
  EXPECT_EQ(checks[0].http().path(), "/a");
  EXPECT_EQ(checks[0].http().host(), "vs.example");
  EXPECT_EQ(checks[0].interval_ms(), 10000u);
  EXPECT_EQ(checks[0].timeout_ms(), 3000u);
  EXPECT_EQ(checks[0].retries(), 0u);
  EXPECT_FALSE(checks[0].has_retry_delay_ms());
  EXPECT_EQ(checks[0].initial(), config::Check::DOWN);
  EXPECT_EQ(checks[1].http().path(), "/b");
  EXPECT_EQ(checks[1].http().host(), "url.example");
  EXPECT_EQ(checks[2].https().path(), "/s");
  EXPECT_EQ(checks[2].interval_ms(), 2500u);
  EXPECT_EQ(checks[2].retries(), 1u);
  EXPECT_EQ(checks[2].retry_delay_ms(), 3000u);  // HTTP/SSL default delay_before_retry
}

TEST(Keepalived, TimeoutNotBelowIntervalIsShortenedWithANote) {
  auto r = importText(
      "virtual_server 192.0.2.1 80 {\n"
      "  protocol TCP\n"
      "  real_server 10.0.0.1 80 {\n"
      "    TCP_CHECK {\n"
      "      delay_loop 2\n"
      "      connect_timeout 5\n"
      "    }\n"
      "  }\n"
      "}\n");
  const auto& ch = r.config.virtual_service(0).inline_check(0);
  EXPECT_EQ(ch.interval_ms(), 2000u);
  EXPECT_EQ(ch.timeout_ms(), 1800u);
  EXPECT_TRUE(hasProblem(r, Problem::kNote, 4, "timeout 5000 ms is not below delay_loop 2000 ms"));
}

TEST(Keepalived, BadValuesAreErrorsAtTheirPlace) {
  auto r = importText(
      "vrrp_instance V {\n"
      "  interface eth0\n"
      "  virtual_router_id 300\n"
      "  advert_int soon\n"
      "  unicast_src_ip 10.0.0.300\n"
      "}\n"
      "virtual_server 192.0.2.1 80 {\n"
      "  protocol TCP\n"
      "  real_server 10.0.0.1 80 { weight -1 }\n"
      "}\n");
  EXPECT_TRUE(hasProblem(r, Problem::kError, 3, "virtual_router_id '300' is not an integer in 1..255", 21));
  EXPECT_TRUE(hasProblem(r, Problem::kError, 4, "advert_int 'soon' is not a time", 14));
  EXPECT_TRUE(hasProblem(r, Problem::kError, 5, "unicast_src_ip", 18));
  EXPECT_TRUE(hasProblem(r, Problem::kError, 9, "weight '-1'", 36));
  EXPECT_TRUE(hasProblem(r, Problem::kError, 1, "has no virtual_router_id"));
  EXPECT_FALSE(r.complete());
}

TEST(Keepalived, ExtraWordsOnALineAreIgnoredAsKeepalivedDoes) {
  // keepalived reads one statement per line: the status_code here is lost.
  auto r = importText(
      "virtual_server 192.0.2.1 80 {\n"
      "  protocol TCP\n"
      "  real_server 10.0.0.1 80 {\n"
      "    HTTP_GET { url { path /health status_code 200 } }\n"
      "  }\n"
      "}\n");
  const auto& http = r.config.virtual_service(0).inline_check(0).http();
  EXPECT_EQ(http.path(), "/health");
  EXPECT_EQ(http.status_size(), 0);
  EXPECT_TRUE(hasProblem(r, Problem::kNote, 4, "'status_code 200' after path is ignored", 35));
}

TEST(Keepalived, UnknownKeywordsAreReportedNotDropped) {
  auto r = importText(
      "vrrp_instance V {\n"
      "  interface eth0\n"
      "  virtual_router_id 5\n"
      "  unicast_src_ip 10.0.0.1\n"
      "  unicast_peer {\n    10.0.0.2\n  }\n"
      "  frobnicate 1\n"
      "}\n"
      "widget_defs {\n}\n");
  EXPECT_TRUE(hasProblem(r, Problem::kUnsupported, 8, "vrrp_instance keyword 'frobnicate'", 3));
  EXPECT_TRUE(hasProblem(r, Problem::kUnsupported, 10, "unknown top-level keyword 'widget_defs'", 1));
}

TEST(Keepalived, BackupFileInfersAHigherPriorityPeer) {
  auto r = importText(
      "vrrp_instance V {\n"
      "  state BACKUP\n"
      "  interface eth0\n"
      "  virtual_router_id 5\n"
      "  priority 100\n"
      "  unicast_src_ip 10.0.0.2\n"
      "  unicast_peer {\n    10.0.0.1\n  }\n"
      "}\n");
  ASSERT_EQ(r.config.director_size(), 2);
  EXPECT_EQ(r.config.director(0).name(), "lvs1");
  EXPECT_FALSE(r.config.director(0).has_priority());  // 100 = lvsd's default
  EXPECT_EQ(r.config.director(1).name(), "peer-10.0.0.1");
  EXPECT_EQ(r.config.director(1).priority(), 150u);
  EXPECT_TRUE(r.complete());
}

TEST(Keepalived, OwnerPriorityPeerIsBelowIt) {
  auto r = importText(
      "vrrp_instance V {\n  state MASTER\n  interface eth0\n  virtual_router_id 5\n"
      "  priority 255\n  unicast_src_ip 10.0.0.1\n  unicast_peer {\n    10.0.0.2\n  }\n}\n");
  ASSERT_EQ(r.config.director_size(), 2);
  EXPECT_EQ(r.config.director(0).priority(), 255u);
  EXPECT_EQ(r.config.director(1).priority(), 205u);
}

TEST(Keepalived, MulticastSingleFileCannotNameItsPeers) {
  auto r = importText(
      "vrrp_instance V {\n  interface eth0\n  virtual_router_id 5\n  mcast_src_ip 10.0.0.1\n}\n");
  EXPECT_TRUE(hasProblem(r, Problem::kUnsupported, 1, "multicast"));
  EXPECT_EQ(r.config.director_size(), 1);
}

TEST(Keepalived, MissingSourceAddressIsReported) {
  auto r = importText(
      "vrrp_instance V {\n  interface eth0\n  virtual_router_id 5\n"
      "  unicast_peer {\n    10.0.0.2\n  }\n}\n");
  EXPECT_TRUE(hasProblem(r, Problem::kUnsupported, 1, "director lvs1 has no address on eth0"));
}

TEST(Keepalived, TwoMulticastFilesStayMulticast) {
  MemReader m;
  m.files["a.conf"] =
      "global_defs {\n  router_id a\n}\nvrrp_instance V {\n  state MASTER\n  interface eth0\n"
      "  virtual_router_id 5\n  priority 200\n  mcast_src_ip 10.0.0.1\n}\n";
  m.files["b.conf"] =
      "global_defs {\n  router_id b\n}\nvrrp_instance V {\n  state BACKUP\n  interface eth0\n"
      "  virtual_router_id 5\n  priority 100\n  mcast_src_ip 10.0.0.2\n}\n";
  auto r = importKeepalived({"a.conf", "b.conf"}, {}, m);
  EXPECT_TRUE(r.complete()) << ::testing::PrintToString(testing::problemTexts(r));
  ASSERT_EQ(r.config.director_size(), 2);
  EXPECT_EQ(r.config.director(0).priority(), 200u);
  EXPECT_EQ(r.config.director(1).address(0).address(), "10.0.0.2");
  ASSERT_EQ(r.config.instance_size(), 1);
  EXPECT_EQ(r.config.instance(0).priority_size(), 0);
  EXPECT_FALSE(r.config.heartbeat().has_vrrp_unicast());  // 224.0.0.18, as keepalived
}

TEST(Keepalived, InstancePrioritiesOverrideTheDirectorDefault) {
  MemReader m;
  auto file = [](const std::string& id, const std::string& src, int p1, int p2) {
    return "global_defs {\n  router_id " + id + "\n}\n" +
           "vrrp_instance A {\n  interface eth0\n  virtual_router_id 1\n  priority " + std::to_string(p1) +
           "\n  unicast_src_ip " + src + "\n}\n" +
           "vrrp_instance B {\n  interface eth0\n  virtual_router_id 2\n  priority " + std::to_string(p2) +
           "\n  unicast_src_ip " + src + "\n}\n";
  };
  m.files["1.conf"] = file("one", "10.0.0.1", 150, 100);  // MASTER of A
  m.files["2.conf"] = file("two", "10.0.0.2", 100, 150);  // MASTER of B
  auto r = importKeepalived({"1.conf", "2.conf"}, {}, m);
  EXPECT_TRUE(r.complete()) << ::testing::PrintToString(testing::problemTexts(r));
  EXPECT_EQ(r.config.director(0).priority(), 150u);
  EXPECT_FALSE(r.config.director(1).has_priority());
  ASSERT_EQ(r.config.instance_size(), 2);
  EXPECT_EQ(r.config.instance(0).priority_size(), 0);
  ASSERT_EQ(r.config.instance(1).priority_size(), 2);
  EXPECT_EQ(r.config.instance(1).priority(0).director(), "one");
  EXPECT_EQ(r.config.instance(1).priority(0).value(), 100u);
  EXPECT_EQ(r.config.instance(1).priority(1).director(), "two");
  EXPECT_EQ(r.config.instance(1).priority(1).value(), 150u);
  auto loaded = config::loadString(render(r), "merged");
  EXPECT_TRUE(loaded.ok()) << loaded.errorText();
}

TEST(Keepalived, DisagreeingFilesKeepTheFirstDefinitionAndSaySo) {
  MemReader m;
  std::string base =
      "vrrp_instance V {\n  interface eth0\n  virtual_router_id 5\n  unicast_src_ip SRC\n}\n"
      "virtual_server 192.0.2.1 80 {\n  protocol TCP\n  lvs_sched SCHED\n"
      "  real_server 10.1.0.1 80 {\n  }\n}\n";
  auto make = [&](const std::string& src, const std::string& sched) {
    std::string t = base;
    t.replace(t.find("SRC"), 3, src);
    t.replace(t.find("SCHED"), 5, sched);
    return t;
  };
  m.files["a.conf"] = make("10.0.0.1", "rr");
  m.files["b.conf"] = make("10.0.0.2", "wrr");
  auto r = importKeepalived({"a.conf", "b.conf"}, {}, m);
  ASSERT_EQ(r.config.virtual_service_size(), 1);
  EXPECT_EQ(r.config.virtual_service(0).scheduler(), "rr");
  ASSERT_EQ(r.count(Problem::kUnsupported), 1u) << ::testing::PrintToString(testing::problemTexts(r));
  EXPECT_EQ(r.problems.back().file, "b.conf");
  EXPECT_TRUE(hasProblem(r, Problem::kUnsupported, 6, "differs from its definition at a.conf:6"));
}

TEST(Keepalived, DirectorNames) {
  // --name wins; else router_id (sanitized); else the fallback (host name).
  auto named = importText("global_defs {\n  router_id x\n}\n", {"given", "host"});
  EXPECT_EQ(named.config.director(0).name(), "given");
  MemReader m;
  m.files["k.conf"] = "global_defs {\n  router_id \"edge 1\"\n}\n";
  auto fromId = importKeepalived({"k.conf"}, {"", "host"}, m);
  EXPECT_EQ(fromId.config.director(0).name(), "edge_1");
  EXPECT_TRUE(hasProblem(fromId, Problem::kNote, 2, "renamed 'edge_1'", 13));
  m.files["k.conf"] = "";
  auto fallback = importKeepalived({"k.conf"}, {"", "host"}, m);
  EXPECT_EQ(fallback.config.director(0).name(), "host");
  EXPECT_TRUE(hasProblem(fallback, Problem::kNote, 0, "no router_id"));
}

TEST(Keepalived, TimersAreSecondsWithFractions) {
  auto r = importText(
      "vrrp_instance V {\n  interface eth0\n  virtual_router_id 5\n  version 3\n  advert_int 0.25\n"
      "  preempt_delay 1.5\n  unicast_src_ip 10.0.0.1\n  unicast_peer {\n    10.0.0.2\n  }\n}\n"
      "vrrp_instance W {\n  interface eth0\n  virtual_router_id 6\n  version 3\n  advert_int 0.0004\n"
      "  unicast_src_ip 10.0.0.1\n}\n");
  EXPECT_EQ(r.config.heartbeat().interval_ms(), 250u);
  EXPECT_EQ(r.config.instance(0).preempt_delay_ms(), 1500u);
  EXPECT_TRUE(hasProblem(r, Problem::kError, 16, "advert_int must be positive"));
}

TEST(Keepalived, Vrrp2NeedsWholeSeconds) {
  auto r = importText(
      "vrrp_instance V {\n  interface eth0\n  virtual_router_id 5\n  advert_int 1.5\n"
      "  unicast_src_ip 10.0.0.1\n  unicast_peer {\n    10.0.0.2\n  }\n}\n");
  EXPECT_EQ(r.config.heartbeat().protocol(), config::Heartbeat::VRRP2);
  EXPECT_EQ(r.config.heartbeat().interval_ms(), 2000u);
  EXPECT_TRUE(hasProblem(r, Problem::kUnsupported, 4, "VRRPv2 carries whole seconds"));
}

TEST(Keepalived, SlowAdvertsRaiseTheFailoverLimit) {
  auto r = importText(
      "vrrp_instance V {\n  interface eth0\n  virtual_router_id 5\n  advert_int 5\n"
      "  unicast_src_ip 10.0.0.1\n  unicast_peer {\n    10.0.0.2\n  }\n}\n");
  EXPECT_EQ(r.config.heartbeat().failover_limit_ms(), 20000u);
  auto loaded = config::loadString(render(r), "slow");
  EXPECT_TRUE(loaded.ok()) << loaded.errorText();
}

TEST(Keepalived, VirtualServerGroupRangesExpandWithinLimits) {
  auto r = importText(
      "virtual_server_group G {\n  10.0.0.1-3 80\n  10.0.1.0/30 81\n  10.9.0.0/16 82\n"
      "  2001:db8::1-5 83\n  fwmark 9 inet6\n}\n"
      "virtual_server group G {\n  protocol TCP\n  real_server 10.1.0.1 80 {\n  }\n}\n");
  std::vector<std::string> keys;
  for (const auto& vs : r.config.virtual_service()) keys.push_back(config::serviceKey(vs));
  EXPECT_EQ(keys, (std::vector<std::string>{"tcp/10.0.0.1:80", "tcp/10.0.0.2:80", "tcp/10.0.0.3:80",
                                            "tcp/10.0.1.0:81", "tcp/10.0.1.1:81", "tcp/10.0.1.2:81",
                                            "tcp/10.0.1.3:81", "fwmark/9/inet6"}));
  EXPECT_TRUE(hasProblem(r, Problem::kUnsupported, 4, "65536 addresses"));
  EXPECT_TRUE(hasProblem(r, Problem::kUnsupported, 5, "IPv6 address ranges"));
  // Firewall-mark services take real servers without ports.
  EXPECT_EQ(r.config.virtual_service(7).real_server(0).address(), "10.1.0.1:80");
}

TEST(Keepalived, ScriptsRunWithoutAShell) {
  auto r = importText(
      "vrrp_script a {\n  script \"killall -0 haproxy\"\n}\n"
      "vrrp_script b {\n  script \"/bin/pidof haproxy || exit 1\"\n  interval 5\n  timeout 2\n}\n"
      "vrrp_instance V {\n  interface eth0\n  virtual_router_id 5\n  unicast_src_ip 10.0.0.1\n"
      "  unicast_peer {\n    10.0.0.2\n  }\n  track_script {\n    a\n    b weight -10\n  }\n}\n");
  EXPECT_TRUE(hasProblem(r, Problem::kUnsupported, 2, "'killall' is not an absolute path", 10));
  EXPECT_TRUE(hasProblem(r, Problem::kUnsupported, 5, "uses shell syntax", 3));
  ASSERT_EQ(r.config.tracker_size(), 2);
  EXPECT_EQ(r.config.tracker(1).name(), "b-w-10");
  EXPECT_EQ(r.config.tracker(1).weight(), -10);
  EXPECT_EQ(r.config.tracker(1).script().interval_ms(), 5000u);
  EXPECT_EQ(r.config.tracker(1).script().timeout_ms(), 2000u);
}

TEST(Keepalived, UdpPayloadsFollowKeepalivedsHexRules) {
  auto r = importText(
      "virtual_server 192.0.2.1 53 {\n  protocol UDP\n  real_server 10.0.0.1 53 {\n"
      "    UDP_CHECK {\n      payload Ab12f 3 456\n      require_reply 4142\n    }\n"
      "  }\n}\n");
  const auto& u = r.config.virtual_service(0).inline_check(0).udp();
  // keepalived.conf(5): "Ab12f 3 456" is AB 12 0F 03 45 06.
  EXPECT_EQ(u.send_hex(), "AB120F034506");
  EXPECT_EQ(u.expect_regex(), "^\\x41\\x42[\\s\\S]*");
}

TEST(Keepalived, SyncDaemonAndTimeouts) {
  auto r = importText(
      "global_defs {\n  lvs_sync_daemon eth1 V id 9 maxlen 1400 port 8849 ttl 2 group 224.0.0.82\n"
      "  lvs_timeouts tcp 7200 udp 30\n}\n");
  const auto& k = r.config.sync().kernel();
  EXPECT_TRUE(k.enabled());
  EXPECT_EQ(k.interface(), "eth1");
  EXPECT_EQ(k.sync_id(), 9u);
  EXPECT_EQ(k.maxlen(), 1400u);
  EXPECT_EQ(k.port(), 8849u);
  EXPECT_EQ(k.ttl(), 2u);
  EXPECT_EQ(k.mcast_group(), "224.0.0.82");
  EXPECT_EQ(r.config.ipvs().tcp_timeout_s(), 7200u);
  EXPECT_FALSE(r.config.ipvs().has_tcpfin_timeout_s());
  EXPECT_EQ(r.config.ipvs().udp_timeout_s(), 30u);
}

TEST(Keepalived, RenderIsLoadableTextFormatWithOrigins) {
  auto r = importText("virtual_server 192.0.2.1 80 {\n  protocol TCP\n  real_server 10.0.0.1 80 {\n  }\n}\n");
  std::string text = render(r);
  EXPECT_NE(text.find("# from k.conf:1\nvirtual_service {\n"), std::string::npos) << text;
  auto loaded = config::loadString(text, "x");
  ASSERT_TRUE(loaded.ok()) << loaded.errorText();
  // The text is exactly the converted message (defaults are not printed).
  config::Config parsed;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &parsed));
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(parsed, r.config));
}

}  // namespace
}  // namespace lvsd::import
