#include "sync/convert.h"

#include <gtest/gtest.h>

#include "sync/pacing.h"

namespace lvsd::sync {
namespace {

IpAddress ip(const char* s) { return IpAddress::parse(s).value(); }

ipvs::Destination dest(const char* addr, uint16_t port, ipvs::Forwarding f) {
  ipvs::Destination d;
  d.address = ip(addr);
  d.port = port;
  d.forwarding = f;
  return d;
}

// The table the tests resolve against:
//   tcp 192.0.2.10:80   -> 10.0.0.5:80 DR, 10.0.0.6:8080 NAT (persistent)
//   udp 192.0.2.10:53   -> 10.0.0.7:53 TUN
//   tcp 192.0.2.20:0    -> 10.0.0.8:0 DR (all ports)
//   fwmark 7            -> 10.0.0.9:0 DR
//   fwmark 9 inet6      -> [2001:db8:1::9]:0 NAT
ipvs::Table table() {
  ipvs::Table t;
  ipvs::VirtualServer a;
  a.service.key = ipvs::ServiceKey::inet(ipvs::Protocol::kTcp, Endpoint(ip("192.0.2.10"), 80));
  a.destinations = {dest("10.0.0.5", 80, ipvs::Forwarding::kRoute),
                    dest("10.0.0.6", 8080, ipvs::Forwarding::kMasq)};
  t.push_back(a);
  ipvs::VirtualServer b;
  b.service.key = ipvs::ServiceKey::inet(ipvs::Protocol::kUdp, Endpoint(ip("192.0.2.10"), 53));
  b.destinations = {dest("10.0.0.7", 53, ipvs::Forwarding::kTunnel)};
  t.push_back(b);
  ipvs::VirtualServer c;
  c.service.key = ipvs::ServiceKey::inet(ipvs::Protocol::kTcp, Endpoint(ip("192.0.2.20"), 0));
  c.destinations = {dest("10.0.0.8", 0, ipvs::Forwarding::kRoute)};
  t.push_back(c);
  ipvs::VirtualServer d;
  d.service.key = ipvs::ServiceKey::mark(7, Family::kV4);
  d.destinations = {dest("10.0.0.9", 0, ipvs::Forwarding::kRoute)};
  t.push_back(d);
  ipvs::VirtualServer e;
  e.service.key = ipvs::ServiceKey::mark(9, Family::kV6);
  e.destinations = {dest("2001:db8:1::9", 0, ipvs::Forwarding::kMasq)};
  t.push_back(e);
  return t;
}

TEST(SyncConvert, NamesProtocolsAndStatesAsTheKernelPrintsThem) {
  EXPECT_EQ(protocolNumber("TCP"), 6);
  EXPECT_EQ(protocolNumber("UDP"), 17);
  EXPECT_EQ(protocolNumber("SCTP"), 132);
  EXPECT_EQ(protocolNumber("IP"), 0);
  EXPECT_EQ(protocolNumber("IP_6"), 6);
  EXPECT_EQ(protocolNumber("IP_50"), std::nullopt);  // ESP: no state to sync
  EXPECT_EQ(protocolNumber("IP_06"), std::nullopt);
  EXPECT_EQ(protocolNumber("IP_"), std::nullopt);
  EXPECT_EQ(protocolNumber("ICMP"), std::nullopt);
  EXPECT_EQ(protocolNumber("tcp"), std::nullopt);

  EXPECT_EQ(stateNumber(6, false, "NONE"), 0);
  EXPECT_EQ(stateNumber(6, false, "ESTABLISHED"), 1);
  EXPECT_EQ(stateNumber(6, false, "SYN_RECV"), 3);
  EXPECT_EQ(stateNumber(6, false, "TIME_WAIT"), 5);
  EXPECT_EQ(stateNumber(6, false, "SYNACK"), 10);
  EXPECT_EQ(stateNumber(6, false, "UDP"), std::nullopt);
  EXPECT_EQ(stateNumber(17, false, "UDP"), 0);
  EXPECT_EQ(stateNumber(132, false, "ESTABLISHED"), 8);
  EXPECT_EQ(stateNumber(132, false, "C-ECHOED"), 7);
  EXPECT_EQ(stateNumber(132, false, "CLOSED"), 13);
  EXPECT_EQ(stateNumber(6, true, "NONE"), 0);
  EXPECT_EQ(stateNumber(6, true, "ASSURED"), 1);
  EXPECT_EQ(stateNumber(0, true, "ASSURED"), 1);
  EXPECT_EQ(stateNumber(6, true, "ESTABLISHED"), std::nullopt);
  EXPECT_EQ(stateNumber(0, false, "NONE"), std::nullopt);
}

// Parses proc lines (after a header) and converts them.
ConvertResult convert(const std::string& lines) {
  auto t = ipvs::parseConnections(
      "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n" + lines);
  return convertTable(t, ServiceIndex(table()));
}

TEST(SyncConvert, EstablishedTcpConnectionKeepsItsRemainingTimeout) {
  auto r = convert("TCP C0000201 9C40 C000020A 0050 0A000005 0050 ESTABLISHED     847\n");
  ASSERT_EQ(r.entries.size(), 1u);
  const auto& c = r.entries[0];
  EXPECT_EQ(c.protocol, wire::kProtoTcp);
  EXPECT_EQ(c.caddr, ip("192.0.2.1"));
  EXPECT_EQ(c.cport, 40000);
  EXPECT_EQ(c.vaddr, ip("192.0.2.10"));
  EXPECT_EQ(c.vport, 80);
  EXPECT_EQ(c.daddr, ip("10.0.0.5"));
  EXPECT_EQ(c.dport, 80);
  EXPECT_EQ(c.state, 1);
  EXPECT_EQ(c.timeout, 847u);
  EXPECT_EQ(c.flags, wire::kFwdRoute);  // established: active
  EXPECT_EQ(c.fwmark, 0u);
  EXPECT_EQ(r.connections, 1u);
  EXPECT_EQ(r.unresolved, 0u);

  // The same connection, byte for byte as the backup receives it.
  auto m = wire::encodeMessage(0, r.entries);
  ASSERT_TRUE(m.ok());
  std::vector<uint8_t> expected = {
      0x00, 0x00, 0x00, 0x2c, 0x01, 0x01, 0x00, 0x00,  // header
      0x00, 0x06, 0x00, 0x24, 0x00, 0x00, 0x00, 0x03,  // TCP, size 36, DROUTE
      0x00, 0x01, 0x9c, 0x40, 0x00, 0x50, 0x00, 0x50,  // ESTABLISHED, 40000, 80, 80
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x4f,  // fwmark 0, timeout 847
      0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x0a, 0x0a, 0x00, 0x00, 0x05};
  EXPECT_EQ(*m, expected);
}

TEST(SyncConvert, NonEstablishedAndUdpConnectionsAreInactive) {
  auto r = convert(
      "TCP C0000201 9C41 C000020A 0050 0A000006 1F90 SYN_RECV         57\n"
      "UDP C0000201 9C42 C000020A 0035 0A000007 0035 UDP             299\n"
      "TCP C0000201 9C43 C000020A 0050 0A000005 0050 TIME_WAIT         0\n");
  ASSERT_EQ(r.entries.size(), 3u);
  EXPECT_EQ(r.entries[0].flags, wire::kFwdMasq | wire::kFlagInactive);
  EXPECT_EQ(r.entries[0].state, 3);
  EXPECT_EQ(r.entries[1].protocol, wire::kProtoUdp);
  EXPECT_EQ(r.entries[1].flags, wire::kFwdTunnel | wire::kFlagInactive);
  EXPECT_EQ(r.entries[1].state, 0);
  EXPECT_EQ(r.entries[2].timeout, 1u);  // about to expire: never 0 (= backup's default)
}

TEST(SyncConvert, PersistenceTemplatesBecomeTemplates) {
  auto r = convert(
      "TCP C0000200 0000 C000020A 0050 0A000006 1F90 NONE            283\n"
      "TCP C0000201 0000 C0000214 0000 0A000008 0000 ASSURED         100\n");
  ASSERT_EQ(r.entries.size(), 2u);
  EXPECT_EQ(r.templates, 2u);
  const auto& t = r.entries[0];
  EXPECT_TRUE(t.isTemplate());
  EXPECT_EQ(t.flags, wire::kFlagTemplate | wire::kFlagInactive | wire::kFwdMasq);
  EXPECT_EQ(t.state, 0);
  EXPECT_EQ(t.timeout, 283u);
  EXPECT_EQ(t.caddr, ip("192.0.2.0"));
  // Port-0 ("all ports") service: template vport 0.
  EXPECT_EQ(r.entries[1].state, 1);
  EXPECT_EQ(r.entries[1].flags, wire::kFlagTemplate | wire::kFlagInactive | wire::kFwdRoute);
  EXPECT_EQ(r.unresolved, 0u);
}

TEST(SyncConvert, ConnectionOfAnAllPortsServiceFindsIt) {
  auto r = convert("TCP C0000201 9C40 C0000214 01BB 0A000008 01BB ESTABLISHED     900\n");
  ASSERT_EQ(r.entries.size(), 1u);
  EXPECT_EQ(r.entries[0].flags, wire::kFwdRoute);
  EXPECT_EQ(r.unresolved, 0u);
}

TEST(SyncConvert, FirewallMarkTemplatesAndConnectionsCarryTheMark) {
  auto r = convert(
      // Template of fwmark 7: protocol IP, vaddr = the mark.
      "IP  C0000201 0000 00000007 0000 0A000009 0050 NONE            300\n"
      // A connection of that service (its real server is only in fwmark 7).
      "TCP C0000201 9C40 C000020B 01BB 0A000009 01BB ESTABLISHED     900\n"
      // IPv6 template of fwmark 9, as %pI6 prints it.
      "IP  2001:0db8:0000:0000:0000:0000:0000:0001 0000 0000:0009:0000:0000:0000:0000:0000:0000 "
      "0000 2001:0db8:0001:0000:0000:0000:0000:0009 0050 ASSURED         120\n");
  ASSERT_EQ(r.entries.size(), 3u);
  EXPECT_EQ(r.entries[0].protocol, wire::kProtoIp);
  EXPECT_EQ(r.entries[0].fwmark, 7u);
  EXPECT_EQ(r.entries[0].flags, wire::kFlagTemplate | wire::kFlagInactive | wire::kFwdRoute);
  EXPECT_EQ(r.entries[1].fwmark, 7u);
  EXPECT_EQ(r.entries[1].flags, wire::kFwdRoute);
  EXPECT_EQ(r.entries[2].family(), Family::kV6);
  EXPECT_EQ(r.entries[2].fwmark, 9u);
  EXPECT_EQ(r.entries[2].flags, wire::kFlagTemplate | wire::kFlagInactive | wire::kFwdMasq);
  EXPECT_EQ(r.entries[2].caddr, ip("2001:db8::1"));
  EXPECT_EQ(r.unresolved, 0u);
}

TEST(SyncConvert, UnknownServicesAreSentAsDirectRoutingAndCounted) {
  auto r = convert("TCP C0000201 9C40 C6336401 0050 0A0000FF 0050 ESTABLISHED     900\n");
  ASSERT_EQ(r.entries.size(), 1u);
  EXPECT_EQ(r.entries[0].flags, wire::kFwdRoute);
  EXPECT_EQ(r.unresolved, 1u);
  // A known service but a destination it does not hold.
  r = convert("TCP C0000201 9C40 C000020A 0050 0A0000FF 0050 ESTABLISHED     900\n");
  EXPECT_EQ(r.unresolved, 1u);
}

TEST(SyncConvert, PersistenceEngineDataTravels) {
  auto r = convert(
      "UDP C0000201 0000 C000020A 0035 0A000007 0035 NONE            180 sip call-42@host\n");
  ASSERT_EQ(r.entries.size(), 1u);
  EXPECT_EQ(r.entries[0].peName, "sip");
  EXPECT_EQ(r.entries[0].peData, "call-42@host");
  auto m = wire::encodeMessage(0, r.entries);
  ASSERT_TRUE(m.ok());
  auto d = wire::decodeMessage(*m);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->conns, r.entries);
}

TEST(SyncConvert, SkipsWhatCannotBeSynchronisedAndSaysWhy) {
  auto r = convert(
      "ICMP C0000201 0001 C000020A 0000 0A000005 0000 ERR!            10\n"  // protocol
      "IP  C0000201 9C40 00000007 0000 0A000009 0050 NONE            300\n"   // IP but no template
      "TCP C0000201 9C40 C000020A 0050 0A000005 0050 BOGUS           900\n"   // state
      "TCP C0000201 9C40 C000020A 0050 2001:0db8:0000:0000:0000:0000:0000:0005 0050 "
      "ESTABLISHED 900\n"                                                     // family
      "TCP C0000201 0000 C000020A 0050 0A000005 0050 NONE 300 averyveryverylongname x\n"
      "garbage\n");
  EXPECT_TRUE(r.entries.empty());
  EXPECT_EQ(r.skipped[size_t(Skip::kProtocol)], 2u);
  EXPECT_EQ(r.skipped[size_t(Skip::kState)], 1u);
  EXPECT_EQ(r.skipped[size_t(Skip::kFamily)], 1u);
  EXPECT_EQ(r.skipped[size_t(Skip::kPersistence)], 1u);
  EXPECT_EQ(r.skippedTotal(), 5u);
  EXPECT_EQ(r.malformed, 1u);
  EXPECT_STREQ(skipName(Skip::kFamily), "family");
}

TEST(SyncConvert, EntriesAgeByWhenTheyWereRead) {
  ipvs::ConnectionTable t;
  for (uint32_t e : {100u, 100u, 100u, 100u, 3u}) {
    ipvs::Connection c;
    c.expires = e;
    t.connections.push_back(c);
  }
  // Read over 10 s: line i of 5 was printed (4-i)/5 of it before the end.
  ageByReadTime(t, std::chrono::seconds(10));
  std::vector<uint32_t> got;
  for (const auto& c : t.connections) got.push_back(c.expires);
  EXPECT_EQ(got, (std::vector<uint32_t>{92, 94, 96, 98, 3}));
  ageByReadTime(t, std::chrono::milliseconds(400));  // under half a second: no change
  EXPECT_EQ(t.connections[0].expires, 92u);
  ipvs::ConnectionTable small;
  small.connections.resize(2);
  small.connections[0].expires = 2;
  ageByReadTime(small, std::chrono::seconds(20));  // 10 s old, 2 s left: 0, not wrapped
  EXPECT_EQ(small.connections[0].expires, 0u);
  ageByReadTime(small, std::chrono::seconds(-1));
  EXPECT_EQ(small.connections[1].expires, 0u);
}

TEST(SyncConvert, ProcTextToDatagramsEndToEnd) {
  std::string text;
  char line[160];
  for (int i = 0; i < 500; ++i) {
    std::snprintf(line, sizeof line, "TCP %08X %04X C000020A 0050 0A000005 0050 ESTABLISHED %7d\n",
                  0xc6120000 + i, 1024 + i, 100 + i);
    text += line;
    std::snprintf(line, sizeof line, "TCP %08X 0000 C000020A 0050 0A000006 1F90 NONE        %7d\n",
                  0xc6120000 + i, 200 + i);
    text += line;
  }
  auto r = convert(text);
  ASSERT_EQ(r.entries.size(), 1000u);
  EXPECT_EQ(r.templates, 500u);
  auto dgrams = packAll(5, resyncDatagramLimit(0, Family::kV4, 1500), r.entries);
  EXPECT_EQ(dgrams.size(), 25u);  // 40 per datagram
  size_t i = 0;
  for (const auto& d : dgrams) {
    auto m = wire::decodeMessage(d);
    ASSERT_TRUE(m.ok());
    for (const auto& c : m->conns) {
      const auto& want = r.entries[i++];
      EXPECT_EQ(c, want);
    }
  }
  EXPECT_EQ(i, 1000u);
  EXPECT_EQ(r.entries[1].timeout, 200u);
  EXPECT_EQ(r.entries[998].timeout, 599u);
}

}  // namespace
}  // namespace lvsd::sync
