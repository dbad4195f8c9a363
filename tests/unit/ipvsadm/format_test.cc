// Output details the lab session cannot reach (huge counters, truncation,
// sort order of adversarial inputs), checked against ipvsadm's printf
// semantics and glibc's own qsort.

#include "cli/ipvsadm/format.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <cstdlib>
#include <random>

#include "cli/ipvsadm/command.h"
#include "ipvsadm_fakes.h"

namespace lvsd::ipvsadm {
namespace {

TEST(IpvsadmFormat, LargeNumbersAbbreviateAt100Million) {
  EXPECT_EQ(largeNumber(0, 0), "        0");
  EXPECT_EQ(largeNumber(99999999, 0), " 99999999");
  EXPECT_EQ(largeNumber(100000000, 0), "  100000K");
  EXPECT_EQ(largeNumber(999999999, 0), "  999999K");
  EXPECT_EQ(largeNumber(1000000000, 0), "    1000M");
  EXPECT_EQ(largeNumber(99999999999ULL, 0), "   99999M");
  EXPECT_EQ(largeNumber(100000000000ULL, 0), "     100G");
  EXPECT_EQ(largeNumber(99999999999999ULL, 0), "   99999G");
  EXPECT_EQ(largeNumber(100000000000000ULL, 0), "     100T");
  EXPECT_EQ(largeNumber(18446744073709551615ULL, 0), "18446744T");
}

TEST(IpvsadmFormat, ExactNumbersWiden) {
  EXPECT_EQ(largeNumber(5, kFmtExact), "        5");
  EXPECT_EQ(largeNumber(12345678, kFmtExact), " 12345678");
  EXPECT_EQ(largeNumber(123456789, kFmtExact), " 123456789");
  EXPECT_EQ(largeNumber(18446744073709551615ULL, kFmtExact), " 18446744073709551615");
}

ipvs::ServiceEntry tcpService(const char* ep, const char* sched = "wlc") {
  ipvs::ServiceEntry e;
  e.service.key = ipvs::ServiceKey::inet(ipvs::Protocol::kTcp, *Endpoint::parse(ep));
  e.service.scheduler = sched;
  return e;
}

ipvs::DestinationEntry dest(const char* ep, ipvs::Forwarding f = ipvs::Forwarding::kRoute) {
  ipvs::DestinationEntry e;
  auto p = Endpoint::parse(ep);
  e.dest.address = p->address();
  e.dest.port = p->port();
  e.dest.forwarding = f;
  return e;
}

TEST(IpvsadmFormat, StatsAndRatesOfAServiceAndDestination) {
  testing::LabResolver r;
  auto se = tcpService("10.0.0.102:80");
  se.stats = {123456789012ULL, 2, 3, 4000000000ULL, 5, 6, 7, 8, 9, 10};
  auto d = dest("10.1.0.101:80");
  // A destination's packet/connection counters are read through 32-bit
  // getters by ipvsadm 1.31: only the low 32 bits show; byte counts are whole.
  d.stats = {(1ULL << 32) + 7, 1, 2, (1ULL << 33), 4, 5, 6, 7, (1ULL << 32) + 8, 9};
  std::string stats = serviceBlock(se, {d}, kFmtNumeric | kFmtStats, r);
  EXPECT_EQ(stats,
            "TCP  10.0.0.102:80                    123G        2        3    4000M        5\n"
            "  -> 10.1.0.101:80                       7        1        2    8589M        4\n");
  std::string rate = serviceBlock(se, {d}, kFmtNumeric | kFmtRate, r);
  EXPECT_EQ(rate,
            "TCP  10.0.0.102:80                       6        7        8        9       10\n"
            "  -> 10.1.0.101:80                       5        6        7        8        9\n");
  std::string exact = serviceBlock(se, {d}, kFmtNumeric | kFmtStats | kFmtExact, r);
  EXPECT_EQ(exact,
            "TCP  10.0.0.102:80                123456789012        2        3 4000000000        5\n"
            "  -> 10.1.0.101:80                       7        1        2 8589934592        4\n");
}

TEST(IpvsadmFormat, LongNamesAreCutLikeIpvsadmCutsThem) {
  struct LongNames final : NameResolver {
    std::optional<IpAddress> hostAddress(const std::string&) const override { return std::nullopt; }
    std::optional<std::string> hostName(const IpAddress&) const override {
      return std::string(70, 'h');
    }
    std::optional<uint16_t> servicePort(const std::string&, uint16_t) const override { return std::nullopt; }
    std::optional<std::string> serviceName(uint16_t, uint16_t) const override { return std::nullopt; }
  } r;
  auto se = tcpService("10.0.0.102:80");
  std::string out = serviceBlock(se, {dest("10.1.0.101:80")}, 0, r);
  // Service column: "%-4s %s" cut to 33; destination: 28; both from a 59-char name.
  EXPECT_EQ(out, "TCP  " + std::string(28, 'h') + " wlc\n  -> " + std::string(28, 'h') +
                     " Route   1      0          0         \n");
  std::string rule = serviceBlock(se, {dest("10.1.0.101:80")}, kFmtRule, r);
  EXPECT_EQ(rule, "-A -t " + std::string(59, 'h') + " -s wlc\n-a -t " + std::string(59, 'h') +
                      " -r " + std::string(59, 'h') + " -g -w 1\n");
}

TEST(IpvsadmFormat, UnknownForwardingAndFwmarkAsSignedInt) {
  testing::LabResolver r;
  ipvs::ServiceEntry se;
  se.service.key = ipvs::ServiceKey::mark(3000000000u, Family::kV4);
  se.service.scheduler = "rr";
  auto d = dest("10.1.0.101:0", static_cast<ipvs::Forwarding>(4));
  EXPECT_EQ(serviceBlock(se, {d}, kFmtNumeric, r),
            "FWM  -1294967296 rr\n  -> 10.1.0.101:0                 (null)  1      0          0         \n");
  EXPECT_EQ(serviceBlock(se, {d}, kFmtNumeric | kFmtRule, r),
            "-A -f -1294967296 -s rr\n-a -f -1294967296 -r 10.1.0.101:0 (null) -w 1\n");
}

TEST(IpvsadmFormat, ConnectionLines) {
  testing::LabResolver r;
  auto t = ipvs::parseConnections(
      "header\n"
      "TCP 0A00000B C350 0A000064 0050 0A010065 0050 ESTABLISHED     899\n"
      "UDP 0A00000B 13C4 0A000066 13C4 0A010065 13C4 UDP             125 sip 3a9b4@host\n");
  ASSERT_EQ(t.connections.size(), 2u);
  EXPECT_EQ(connectionLine(t.connections[0], kFmtNumeric, r),
            "TCP 14:59  ESTABLISHED 10.0.0.11:50000    10.0.0.100:80      10.1.0.101:80\n");
  EXPECT_EQ(connectionLine(t.connections[0], 0, r),
            "TCP 14:59  ESTABLISHED client:50000       vip:http           rs1:http\n");
  EXPECT_EQ(connectionLine(t.connections[1], kFmtNumeric | kFmtPersistentConn, r),
            "UDP 02:05  UDP         10.0.0.11:5060     10.0.0.102:5060    10.1.0.101:5060  sip                3a9b4@host\n");
  EXPECT_EQ(connectionsHeader(kFmtPersistentConn),
            "IPVS connection entries\n"
            "pro expire state       source             virtual            destination        pe name          pe_data\n");
}

TEST(IpvsadmFormat, TimeoutsAndDaemons) {
  EXPECT_EQ(timeoutLine({900, 120, 300}), "Timeout (tcp tcpfin udp): 900 120 300\n");
  ipvs::SyncDaemon m;
  m.state = ipvs::SyncState::kMaster;
  m.interface = "eth0";
  m.syncId = 7;
  ipvs::SyncDaemon b = m;
  b.state = ipvs::SyncState::kBackup;
  b.interface = "eth1";
  b.maxLen = 1400;
  b.group = *IpAddress::parse("239.1.2.3");
  b.port = 9000;
  b.ttl = 3;
  EXPECT_EQ(daemonLines({m, b}),
            "master sync daemon (mcast=eth0, syncid=7)\n"
            "backup sync daemon (mcast=eth1, syncid=7, maxlen=1400, group=239.1.2.3, port=9000, ttl=3)\n");
  ipvs::SyncDaemon six = m;
  six.group = *IpAddress::parse("ff02::81");
  EXPECT_EQ(daemonLines({six}), "master sync daemon (mcast=eth0, syncid=7, group=ff02::81)\n");
}

// ipvsadm sorts with qsort and a comparator that subtracts unsigned values
// into an int, which is not transitive. The front end must produce glibc's
// exact order: compare with the real qsort on adversarial inputs.
struct Raw {
  uint32_t fwmark;
  uint16_t af, protocol;
  uint32_t addr[4];
  uint16_t port;
  int id;
};

int rawCmp(const void* pa, const void* pb) {
  const Raw* s1 = static_cast<const Raw*>(pa);
  const Raw* s2 = static_cast<const Raw*>(pb);
  int r = static_cast<int>(s1->fwmark - s2->fwmark);
  if (r) return r;
  r = s1->af - s2->af;
  if (r) return r;
  r = s1->protocol - s2->protocol;
  if (r) return r;
  if (s1->af == 10) {
    for (int i = 0; !r && i < 4; ++i) r = static_cast<int>(s1->addr[i] - s2->addr[i]);
  } else {
    r = static_cast<int>(s1->addr[0] - s2->addr[0]);
  }
  if (r) return r;
  return s1->port - s2->port;
}

TEST(IpvsadmFormat, ServiceOrderIsGlibcQsortOrder) {
  std::mt19937 rng(7);
  const uint32_t marks[] = {0, 0, 0, 1, 2, 0x7fffffff, 0x80000000u, 0xffffffffu};
  const uint32_t addrs[] = {0x0a000001, 0x0a000002, 0x7f000001, 0x80000001, 0xc0000201, 0xfe000000};
  for (int round = 0; round < 300; ++round) {
    size_t n = 1 + rng() % 40;
    std::vector<Raw> raw;
    std::vector<ipvs::ServiceEntry> mine;
    for (size_t i = 0; i < n; ++i) {
      Raw x{};
      x.id = static_cast<int>(i);
      ipvs::ServiceEntry e;
      x.fwmark = marks[rng() % 8];
      bool v6 = rng() % 3 == 0;
      x.af = v6 ? 10 : 2;
      if (x.fwmark) {
        e.service.key = ipvs::ServiceKey::mark(x.fwmark, v6 ? Family::kV6 : Family::kV4);
      } else {
        x.protocol = std::array<uint16_t, 3>{6, 17, 132}[rng() % 3];
        x.port = static_cast<uint16_t>(rng() % 3 * 30000);
        uint8_t b[16] = {};
        for (int w = 0; w < (v6 ? 4 : 1); ++w) {
          x.addr[w] = addrs[rng() % 6];
          uint32_t be = htonl(x.addr[w]);
          std::memcpy(b + 4 * w, &be, 4);
        }
        e.service.key.family = v6 ? Family::kV6 : Family::kV4;
        e.service.key.protocol = static_cast<ipvs::Protocol>(x.protocol);
        e.service.key.address = IpAddress::fromBytes(e.service.key.family, b);
        e.service.key.port = x.port;
      }
      e.service.timeout = static_cast<uint32_t>(i);  // carries the id through the sort
      raw.push_back(x);
      mine.push_back(e);
    }
    std::qsort(raw.data(), raw.size(), sizeof(Raw), rawCmp);
    sortServices(mine);
    for (size_t i = 0; i < n; ++i) {
      ASSERT_EQ(static_cast<int>(mine[i].service.timeout), raw[i].id) << "round " << round;
    }
  }
}

}  // namespace
}  // namespace lvsd::ipvsadm
