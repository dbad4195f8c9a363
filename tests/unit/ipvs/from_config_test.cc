#include "ipvs/from_config.h"

#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

namespace lvsd::ipvs {
namespace {

config::Config parse(const std::string& text) {
  config::Config c;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &c)) << text;
  return c;
}

TEST(FromConfig, DrServiceWithPersistenceAndDefaults) {
  auto cfg = parse(R"(
    virtual_service {
      address: "192.168.0.10:80" scheduler: "wrr" forwarding: DR
      persistence { timeout_s: 300 netmask: "255.255.255.0" }
      real_server { address: "192.168.0.101:80" weight: 5 }
      real_server { address: "222.117.155.123" weight: 10 upper_threshold: 100 lower_threshold: 10 }
    })");
  auto t = tableFromConfig(cfg);
  ASSERT_TRUE(t.ok()) << t.error().what();
  ASSERT_EQ(t->size(), 1u);
  const auto& vs = (*t)[0];
  EXPECT_EQ(vs.service.key.toString(), "tcp 192.168.0.10:80");
  EXPECT_EQ(vs.service.scheduler, "wrr");
  EXPECT_EQ(vs.service.flags, kSvcPersistent);
  EXPECT_EQ(vs.service.timeout, 300u);
  EXPECT_EQ(vs.service.netmask, 0xffffff00u);
  ASSERT_EQ(vs.destinations.size(), 2u);
  EXPECT_EQ(vs.destinations[0].weight, 5u);
  EXPECT_EQ(vs.destinations[0].forwarding, Forwarding::kRoute);
  EXPECT_EQ(vs.destinations[1].endpoint().toString(), "222.117.155.123:80");  // port from service
  EXPECT_EQ(vs.destinations[1].upperThreshold, 100u);
  EXPECT_EQ(vs.destinations[1].lowerThreshold, 10u);
}

TEST(FromConfig, NatUdpIpv6FwmarkTunnelAndFlags) {
  auto cfg = parse(R"(
    virtual_service {
      protocol: UDP address: "[2001:db8::10]:53" scheduler: "sh" sched_flag: SH_PORT
      sched_flag: SH_FALLBACK one_packet: true forwarding: NAT
      persistence { timeout_s: 60 netmask: "64" engine: "sip" }
      real_server { address: "[2001:db8::1]:5353" }
      real_server { address: "10.0.0.2:53" forwarding: TUN tunnel { type: GUE port: 6080 csum: REMCSUM } }
    }
    virtual_service {
      fwmark: 7 family: INET scheduler: "mh" sched_flag: MH_PORT forwarding: TUN
      tunnel { type: GRE csum: CSUM }
      real_server { address: "10.0.0.5" }
      real_server { address: "10.0.0.6" forwarding: LOCAL }
    })");
  auto t = tableFromConfig(cfg);
  ASSERT_TRUE(t.ok()) << t.error().what();
  const auto& u = (*t)[0];
  EXPECT_EQ(u.service.key.toString(), "udp [2001:db8::10]:53");
  EXPECT_EQ(u.service.flags, kSvcPersistent | kSvcOnePacket | kSvcShPort | kSvcShFallback);
  EXPECT_EQ(u.service.netmask, 64u);
  EXPECT_EQ(u.service.pe, "sip");
  EXPECT_EQ(u.destinations[0].forwarding, Forwarding::kMasq);
  EXPECT_EQ(u.destinations[1].forwarding, Forwarding::kTunnel);
  EXPECT_EQ(u.destinations[1].tunnel, (Tunnel{TunnelType::kGue, 6080, kTunnelRemCsum}));
  const auto& m = (*t)[1];
  EXPECT_TRUE(m.service.key == ServiceKey::mark(7, Family::kV4));
  EXPECT_EQ(m.service.flags, kSvcMhPort);
  EXPECT_EQ(m.service.netmask, 0xffffffffu);
  EXPECT_EQ(m.destinations[0].port, 0);  // fwmark: no port
  EXPECT_EQ(m.destinations[0].tunnel, (Tunnel{TunnelType::kGre, 0, kTunnelCsum}));
  EXPECT_EQ(m.destinations[1].forwarding, Forwarding::kLocal);
}

TEST(FromConfig, ErrorsNameTheField) {
  auto bad = tableFromConfig(parse(R"(
    virtual_service { name: "web" address: "192.0.2.1:80"
      real_server { address: "10.0.0.1:80" } real_server { address: "10.0.0.300:80" } })"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().what().rfind("virtual_service web: real_server[1]: address: ", 0), 0u)
      << bad.error().what();
  auto mask = tableFromConfig(parse(R"(
    virtual_service { address: "192.0.2.1:80" persistence { timeout_s: 1 netmask: "255.0.255.0" } })"));
  ASSERT_FALSE(mask.ok());
  EXPECT_NE(mask.error().what().find("persistence.netmask"), std::string::npos);
  EXPECT_FALSE(tableFromConfig(parse(R"(virtual_service { address: "nope" })")).ok());
}

TEST(FromConfig, OwnershipAndTimeouts) {
  auto cfg = parse(R"(ipvs { ownership: WHOLE_TABLE tcp_timeout_s: 900 udp_timeout_s: 30 })");
  EXPECT_TRUE(ownershipFromConfig(cfg).wholeTable);
  EXPECT_EQ(timeoutsFromConfig(cfg), (Timeouts{900, 0, 30}));
  EXPECT_FALSE(ownershipFromConfig(parse("")).wholeTable);
}

TEST(FromConfig, PresentAsConfiguredMatchesKeyAndWeight) {
  auto configured = tableFromConfig(parse(R"(
    virtual_service { name: "web" address: "192.0.2.1:80" scheduler: "wrr"
      real_server { address: "10.0.0.1:80" weight: 5 }
      real_server { address: "10.0.0.2:80" weight: 10 }
      real_server { address: "10.0.0.3" weight: 1 } }
    virtual_service { name: "dns" protocol: UDP address: "192.0.2.1:53"
      real_server { address: "10.0.0.1:53" } })"));
  ASSERT_TRUE(configured.ok());
  // A table a predecessor left: rs1 as configured, rs2 drained to weight 0
  // (or inhibited), rs3 (no port: the service's) as configured, a server
  // the config does not have, and no dns service at all.
  Table kernel = *configured;
  kernel.pop_back();
  auto& web = kernel[0].destinations;
  web[1].weight = 0;
  Destination foreign = web[0];
  foreign.address = *IpAddress::parse("10.0.0.9");
  web.push_back(foreign);
  auto present = presentAsConfigured(*configured, kernel);
  auto key = (*configured)[0].service.key;
  ASSERT_EQ(present.size(), 2u);
  EXPECT_EQ(present[0], (Present{key, *Endpoint::parse("10.0.0.1:80")}));
  EXPECT_EQ(present[1], (Present{key, *Endpoint::parse("10.0.0.3:80")}));

  // Nothing in the kernel, nothing present; everything as configured, all.
  EXPECT_TRUE(presentAsConfigured(*configured, {}).empty());
  EXPECT_EQ(presentAsConfigured(*configured, *configured).size(), 4u);
  // A different port is another destination.
  kernel = *configured;
  kernel[0].destinations[0].port = 8080;
  EXPECT_EQ(presentAsConfigured(*configured, kernel).size(), 3u);
}

TEST(FromConfig, AdoptingEverythingPresentPlansNothing) {
  // The property the restart relies on: when every configured server is
  // present as configured, the desired table (all of them up) is the kernel's.
  auto configured = tableFromConfig(parse(R"(
    virtual_service { address: "192.0.2.1:80" scheduler: "wrr"
      real_server { address: "10.0.0.1:80" weight: 5 }
      real_server { address: "10.0.0.2:80" weight: 10 } })"));
  ASSERT_TRUE(configured.ok());
  ASSERT_EQ(presentAsConfigured(*configured, *configured).size(), 2u);
  EXPECT_TRUE(plan(*configured, *configured, Ownership{}).empty());
}

}  // namespace
}  // namespace lvsd::ipvs
