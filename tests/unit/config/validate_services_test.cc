// Virtual services, real servers, sorry server, quorum.
#include <gtest/gtest.h>

#include "config_test_util.h"

namespace lvsd::config {
namespace {

using namespace testing;

const std::string kAddr = "  address: \"192.0.2.10:80\"\n";
const std::string kSched = "  scheduler: \"wrr\"\n";
const std::string kRs1 = "  real_server { address: \"192.0.2.101:80\" weight: 5 }\n";
const std::string kRs2 = "  real_server { address: \"192.0.2.102:80\" weight: 10 }\n";

// The base with extra service fields.
std::string svc(const std::string& extra) {
  return base(kSched, kSched + extra);
}
// A second service appended to the base.
std::string second(const std::string& body) {
  return withExtra("virtual_service {\n" + body + "}\n");
}
// The base's service keyed by fwmark 1 instead of its address.
std::string fwmark(const std::string& extra = "") {
  return base(kAddr, "  fwmark: 1\n" + extra);
}

TEST(Services, ExactlyOneKey) {
  EXPECT_TRUE(onlyError(base(kAddr, kAddr + "  fwmark: 1\n"), "virtual_service[0].fwmark",
                        "a virtual service has either address or fwmark, not both"));
  EXPECT_TRUE(onlyError(base(kAddr, ""), "virtual_service[0]",
                        "a virtual service needs address (ip:port) or fwmark"));
  EXPECT_TRUE(valid(fwmark()));
  EXPECT_TRUE(onlyError(base(kAddr, "  fwmark: 0\n"), "virtual_service[0].fwmark",
                        "fwmark 0 outside 1..4294967295"));
}

TEST(Services, AddressIsIpPort) {
  EXPECT_TRUE(onlyError(base(kAddr, "  address: \"192.0.2.10\"\n"), "virtual_service[0].address",
                        "missing port in '192.0.2.10'"));
  EXPECT_TRUE(onlyError(base(kAddr, "  address: \"192.0.2.10:0\"\n"), "virtual_service[0].address",
                        "port 0 outside 1..65535"));
  EXPECT_TRUE(onlyError(base(kAddr, "  address: \"192.0.2.10:65536\"\n"),
                        "virtual_service[0].address", "invalid port '65536'"));
  EXPECT_TRUE(onlyError(base(kAddr, "  address: \"0.0.0.0:80\"\n"), "virtual_service[0].address",
                        "is not a unicast address"));
  // An IPv6 service with IPv6 real servers.
  std::string v6 = edit(edit(base(kAddr, "  address: \"[2001:db8::10]:80\"\n"), "192.0.2.101:80",
                             "[2001:db8::101]:80"),
                        "192.0.2.102:80", "[2001:db8::102]:80");
  EXPECT_TRUE(valid(v6));
}

TEST(Services, FamilyAndProtocolFitTheKey) {
  EXPECT_TRUE(onlyError(fwmark("  protocol: UDP\n"), "virtual_service[0].protocol",
                        "protocol does not apply to fwmark services"));
  EXPECT_TRUE(onlyError(svc("  family: INET6\n"), "virtual_service[0].family",
                        "family INET6 contradicts address 192.0.2.10:80"));
  EXPECT_TRUE(valid(svc("  family: INET\n")));
}

TEST(Services, DuplicateKey) {
  std::string dup = second(kAddr + "  real_server { address: \"192.0.2.103:80\" }\n");
  auto r = load(dup);
  EXPECT_TRUE(onlyError(dup, "virtual_service[1].address",
                        "duplicate service tcp/192.0.2.10:80 (first defined at 28:3)"));
  // Spelling does not hide a duplicate; another protocol is another service.
  EXPECT_TRUE(onlyError(second("  address: \"192.0.2.10:080\"\n"), "virtual_service[1].address",
                        "duplicate service tcp/192.0.2.10:80"));
  EXPECT_TRUE(valid(second("  protocol: UDP\n" + kAddr)));
  std::string fw = fwmark() + "virtual_service {\n  fwmark: 1\n}\n";
  EXPECT_TRUE(onlyError(fw, "virtual_service[1].fwmark",
                        "duplicate service fwmark/1/inet (first defined at 28:3)"));
  EXPECT_TRUE(valid(fwmark() + "virtual_service {\n  fwmark: 1\n  family: INET6\n}\n"));
}

TEST(Services, NamesUnique) {
  std::string named = svc("  name: \"web\"\n");
  EXPECT_TRUE(valid(named));
  EXPECT_TRUE(onlyError(
      named + "virtual_service {\n  name: \"web\"\n  address: \"192.0.2.11:80\"\n}\n",
      "virtual_service[1].name", "duplicate virtual service name 'web' (first defined at 30:3)"));
  // A name that is another service's default name.
  EXPECT_TRUE(onlyError(second("  name: \"tcp/192.0.2.10:80\"\n  address: \"192.0.2.11:80\"\n"),
                        "virtual_service[1].name",
                        "duplicate virtual service name 'tcp/192.0.2.10:80'"));
  EXPECT_TRUE(onlyError(svc("  name: \"my web\"\n"), "virtual_service[0].name",
                        "service name 'my web' is not"));
}

TEST(Services, Scheduler) {
  for (const char* s :
       {"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "mh", "fo", "ovf"})
    EXPECT_TRUE(valid(base("\"wrr\"", std::string("\"") + s + "\""))) << s;
  EXPECT_TRUE(onlyError(
      base("\"wrr\"", "\"xyz\""), "virtual_service[0].scheduler",
      "unknown scheduler 'xyz' (expected one of rr wrr lc wlc lblc lblcr dh sh sed nq mh fo ovf)"));
  EXPECT_TRUE(onlyError(base("\"wrr\"", "\"WRR\""), "virtual_service[0].scheduler",
                        "unknown scheduler 'WRR'"));
}

TEST(Services, SchedFlags) {
  EXPECT_TRUE(valid(base("\"wrr\"", "\"sh\"\n  sched_flag: SH_PORT\n  sched_flag: SH_FALLBACK")));
  EXPECT_TRUE(valid(base("\"wrr\"", "\"mh\"\n  sched_flag: MH_PORT")));
  EXPECT_TRUE(onlyError(svc("  sched_flag: SH_PORT\n"), "virtual_service[0].sched_flag[0]",
                        "SH_PORT needs scheduler sh (not 'wrr')"));
  EXPECT_TRUE(onlyError(base("\"wrr\"", "\"sh\"\n  sched_flag: MH_PORT"),
                        "virtual_service[0].sched_flag[0]",
                        "MH_PORT needs scheduler mh (not 'sh')"));
  EXPECT_TRUE(onlyError(base("\"wrr\"", "\"sh\"\n  sched_flag: SH_PORT\n  sched_flag: SH_PORT"),
                        "virtual_service[0].sched_flag[1]", "SH_PORT listed twice"));
}

TEST(Services, Persistence) {
  EXPECT_TRUE(valid(svc("  persistence { timeout_s: 300 netmask: \"255.255.255.0\" }\n")));
  EXPECT_TRUE(onlyError(svc("  persistence { }\n"), "virtual_service[0].persistence.timeout_s",
                        "timeout_s is required"));
  EXPECT_TRUE(onlyError(svc("  persistence { timeout_s: 0 }\n"),
                        "virtual_service[0].persistence.timeout_s",
                        "timeout_s 0 outside 1..2147483647"));
  EXPECT_TRUE(onlyError(svc("  persistence { timeout_s: 2147483648 }\n"),
                        "virtual_service[0].persistence.timeout_s", "outside 1..2147483647"));
  EXPECT_TRUE(onlyError(svc("  persistence { timeout_s: 300 netmask: \"255.0.255.0\" }\n"),
                        "virtual_service[0].persistence.netmask",
                        "netmask '255.0.255.0' is not contiguous"));
  EXPECT_TRUE(onlyError(svc("  persistence { timeout_s: 300 netmask: \"24\" }\n"),
                        "virtual_service[0].persistence.netmask", "invalid netmask '24'"));
  std::string v6 = edit(edit(base(kAddr, "  address: \"[2001:db8::10]:80\"\n"), "192.0.2.101:80",
                             "[2001:db8::101]:80"),
                        "192.0.2.102:80", "[2001:db8::102]:80");
  EXPECT_TRUE(
      valid(edit(v6, kSched, kSched + "  persistence { timeout_s: 300 netmask: \"64\" }\n")));
  EXPECT_TRUE(
      onlyError(edit(v6, kSched, kSched + "  persistence { timeout_s: 300 netmask: \"129\" }\n"),
                "virtual_service[0].persistence.netmask",
                "netmask '129' is not an IPv6 prefix length 1..128"));
  EXPECT_TRUE(
      onlyError(edit(v6, kSched, kSched + "  persistence { timeout_s: 300 netmask: \"ffff::\" }\n"),
                "virtual_service[0].persistence.netmask", "not an IPv6 prefix length"));
}

TEST(Services, PersistenceEngine) {
  std::string udp = base(kAddr, "  protocol: UDP\n  address: \"192.0.2.10:5060\"\n");
  udp = edit(edit(udp, "192.0.2.101:80", "192.0.2.101:5060"), "192.0.2.102:80", "192.0.2.102:5060");
  EXPECT_TRUE(
      valid(edit(udp, kSched, kSched + "  persistence { timeout_s: 60 engine: \"sip\" }\n")));
  EXPECT_TRUE(onlyError(svc("  persistence { timeout_s: 60 engine: \"sip\" }\n"),
                        "virtual_service[0].persistence.engine",
                        "persistence engine 'sip' needs protocol UDP"));
  EXPECT_TRUE(onlyError(
      edit(udp, kSched, kSched + "  persistence { timeout_s: 60 engine: \"h323\" }\n"),
      "virtual_service[0].persistence.engine", "unknown persistence engine 'h323' (only 'sip')"));
}

TEST(Services, OnePacketOnlyForUdp) {
  EXPECT_TRUE(onlyError(svc("  one_packet: true\n"), "virtual_service[0].one_packet",
                        "one_packet applies only to UDP services"));
  std::string udp = base(kAddr, "  protocol: UDP\n" + kAddr);
  EXPECT_TRUE(valid(edit(udp, kSched, kSched + "  one_packet: true\n")));
  EXPECT_TRUE(valid(fwmark("  one_packet: true\n")));
}

TEST(Services, Tunnel) {
  std::string tun = svc("  forwarding: TUN\n  tunnel { type: GUE port: 6080 }\n");
  EXPECT_TRUE(valid(tun));
  EXPECT_TRUE(onlyError(svc("  tunnel { type: IPIP }\n"), "virtual_service[0].tunnel",
                        "tunnel applies only to forwarding TUN (this service uses DR)"));
  EXPECT_TRUE(onlyError(edit(tun, " port: 6080", ""), "virtual_service[0].tunnel.port",
                        "tunnel type GUE needs port"));
  EXPECT_TRUE(onlyError(edit(tun, "type: GUE", "type: IPIP"), "virtual_service[0].tunnel.port",
                        "port applies only to tunnel type GUE"));
  EXPECT_TRUE(onlyError(edit(tun, "type: GUE port: 6080", "type: IPIP csum: CSUM"),
                        "virtual_service[0].tunnel.csum",
                        "csum applies only to GUE and GRE tunnels"));
  EXPECT_TRUE(onlyError(edit(tun, "type: GUE port: 6080", "type: GRE csum: REMCSUM"),
                        "virtual_service[0].tunnel.csum", "REMCSUM applies only to GUE tunnels"));
  EXPECT_TRUE(valid(edit(tun, "type: GUE port: 6080", "type: GRE csum: CSUM")));
  EXPECT_TRUE(onlyError(base("weight: 5 }", "weight: 5 tunnel { type: IPIP } }"),
                        "virtual_service[0].real_server[0].tunnel",
                        "tunnel applies only to forwarding TUN (this real server uses DR)"));
  EXPECT_TRUE(valid(base("weight: 5 }", "weight: 5 forwarding: TUN tunnel { type: IPIP } }")));
}

TEST(RealServers, AddressParses) {
  EXPECT_TRUE(onlyError(base(kRs1, "  real_server { address: \"192.0.2.1011:80\" }\n"),
                        "virtual_service[0].real_server[0].address",
                        "invalid IP address '192.0.2.1011'"));
  EXPECT_TRUE(onlyError(base(kRs1, "  real_server { weight: 5 }\n"),
                        "virtual_service[0].real_server[0].address", "address is required"));
  EXPECT_TRUE(onlyError(base(kRs1, "  real_server { address: \"224.1.1.1:80\" }\n"),
                        "virtual_service[0].real_server[0].address",
                        "real server 224.1.1.1 is not a unicast address"));
}

TEST(RealServers, FamilyMatchesTheService) {
  EXPECT_TRUE(onlyError(base(kRs1, "  real_server { address: \"[2001:db8::101]:80\" }\n"),
                        "virtual_service[0].real_server[0].address",
                        "real server 2001:db8::101 is IPv6 but service tcp/192.0.2.10:80 is IPv4"));
  auto r = load(fwmark("  family: INET6\n"));
  EXPECT_EQ(r.errors.size(), 2u) << dump(r);
  EXPECT_TRUE(hasError(r, "virtual_service[0].real_server[0].address",
                       "real server 192.0.2.101 is IPv4 but service fwmark/1/inet6 is IPv6"));
  EXPECT_TRUE(
      hasError(r, "virtual_service[0].real_server[1].address", "real server 192.0.2.102 is IPv4"));
}

TEST(RealServers, PortRules) {
  EXPECT_TRUE(onlyError(
      base(kRs1, "  real_server { address: \"192.0.2.101\" }\n"),
      "virtual_service[0].real_server[0].address",
      "real server '192.0.2.101' needs a port (ip:port; only fwmark services may omit it)"));
  // DR (the default) and TUN keep the virtual port.
  EXPECT_TRUE(onlyError(
      base(kRs1, "  real_server { address: \"192.0.2.101:8080\" }\n"),
      "virtual_service[0].real_server[0].address",
      "real server port 8080 differs from the virtual port 80; DR cannot rewrite ports (use NAT)"));
  EXPECT_TRUE(
      onlyError(base(kRs1, "  real_server { address: \"192.0.2.101:8080\" forwarding: TUN }\n"),
                "virtual_service[0].real_server[0].address", "TUN cannot rewrite ports"));
  EXPECT_TRUE(
      valid(base(kRs1, "  real_server { address: \"192.0.2.101:8080\" forwarding: NAT }\n")));
  EXPECT_TRUE(valid(edit(svc("  forwarding: NAT\n"), "192.0.2.101:80", "192.0.2.101:8080")));
  // fwmark services: the port may be omitted (0) or anything.
  EXPECT_TRUE(valid(edit(fwmark(), "192.0.2.101:80", "192.0.2.101")));
  EXPECT_TRUE(valid(edit(fwmark(), "192.0.2.101:80", "192.0.2.101:443")));
}

TEST(RealServers, Weight) {
  EXPECT_TRUE(onlyError(base("weight: 5", "weight: 65536"),
                        "virtual_service[0].real_server[0].weight",
                        "weight 65536 outside 0..65535"));
  EXPECT_TRUE(onlyError(base("weight: 5", "weight: 4294967295"),
                        "virtual_service[0].real_server[0].weight",
                        "weight 4294967295 outside 0..65535"));
  EXPECT_TRUE(valid(base("weight: 5", "weight: 0")));
  EXPECT_TRUE(valid(base("weight: 5", "weight: 65535")));
  auto r = load(base("weight: 5", "weight: 4294967296"));
  ASSERT_EQ(r.errors.size(), 1u) << "uint32 overflow is a syntax error";
}

TEST(RealServers, Thresholds) {
  EXPECT_TRUE(valid(base("weight: 5", "weight: 5 upper_threshold: 100 lower_threshold: 50")));
  EXPECT_TRUE(valid(base("weight: 5", "weight: 5 upper_threshold: 100 lower_threshold: 100")));
  EXPECT_TRUE(onlyError(base("weight: 5", "weight: 5 upper_threshold: 100 lower_threshold: 150"),
                        "virtual_service[0].real_server[0].lower_threshold",
                        "lower_threshold 150 above upper_threshold 100"));
  EXPECT_TRUE(onlyError(base("weight: 5", "weight: 5 lower_threshold: 10"),
                        "virtual_service[0].real_server[0].lower_threshold",
                        "lower_threshold 10 without upper_threshold"));
}

TEST(RealServers, NoDuplicates) {
  EXPECT_TRUE(onlyError(base(kRs2, "  real_server { address: \"192.0.2.101:080\" }\n"),
                        "virtual_service[0].real_server[1].address",
                        "duplicate real server 192.0.2.101:80 (first defined at 30:17)"));
}

TEST(RealServers, AgentPort) {
  EXPECT_TRUE(onlyError(base("weight: 5", "weight: 5 agent_port: 65536"),
                        "virtual_service[0].real_server[0].agent_port", "outside 0..65535"));
}

TEST(SorryServer, Rules) {
  EXPECT_TRUE(valid(svc("  sorry_server { address: \"192.0.2.200:80\" }\n")));
  EXPECT_TRUE(
      onlyError(svc("  sorry_server { address: \"[2001:db8::200]:80\" }\n"),
                "virtual_service[0].sorry_server.address",
                "sorry server 2001:db8::200 is IPv6 but service tcp/192.0.2.10:80 is IPv4"));
  EXPECT_TRUE(onlyError(svc("  sorry_server { address: \"192.0.2.200:8080\" }\n"),
                        "virtual_service[0].sorry_server.address",
                        "sorry server port 8080 differs from the virtual port 80"));
  EXPECT_TRUE(valid(svc("  sorry_server { address: \"192.0.2.200:8080\" forwarding: NAT }\n")));
  EXPECT_TRUE(onlyError(svc("  sorry_server { address: \"nope\" }\n"),
                        "virtual_service[0].sorry_server.address", "invalid IP address 'nope'"));
  EXPECT_TRUE(onlyError(svc("  sorry_server { address: \"192.0.2.200:80\" weight: 70000 }\n"),
                        "virtual_service[0].sorry_server.weight", "weight 70000 outside 0..65535"));
}

TEST(Quorum, PositiveAndAchievable) {
  EXPECT_TRUE(valid(svc("  quorum { min_weight: 15 }\n")));
  EXPECT_TRUE(onlyError(svc("  quorum { }\n"), "virtual_service[0].quorum.min_weight",
                        "min_weight is required and must be positive"));
  EXPECT_TRUE(onlyError(svc("  quorum { min_weight: 16 }\n"),
                        "virtual_service[0].quorum.min_weight",
                        "quorum min_weight 16 + hysteresis 0 = 16 cannot be reached: the real "
                        "servers' weights sum to 15"));
  EXPECT_TRUE(onlyError(svc("  quorum { min_weight: 10 hysteresis: 6 }\n"),
                        "virtual_service[0].quorum.hysteresis", "= 16 cannot be reached"));
  EXPECT_TRUE(valid(svc("  quorum { min_weight: 10 hysteresis: 5 }\n")));
}

TEST(Services, DrainTimeoutAndInstance) {
  EXPECT_TRUE(onlyError(svc("  drain_timeout_s: 604801\n"), "virtual_service[0].drain_timeout_s",
                        "outside 0..604800"));
  EXPECT_TRUE(valid(svc("  instance: \"VI_1\"\n")));
  EXPECT_TRUE(onlyError(svc("  instance: \"VI_9\"\n"), "virtual_service[0].instance",
                        "unknown instance 'VI_9'"));
}

TEST(Services, Feedback) {
  EXPECT_TRUE(valid(svc("  feedback { policy: PAPER_2 }\n")));
  EXPECT_TRUE(onlyError(svc("  feedback { ewma_alpha: 0 }\n"),
                        "virtual_service[0].feedback.ewma_alpha",
                        "ewma_alpha 0 outside 0 < alpha <= 1"));
}

}  // namespace
}  // namespace lvsd::config
