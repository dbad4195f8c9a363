// Directors, heartbeat, instances, sync groups: one valid and one invalid
// case (at least) per rule.
#include <gtest/gtest.h>

#include "config_test_util.h"

namespace lvsd::config {
namespace {

using namespace testing;

const std::string kKey = "  key { id: 1 secret_hex: \"00112233445566778899aabbccddeeff\" }\n";
const std::string kLink = "  link { name: \"lan\" interface: \"eth0\" }\n";
const std::string kLvs2Addr = "  address { link: \"lan\" address: \"192.0.2.3\" }\n";
const std::string kLvs1Addr = "  address { link: \"lan\" address: \"192.0.2.2\" }\n";

// The base with extra heartbeat fields.
std::string hb(const std::string& extra) {
  return base(kKey, kKey + extra);
}
// The base with extra instance fields.
std::string inst(const std::string& extra) {
  return base("  vrid: 51\n", "  vrid: 51\n" + extra);
}

// A second heartbeat link "wan" on eth1 that both directors have.
std::string twoLinks() {
  std::string t = base(kLink, kLink + "  link { name: \"wan\" interface: \"eth1\" }\n");
  t = edit(t, kLvs1Addr, kLvs1Addr + "  address { link: \"wan\" address: \"198.51.100.2\" }\n");
  return edit(t, kLvs2Addr, kLvs2Addr + "  address { link: \"wan\" address: \"198.51.100.3\" }\n");
}

// ---- directors

TEST(Directors, AtLeastOne) {
  EXPECT_TRUE(onlyError("", "director", "at least one director is required"));
}

TEST(Directors, NamesUniqueAndWellFormed) {
  std::string dup = base("name: \"lvs2\"", "name: \"lvs1\"");
  EXPECT_TRUE(
      onlyError(dup, "director[1].name", "duplicate director 'lvs1' (first defined at 2:3)"));
  EXPECT_TRUE(onlyError(base("name: \"lvs2\"", "name: \"lvs 2\""), "director[1].name",
                        "is not 1..64 characters of [A-Za-z0-9_.-]"));
  EXPECT_TRUE(
      onlyError(base("  name: \"lvs2\"\n", ""), "director[1].name", "director name is required"));
  EXPECT_TRUE(valid(base("name: \"lvs2\"", "name: \"lvs-2.dc_1\"")));
}

TEST(Directors, PriorityRange) {
  EXPECT_TRUE(onlyError(base("priority: 150", "priority: 0"), "director[0].priority",
                        "priority 0 outside 1..255"));
  EXPECT_TRUE(onlyError(base("priority: 150", "priority: 256"), "director[0].priority",
                        "priority 256 outside 1..255"));
  EXPECT_TRUE(valid(base("priority: 150", "priority: 255")));
  EXPECT_TRUE(valid(base("priority: 150", "priority: 1")));
}

TEST(Directors, AddressesParse) {
  EXPECT_TRUE(onlyError(base("\"192.0.2.3\"", "\"192.0.2.300\""), "director[1].address[0].address",
                        "invalid IP address '192.0.2.300'"));
  EXPECT_TRUE(onlyError(base("\"192.0.2.3\"", "\"192.0.2.3:80\""), "director[1].address[0].address",
                        "invalid IP address"));
  EXPECT_TRUE(onlyError(base("\"192.0.2.3\"", "\"224.0.0.18\""), "director[1].address[0].address",
                        "224.0.0.18 is not a unicast address"));
  EXPECT_TRUE(onlyError(base("\"192.0.2.3\"", "\"\""), "director[1].address[0].address",
                        "address is required"));
}

TEST(Directors, AddressLinkExists) {
  auto lab =
      load(base("link: \"lan\" address: \"192.0.2.3\"", "link: \"lab\" address: \"192.0.2.3\""));
  EXPECT_EQ(lab.errors.size(), 2u) << dump(lab);
  EXPECT_TRUE(hasError(lab, "director[1].address[0].link", "unknown heartbeat link 'lab'"));
  EXPECT_TRUE(hasError(lab, "director[1].address",
                       "director 'lvs2' has no address on heartbeat link 'lan'"));
  auto r = load(base("link: \"lan\" address: \"192.0.2.3\"", "address: \"192.0.2.3\""));
  EXPECT_TRUE(hasError(r, "director[1].address[0].link", "link is required"));
}

TEST(Directors, OneAddressPerLink) {
  std::string t =
      edit(kBase, kLvs2Addr, kLvs2Addr + "  address { link: \"lan\" address: \"192.0.2.4\" }\n");
  EXPECT_TRUE(
      onlyError(t, "director[1].address[1].link",
                "director 'lvs2' already has an address on link 'lan' (one address per link)"));
}

TEST(Directors, AddressOnEveryLink) {
  EXPECT_TRUE(valid(twoLinks()));
  std::string t = edit(twoLinks(), "  address { link: \"wan\" address: \"198.51.100.3\" }\n", "");
  auto r = load(t);
  EXPECT_TRUE(onlyError(t, "director[1].address",
                        "director 'lvs2' has no address on heartbeat link 'wan' (every director "
                        "needs one on every link)"));
  // The error points at the director's addresses.
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, locate(t, kLvs2Addr).first);
}

TEST(Directors, OneFamilyPerLink) {
  EXPECT_TRUE(onlyError(base("\"192.0.2.3\"", "\"2001:db8::3\""), "director[1].address[0].address",
                        "address 2001:db8::3 is IPv6 but link 'lan' carries IPv4"));
  std::string v6 =
      edit(base("\"192.0.2.3\"", "\"2001:db8::3\""), "\"192.0.2.2\"", "\"2001:db8::2\"");
  EXPECT_TRUE(valid(v6));
}

TEST(Directors, AddressesBelongToOneDirector) {
  EXPECT_TRUE(onlyError(base("\"192.0.2.3\"", "\"192.0.2.2\""), "director[1].address[0].address",
                        "address 192.0.2.2 is already director 'lvs1''s"));
}

TEST(Directors, NoEmptyPeerSet) {
  // A single director with a heartbeat would have nobody to talk to.
  std::string single = edit(kBase, "director {\n  name: \"lvs2\"\n" + kLvs2Addr + "}\n", "");
  auto r = load(single);
  EXPECT_TRUE(onlyError(single, "heartbeat",
                        "director 'lvs1' has no peers on any heartbeat link (a single-director "
                        "cluster takes no heartbeat section)"));
  // Without the heartbeat, a single director is a valid standalone cluster.
  std::string standalone =
      edit(edit(single, "heartbeat {\n" + kLink + kKey + "}\n", ""), kLvs1Addr, "");
  EXPECT_TRUE(valid(standalone));
  // Two directors and no heartbeat: no silent fallback either.
  std::string none = edit(
      edit(edit(kBase, "heartbeat {\n" + kLink + kKey + "}\n", ""), kLvs1Addr, ""), kLvs2Addr, "");
  EXPECT_TRUE(
      onlyError(none, "heartbeat",
                "a cluster of 2 directors needs a heartbeat section with at least one link"));
}

// ---- heartbeat

TEST(Heartbeat, IntervalPositive) {
  EXPECT_TRUE(
      onlyError(hb("  interval_ms: 0\n"), "heartbeat.interval_ms", "interval_ms must be positive"));
  EXPECT_TRUE(valid(hb("  interval_ms: 1\n")));
}

TEST(Heartbeat, Vrrp3IntervalIsCentiseconds) {
  std::string vrrp = base(kKey, "  protocol: VRRP3\n");
  EXPECT_TRUE(valid(vrrp));
  EXPECT_TRUE(valid(edit(vrrp, "  protocol: VRRP3\n", "  protocol: VRRP3\n  interval_ms: 1010\n")));
  EXPECT_TRUE(
      onlyError(edit(vrrp, "  protocol: VRRP3\n", "  protocol: VRRP3\n  interval_ms: 1005\n"),
                "heartbeat.interval_ms",
                "interval_ms 1005 is not a multiple of 10 ms (VRRP3 carries 12-bit centiseconds, "
                "RFC 5798 §5.2.7)"));
  std::string slow = edit(vrrp, "  protocol: VRRP3\n",
                          "  protocol: VRRP3\n  interval_ms: 40960\n  failover_limit_ms: 200000\n");
  EXPECT_TRUE(onlyError(slow, "heartbeat.interval_ms", "interval_ms 40960 above 40950"));
  EXPECT_TRUE(valid(edit(slow, "40960", "40950")));
}

TEST(Heartbeat, Vrrp2IntervalIsSeconds) {
  std::string vrrp = base(kKey, "  protocol: VRRP2\n  interval_ms: 1500\n");
  EXPECT_TRUE(onlyError(vrrp, "heartbeat.interval_ms",
                        "is not a multiple of 1000 ms (VRRP2 carries 8-bit seconds"));
  EXPECT_TRUE(valid(edit(vrrp, "1500", "2000")));
}

TEST(Heartbeat, DeadCountAtLeastOne) {
  EXPECT_TRUE(
      onlyError(hb("  dead_count: 0\n"), "heartbeat.dead_count", "dead_count 0 outside 1..255"));
  EXPECT_TRUE(valid(hb("  dead_count: 1\n")));
}

TEST(Heartbeat, DetectionStrictlyBelowFailoverLimit) {
  EXPECT_TRUE(onlyError(hb("  interval_ms: 4000\n"), "heartbeat.interval_ms",
                        "failure detection interval_ms × dead_count = 4000 × 3 = 12000 ms is not "
                        "below failover_limit_ms 10000"));
  // Equal is not below.
  EXPECT_TRUE(onlyError(hb("  interval_ms: 2500\n  dead_count: 4\n  failover_limit_ms: 10000\n"),
                        "heartbeat.failover_limit_ms",
                        "= 2500 × 4 = 10000 ms is not below failover_limit_ms 10000"));
  EXPECT_TRUE(valid(hb("  interval_ms: 2499\n  dead_count: 4\n  failover_limit_ms: 10000\n")));
  // No overflow with huge values.
  EXPECT_TRUE(hasError(load(hb("  interval_ms: 4294967295\n  dead_count: 255\n")),
                       "heartbeat.interval_ms", "= 4294967295 × 255 = 1095216660225 ms"));
}

TEST(Heartbeat, Links) {
  std::string none = edit(edit(edit(kBase, kLink, ""), kLvs1Addr, ""), kLvs2Addr, "");
  EXPECT_TRUE(onlyError(none, "heartbeat.link", "at least one heartbeat link is required"));
  std::string dup = base(kLink, kLink + "  link { name: \"lan\" interface: \"eth1\" }\n");
  EXPECT_TRUE(
      onlyError(dup, "heartbeat.link[1].name", "duplicate link 'lan' (first defined at 11:10)"));
  EXPECT_TRUE(onlyError(base(" interface: \"eth0\" }\n  key", " }\n  key"),
                        "heartbeat.link[0].interface", "interface is required"));
  EXPECT_TRUE(onlyError(base("interface: \"eth0\" }\n  key", "interface: \"eth0/1\" }\n  key"),
                        "heartbeat.link[0].interface", "invalid interface name 'eth0/1'"));
  EXPECT_TRUE(
      onlyError(base("interface: \"eth0\" }\n  key", "interface: \"a-very-long-ifname\" }\n  key"),
                "heartbeat.link[0].interface", "invalid interface name"));
}

TEST(Heartbeat, PortReplayRealtimeDscp) {
  EXPECT_TRUE(onlyError(hb("  port: 0\n"), "heartbeat.port", "port 0 outside 1..65535"));
  EXPECT_TRUE(onlyError(hb("  port: 65536\n"), "heartbeat.port", "port 65536 outside 1..65535"));
  EXPECT_TRUE(valid(hb("  port: 65535\n")));
  EXPECT_TRUE(onlyError(hb("  replay_window_ms: 0\n"), "heartbeat.replay_window_ms",
                        "replay_window_ms 0 outside 100..600000"));
  EXPECT_TRUE(
      onlyError(hb("  replay_window_ms: 3600000\n"), "heartbeat.replay_window_ms", "outside"));
  EXPECT_TRUE(valid(hb("  replay_window_ms: 30000\n")));
  EXPECT_TRUE(
      onlyError(hb("  realtime_priority: 100\n"), "heartbeat.realtime_priority", "outside 0..99"));
  EXPECT_TRUE(valid(hb("  realtime_priority: 50\n")));
  EXPECT_TRUE(onlyError(hb("  dscp: 64\n"), "heartbeat.dscp", "dscp 64 outside 0..63"));
}

TEST(Heartbeat, NativeNeedsAKey) {
  EXPECT_TRUE(onlyError(base(kKey, ""), "heartbeat.key",
                        "protocol NATIVE needs at least one key (HMAC-SHA256 secret)"));
}

TEST(Heartbeat, KeyIdsUnique) {
  std::string two =
      hb("  key { id: 1 secret_hex: \"ffeeddccbbaa99887766554433221100\" }\n  send_key_id: 1\n");
  EXPECT_TRUE(onlyError(two, "heartbeat.key[1].id", "duplicate key id 1 (first defined at 12:9)"));
  EXPECT_TRUE(onlyError(base("id: 1 secret_hex", "secret_hex"), "heartbeat.key[0].id",
                        "key id is required"));
}

TEST(Heartbeat, SecretFormat) {
  EXPECT_TRUE(onlyError(base("00112233445566778899aabbccddeeff", "0011223344556677"),
                        "heartbeat.key[0].secret_hex", "got 16 characters"));
  EXPECT_TRUE(
      onlyError(base("00112233445566778899aabbccddeeff", "00112233445566778899aabbccddeefg"),
                "heartbeat.key[0].secret_hex", "with non-hex ones"));
  EXPECT_TRUE(
      onlyError(base("00112233445566778899aabbccddeeff", "00112233445566778899aabbccddeeff0"),
                "heartbeat.key[0].secret_hex", "an even count"));
  EXPECT_TRUE(onlyError(base("00112233445566778899aabbccddeeff", std::string(130, 'a')),
                        "heartbeat.key[0].secret_hex", "got 130 characters"));
  EXPECT_TRUE(valid(base("00112233445566778899aabbccddeeff", std::string(128, 'A'))));
  EXPECT_TRUE(valid(
      base("secret_hex: \"00112233445566778899aabbccddeeff\"", "secret_file: \"/etc/lvsd/key1\"")));
  EXPECT_TRUE(onlyError(
      base("secret_hex: \"00112233445566778899aabbccddeeff\"", "secret_file: \"etc/key1\""),
      "heartbeat.key[0].secret_file", "is not an absolute path"));
  EXPECT_TRUE(onlyError(base(" secret_hex: \"00112233445566778899aabbccddeeff\"", ""),
                        "heartbeat.key[0].secret_hex", "exactly one of secret_hex or secret_file"));
  EXPECT_TRUE(onlyError(base("00112233445566778899aabbccddeeff\"",
                             "00112233445566778899aabbccddeeff\" secret_file: \"/k\""),
                        "heartbeat.key[0].secret_file",
                        "exactly one of secret_hex or secret_file"));
}

TEST(Heartbeat, SendKeyIdNamesAKey) {
  EXPECT_TRUE(
      onlyError(hb("  send_key_id: 2\n"), "heartbeat.send_key_id", "send_key_id 2 names no key"));
  EXPECT_TRUE(valid(hb("  send_key_id: 1\n")));
  const std::string key2 = "  key { id: 2 secret_hex: \"ffeeddccbbaa99887766554433221100\" }\n";
  EXPECT_TRUE(onlyError(hb(key2), "heartbeat.send_key_id",
                        "send_key_id is required when there are 2 keys"));
  EXPECT_TRUE(valid(hb(key2 + "  send_key_id: 2\n")));
}

TEST(Heartbeat, KeysOnlyForNative) {
  EXPECT_TRUE(onlyError(
      hb("  protocol: VRRP3\n"), "heartbeat.key",
      "keys are used only by protocol NATIVE; VRRP3 advertisements are not authenticated"));
  EXPECT_TRUE(hasError(load(hb("  protocol: VRRP3\n  send_key_id: 1\n")), "heartbeat.send_key_id",
                       "only by protocol NATIVE"));
  EXPECT_TRUE(onlyError(hb("  vrrp_unicast: true\n"), "heartbeat.vrrp_unicast",
                        "applies only to protocols VRRP3 and VRRP2"));
  EXPECT_TRUE(valid(base(kKey, "  protocol: VRRP3\n  vrrp_unicast: true\n")));
}

// ---- instances

TEST(Instances, NamesUnique) {
  std::string two = withExtra("instance { name: \"VI_1\" vrid: 52 }\n");
  EXPECT_TRUE(
      onlyError(two, "instance[1].name", "duplicate instance 'VI_1' (first defined at 15:3)"));
  EXPECT_TRUE(onlyError(base("name: \"VI_1\"", "name: \"\""), "instance[0].name",
                        "instance name is required"));
}

TEST(Instances, VridRequiredInRangeUniquePerLink) {
  EXPECT_TRUE(onlyError(base("  vrid: 51\n", ""), "instance[0].vrid", "vrid is required (1..255)"));
  EXPECT_TRUE(onlyError(base("vrid: 51", "vrid: 0"), "instance[0].vrid", "vrid 0 outside 1..255"));
  EXPECT_TRUE(
      onlyError(base("vrid: 51", "vrid: 256"), "instance[0].vrid", "vrid 256 outside 1..255"));
  EXPECT_TRUE(valid(base("vrid: 51", "vrid: 255")));
  EXPECT_TRUE(onlyError(withExtra("instance { name: \"VI_2\" vrid: 51 }\n"), "instance[1].vrid",
                        "vrid 51 is already used by instance 'VI_1' on link 'lan'"));
  // The same vrid on different links is fine.
  std::string t = edit(twoLinks(), "  vrid: 51\n", "  vrid: 51\n  link: \"lan\"\n") +
                  "instance { name: \"VI_2\" vrid: 51 link: \"wan\" }\n";
  EXPECT_TRUE(valid(t));
}

TEST(Instances, PriorityOverrides) {
  EXPECT_TRUE(valid(inst("  priority { director: \"lvs2\" value: 200 }\n")));
  EXPECT_TRUE(onlyError(inst("  priority { director: \"dir3\" value: 200 }\n"),
                        "instance[0].priority[0].director", "unknown director 'dir3'"));
  EXPECT_TRUE(onlyError(inst("  priority { director: \"lvs2\" value: 0 }\n"),
                        "instance[0].priority[0].value", "value 0 outside 1..255"));
  EXPECT_TRUE(onlyError(inst("  priority { director: \"lvs2\" value: 256 }\n"),
                        "instance[0].priority[0].value", "value 256 outside 1..255"));
  EXPECT_TRUE(onlyError(inst("  priority { director: \"lvs2\" }\n"),
                        "instance[0].priority[0].value", "value is required"));
  EXPECT_TRUE(onlyError(inst("  priority { value: 20 }\n"), "instance[0].priority[0].director",
                        "director is required"));
  EXPECT_TRUE(onlyError(inst("  priority { director: \"lvs2\" value: 20 }\n  priority { director: "
                             "\"lvs2\" value: 30 }\n"),
                        "instance[0].priority[1].director",
                        "priority for director 'lvs2' given twice"));
}

TEST(Instances, AtMostOneAddressOwner) {
  EXPECT_TRUE(valid(inst("  priority { director: \"lvs1\" value: 255 }\n")));
  EXPECT_TRUE(onlyError(inst("  priority { director: \"lvs1\" value: 255 }\n  priority { director: "
                             "\"lvs2\" value: 255 }\n"),
                        "instance[0].priority",
                        "directors 'lvs1' and 'lvs2' both have priority 255 in instance 'VI_1'"));
}

TEST(Instances, PreemptDelayNeedsPreempt) {
  EXPECT_TRUE(valid(inst("  preempt_delay_ms: 5000\n")));
  EXPECT_TRUE(valid(inst("  preempt: false\n")));
  EXPECT_TRUE(onlyError(inst("  preempt: false\n  preempt_delay_ms: 5000\n"),
                        "instance[0].preempt_delay_ms",
                        "preempt_delay_ms 5000 without preempt (preempt is false)"));
  EXPECT_TRUE(onlyError(inst("  preempt_delay_ms: 3600001\n"), "instance[0].preempt_delay_ms",
                        "outside 0..3600000"));
}

TEST(Instances, ReferencesExist) {
  EXPECT_TRUE(onlyError(base("vip_group: \"web\"\n}", "vip_group: \"wab\"\n}"),
                        "instance[0].vip_group[0]", "unknown vip group 'wab'"));
  EXPECT_TRUE(onlyError(inst("  vip_group: \"web\"\n"), "instance[0].vip_group[1]",
                        "vip group 'web' listed twice"));
  EXPECT_TRUE(
      onlyError(inst("  track: \"uplink\"\n"), "instance[0].track[0]", "unknown tracker 'uplink'"));
  std::string tracked =
      inst("  track: \"uplink\"\n") + "tracker { name: \"uplink\" interface { name: \"eth1\" } }\n";
  EXPECT_TRUE(valid(tracked));
  EXPECT_TRUE(onlyError(
      edit(tracked, "  track: \"uplink\"\n", "  track: \"uplink\"\n  track: \"uplink\"\n"),
      "instance[0].track[1]", "tracker 'uplink' listed twice"));
  EXPECT_TRUE(
      onlyError(inst("  link: \"wan\"\n"), "instance[0].link[0]", "unknown heartbeat link 'wan'"));
  EXPECT_TRUE(onlyError(inst("  link: \"lan\"\n  link: \"lan\"\n"), "instance[0].link[1]",
                        "link 'lan' listed twice"));
}

TEST(Instances, AVipGroupHasOneHolder) {
  EXPECT_TRUE(onlyError(withExtra("instance { name: \"VI_2\" vrid: 52 vip_group: \"web\" }\n"),
                        "instance[1].vip_group[0]",
                        "vip group 'web' is already held by instance 'VI_1'"));
}

TEST(Instances, VrrpNeedsExactlyOneLink) {
  std::string vrrp = edit(twoLinks(), kKey, "  protocol: VRRP3\n");
  EXPECT_TRUE(
      onlyError(vrrp, "instance[0].link",
                "protocol VRRP3 needs exactly one link per instance (has 2: 'lan', 'wan')"));
  EXPECT_TRUE(valid(edit(vrrp, "  vrid: 51\n", "  vrid: 51\n  link: \"wan\"\n")));
  // NATIVE uses every link.
  EXPECT_TRUE(valid(twoLinks()));
}

TEST(Instances, VrrpCarriesOneFamily) {
  std::string vrrp =
      base(kKey, "  protocol: VRRP3\n") +
      "vip_group { name: \"v6\" vip { address: \"2001:db8::10/64\" interface: \"eth0\" } }\n";
  vrrp = edit(vrrp, "  vip_group: \"web\"\n", "  vip_group: \"web\"\n  vip_group: \"v6\"\n");
  EXPECT_TRUE(onlyError(vrrp, "instance[0].vip_group[1]",
                        "VRRP3 instance on IPv4 link 'lan' cannot carry IPv6 VIP 2001:db8::10"));
  // NATIVE instances may mix.
  EXPECT_TRUE(valid(edit(vrrp, "  protocol: VRRP3\n", kKey)));
}

TEST(Instances, IntervalOverride) {
  EXPECT_TRUE(valid(inst("  interval_ms: 500\n")));
  EXPECT_TRUE(onlyError(inst("  interval_ms: 5000\n"), "instance[0].interval_ms",
                        "failure detection interval_ms × dead_count = 5000 × 3 = 15000 ms is not "
                        "below failover_limit_ms 10000"));
  std::string vrrp = edit(inst("  interval_ms: 105\n"), kKey, "  protocol: VRRP3\n");
  EXPECT_TRUE(onlyError(vrrp, "instance[0].interval_ms", "not a multiple of 10 ms"));
}

TEST(Instances, NotifyProgramsAreAbsolute) {
  EXPECT_TRUE(valid(
      inst("  notify { on_master: \"/usr/local/bin/became-master\" on_master: \"--flag\" }\n")));
  EXPECT_TRUE(onlyError(inst("  notify { on_master: \"became-master\" }\n"),
                        "instance[0].notify.on_master[0]",
                        "program 'became-master' is not an absolute path"));
}

TEST(Instances, SingleDirectorNeedsNoHeartbeat) {
  std::string single =
      edit(edit(edit(kBase, "director {\n  name: \"lvs2\"\n" + kLvs2Addr + "}\n", ""),
                "heartbeat {\n" + kLink + kKey + "}\n", ""),
           kLvs1Addr, "");
  EXPECT_TRUE(valid(single));
  EXPECT_TRUE(onlyError(edit(single, "  vrid: 51\n", "  vrid: 51\n  link: \"lan\"\n"),
                        "instance[0].link[0]", "unknown heartbeat link 'lan'"));
  // vrids stay unique without links.
  auto r = load(single + "instance { name: \"VI_2\" vrid: 51 }\n");
  ASSERT_EQ(r.errors.size(), 1u) << dump(r);
  EXPECT_EQ(r.errors[0].field, "instance[1].vrid");
  EXPECT_EQ(r.errors[0].message, "vrid 51 is already used by instance 'VI_1'");
}

// ---- sync groups

TEST(SyncGroups, Rules) {
  std::string two = withExtra(
      "instance { name: \"VI_2\" vrid: 52 }\n"
      "sync_group { name: \"g\" instance: \"VI_1\" instance: \"VI_2\" }\n");
  EXPECT_TRUE(valid(two));
  EXPECT_TRUE(onlyError(withExtra("sync_group { name: \"g\" instance: \"VI_1\" }\n"),
                        "sync_group[0].instance",
                        "a sync group needs at least two instances (has 1)"));
  EXPECT_TRUE(onlyError(edit(two, "instance: \"VI_2\" }", "instance: \"VI_3\" }"),
                        "sync_group[0].instance[1]", "unknown instance 'VI_3'"));
  EXPECT_TRUE(onlyError(edit(two, "instance: \"VI_2\" }", "instance: \"VI_1\" }"),
                        "sync_group[0].instance[1]", "instance 'VI_1' listed twice"));
  std::string again = two +
                      "instance { name: \"VI_3\" vrid: 53 }\n"
                      "sync_group { name: \"h\" instance: \"VI_3\" instance: \"VI_2\" }\n";
  EXPECT_TRUE(onlyError(again, "sync_group[1].instance[1]",
                        "instance 'VI_2' is already in sync group 'g'"));
  std::string dupName = edit(again, "name: \"h\"", "name: \"g\"");
  EXPECT_TRUE(hasError(load(dupName), "sync_group[1].name", "duplicate sync group 'g'"));
  EXPECT_TRUE(hasError(load(edit(two, "name: \"g\" ", "")), "sync_group[0].name",
                       "sync group name is required"));
}

}  // namespace
}  // namespace lvsd::config
