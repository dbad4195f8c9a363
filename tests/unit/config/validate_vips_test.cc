// VIP groups and trackers.
#include <gtest/gtest.h>

#include "config_test_util.h"

namespace lvsd::config {
namespace {

using namespace testing;

const std::string kVip = "  vip { address: \"192.0.2.10/24\" interface: \"eth0\" }\n";

std::string vip(const std::string& line) {
  return base(kVip, line);
}

// ---- VIP groups

TEST(VipGroups, NamesUniqueAndNonEmpty) {
  EXPECT_TRUE(onlyError(
      withExtra(
          "vip_group { name: \"web\" vip { address: \"192.0.2.11\" interface: \"eth0\" } }\n"),
      "vip_group[1].name", "duplicate vip group 'web' (first defined at 20:3)"));
  EXPECT_TRUE(onlyError(withExtra("vip_group { name: \"empty\" }\n"), "vip_group[1].vip",
                        "a vip group needs at least one vip"));
}

TEST(VipGroups, AddressIsAPrefix) {
  EXPECT_TRUE(valid(vip("  vip { address: \"192.0.2.10\" interface: \"eth0\" }\n")));
  EXPECT_TRUE(valid(vip("  vip { address: \"2001:db8::10/64\" interface: \"eth0\" }\n")));
  EXPECT_TRUE(onlyError(vip("  vip { address: \"192.0.2.10/33\" interface: \"eth0\" }\n"),
                        "vip_group[0].vip[0].address", "invalid prefix length in '192.0.2.10/33'"));
  EXPECT_TRUE(onlyError(vip("  vip { address: \"192.0.2.x/24\" interface: \"eth0\" }\n"),
                        "vip_group[0].vip[0].address", "invalid IP address"));
  EXPECT_TRUE(onlyError(vip("  vip { address: \"224.0.0.1/32\" interface: \"eth0\" }\n"),
                        "vip_group[0].vip[0].address", "VIP 224.0.0.1 is not a unicast address"));
  EXPECT_TRUE(onlyError(vip("  vip { interface: \"eth0\" }\n"), "vip_group[0].vip[0].address",
                        "address is required"));
}

TEST(VipGroups, InterfaceRequired) {
  EXPECT_TRUE(onlyError(vip("  vip { address: \"192.0.2.10/24\" }\n"),
                        "vip_group[0].vip[0].interface", "interface is required"));
  EXPECT_TRUE(onlyError(vip("  vip { address: \"192.0.2.10/24\" interface: \"eth 0\" }\n"),
                        "vip_group[0].vip[0].interface", "invalid interface name 'eth 0'"));
}

TEST(VipGroups, Label) {
  EXPECT_TRUE(
      valid(vip("  vip { address: \"192.0.2.10/24\" interface: \"eth0\" label: \"eth0:web\" }\n")));
  EXPECT_TRUE(onlyError(
      vip("  vip { address: \"192.0.2.10/24\" interface: \"eth0\" label: \"web\" }\n"),
      "vip_group[0].vip[0].label", "label 'web' must start with the interface name 'eth0'"));
  EXPECT_TRUE(onlyError(
      vip("  vip { address: \"192.0.2.10/24\" interface: \"eth0\" label: \"eth0:webfrontend\" }\n"),
      "vip_group[0].vip[0].label", "is longer than 15 characters"));
  EXPECT_TRUE(onlyError(
      vip("  vip { address: \"2001:db8::1/64\" interface: \"eth0\" label: \"eth0:v6\" }\n"),
      "vip_group[0].vip[0].label", "labels exist only for IPv4 addresses"));
}

TEST(VipGroups, SameVipTwiceIsAnError) {
  std::string text = withExtra(
      "vip_group { name: \"api\" vip { address: \"192.0.2.10/32\" interface: \"eth1\" } }\n");
  EXPECT_TRUE(onlyError(text, "vip_group[1].vip[0].address",
                        "VIP 192.0.2.10 is already in vip group 'web' (first defined at 21:9)"));
  EXPECT_TRUE(onlyError(vip(kVip + "  vip { address: \"192.0.2.10\" interface: \"eth1\" }\n"),
                        "vip_group[0].vip[1].address", "is already in vip group 'web'"));
}

TEST(VipGroups, Announce) {
  std::string ok =
      vip(kVip + "  announce { delay_ms: 100 repeat: 3 interval_ms: 50 refresh_s: 60 }\n");
  EXPECT_TRUE(valid(ok));
  EXPECT_TRUE(onlyError(edit(ok, "repeat: 3", "repeat: 0"), "vip_group[0].announce.repeat",
                        "repeat 0 outside 1..100"));
  EXPECT_TRUE(onlyError(edit(ok, "interval_ms: 50", "interval_ms: 5"),
                        "vip_group[0].announce.interval_ms", "interval_ms 5 outside 10..10000"));
  EXPECT_TRUE(onlyError(edit(ok, "delay_ms: 100", "delay_ms: 60001"),
                        "vip_group[0].announce.delay_ms", "outside"));
  EXPECT_TRUE(onlyError(edit(ok, "refresh_s: 60", "refresh_s: 86401"),
                        "vip_group[0].announce.refresh_s", "outside"));
}

// ---- trackers

TEST(Trackers, NameAndKind) {
  EXPECT_TRUE(valid(withExtra("tracker { name: \"up\" interface { name: \"eth1\" } }\n")));
  EXPECT_TRUE(onlyError(withExtra("tracker { name: \"up\" interface { name: \"eth1\" } }\n"
                                  "tracker { name: \"up\" file { path: \"/run/x\" } }\n"),
                        "tracker[1].name", "duplicate tracker 'up' (first defined at 34:11)"));
  EXPECT_TRUE(onlyError(withExtra("tracker { name: \"up\" weight: -10 }\n"), "tracker[0]",
                        "a tracker needs exactly one of interface, script, file or quorum"));
  EXPECT_TRUE(onlyError(withExtra("tracker { interface { name: \"eth1\" } }\n"), "tracker[0].name",
                        "tracker name is required"));
  // Two kinds at once is a syntax error from the parser (oneof).
  auto r = load(
      withExtra("tracker { name: \"up\" interface { name: \"eth1\" } file { path: \"/x\" } }\n"));
  ASSERT_EQ(r.errors.size(), 1u) << dump(r);
  EXPECT_NE(r.errors[0].message.find("oneof"), std::string::npos) << dump(r);
}

TEST(Trackers, Weight) {
  EXPECT_TRUE(
      valid(withExtra("tracker { name: \"up\" weight: -254 interface { name: \"eth1\" } }\n")));
  EXPECT_TRUE(
      onlyError(withExtra("tracker { name: \"up\" weight: 255 interface { name: \"eth1\" } }\n"),
                "tracker[0].weight", "weight 255 outside -254..254"));
}

TEST(Trackers, Interface) {
  EXPECT_TRUE(onlyError(withExtra("tracker { name: \"up\" interface { } }\n"),
                        "tracker[0].interface.name", "name is required"));
  EXPECT_TRUE(onlyError(withExtra("tracker { name: \"up\" interface { name: \"../x\" } }\n"),
                        "tracker[0].interface.name", "invalid interface name '../x'"));
}

TEST(Trackers, Script) {
  std::string ok = withExtra(
      "tracker { name: \"s\" script { argv: \"/usr/bin/check\" argv: \"-q\" interval_ms: 2000 "
      "timeout_ms: 1000 } }\n");
  EXPECT_TRUE(valid(ok));
  EXPECT_TRUE(onlyError(withExtra("tracker { name: \"s\" script { } }\n"), "tracker[0].script.argv",
                        "argv is required"));
  EXPECT_TRUE(onlyError(edit(ok, "\"/usr/bin/check\"", "\"check\""), "tracker[0].script.argv[0]",
                        "program 'check' is not an absolute path"));
  EXPECT_TRUE(onlyError(edit(ok, "timeout_ms: 1000", "timeout_ms: 2000"),
                        "tracker[0].script.timeout_ms",
                        "timeout_ms 2000 is not below interval_ms 2000"));
  EXPECT_TRUE(onlyError(edit(ok, "timeout_ms: 1000", "timeout_ms: 0"),
                        "tracker[0].script.timeout_ms", "timeout_ms 0 outside"));
  EXPECT_TRUE(onlyError(edit(ok, "interval_ms: 2000", "interval_ms: 0"),
                        "tracker[0].script.interval_ms", "interval_ms 0 outside"));
  EXPECT_TRUE(
      onlyError(edit(ok, " } }", " rise: 0 } }"), "tracker[0].script.rise", "rise 0 outside"));
  EXPECT_TRUE(
      onlyError(edit(ok, " } }", " fall: 0 } }"), "tracker[0].script.fall", "fall 0 outside"));
}

TEST(Trackers, File) {
  EXPECT_TRUE(valid(withExtra("tracker { name: \"f\" file { path: \"/run/lvsd/prio\" } }\n")));
  EXPECT_TRUE(onlyError(withExtra("tracker { name: \"f\" file { path: \"prio\" } }\n"),
                        "tracker[0].file.path", "path 'prio' is not an absolute path"));
  EXPECT_TRUE(onlyError(withExtra("tracker { name: \"f\" file { } }\n"), "tracker[0].file.path",
                        "path is required"));
}

TEST(Trackers, QuorumNamesAServiceWithAQuorum) {
  std::string withQuorum =
      base("  check: \"http\"\n", "  check: \"http\"\n  quorum { min_weight: 5 }\n");
  EXPECT_TRUE(valid(withQuorum +
                    "tracker { name: \"q\" quorum { virtual_service: \"tcp/192.0.2.10:80\" } }\n"));
  EXPECT_TRUE(onlyError(
      kBase + "tracker { name: \"q\" quorum { virtual_service: \"tcp/192.0.2.10:80\" } }\n",
      "tracker[0].quorum.virtual_service",
      "virtual service 'tcp/192.0.2.10:80' has no quorum block"));
  EXPECT_TRUE(
      onlyError(withQuorum + "tracker { name: \"q\" quorum { virtual_service: \"web\" } }\n",
                "tracker[0].quorum.virtual_service", "unknown virtual service 'web'"));
  EXPECT_TRUE(onlyError(withQuorum + "tracker { name: \"q\" quorum { } }\n",
                        "tracker[0].quorum.virtual_service", "virtual_service is required"));
  std::string named =
      edit(withQuorum, "  scheduler: \"wrr\"\n", "  name: \"web\"\n  scheduler: \"wrr\"\n");
  EXPECT_TRUE(valid(named + "tracker { name: \"q\" quorum { virtual_service: \"web\" } }\n"));
}

}  // namespace
}  // namespace lvsd::config
