// Every IPVS request checked byte for byte against the layout of
// include/uapi/linux/ip_vs.h, and the decoders against replies laid out the
// way net/netfilter/ipvs/ip_vs_ctl.c fills them (little-endian host).

#include "ipvs/netlink_codec.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace lvsd::ipvs::nl {
namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "expected bytes assume little-endian");

Bytes hex(std::string_view s) {
  Bytes out;
  int hi = -1;
  for (char c : s) {
    int v;
    if (c >= '0' && c <= '9') {
      v = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      v = c - 'a' + 10;
    } else {
      continue;
    }
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<uint8_t>(hi << 4 | v));
      hi = -1;
    }
  }
  EXPECT_EQ(hi, -1) << "odd number of hex digits";
  return out;
}

std::string dump(const Bytes& b) {
  std::string s;
  char buf[4];
  for (size_t i = 0; i < b.size(); ++i) {
    snprintf(buf, sizeof buf, "%02x", b[i]);
    s += buf;
    s += (i % 4 == 3) ? "  " : " ";
  }
  return s;
}

#define EXPECT_BYTES(actual, expectedHex) EXPECT_EQ(dump(actual), dump(hex(expectedHex)))

constexpr uint16_t kFam = 0x1c;

Service tcpService() {
  Service s;
  s.key = ServiceKey::inet(Protocol::kTcp, *Endpoint::parse("192.0.2.1:80"));
  s.scheduler = "wlc";
  return s;
}

Destination dest(const char* ep) {
  Destination d;
  auto e = Endpoint::parse(ep);
  d.address = e->address();
  d.port = e->port();
  return d;
}

Op op(OpKind k, const Service& s, const Destination& d = {}) {
  Op o;
  o.kind = k;
  o.service = s;
  o.dest = d;
  return o;
}

// ---------------------------------------------------------------------------
// Requests

TEST(NetlinkCodec, NewServiceTcpIpv4) {
  Bytes out;
  encodeServiceOp(out, kFam, 1, kFlagRequest | kFlagAck, op(OpKind::kAddService, tcpService()));
  EXPECT_BYTES(out,
               "68000000 1c00 0500 01000000 00000000"  // nlmsghdr: len 104, REQUEST|ACK, seq 1
               "01 01 0000"                            // NEW_SERVICE, version 1
               "5400 0180"                             // nested IPVS_CMD_ATTR_SERVICE, 84 bytes
               "0600 0100 0200 0000"                   // AF = AF_INET
               "0600 0200 0600 0000"                   // PROTOCOL = 6
               "1400 0300 c0000201 00000000 00000000 00000000"  // ADDR (nf_inet_addr)
               "0600 0400 0050 0000"                   // PORT, network order
               "0800 0600 776c6300"                    // SCHED_NAME "wlc"
               "0c00 0700 00000000 ffffffff"           // FLAGS {flags 0, mask ~0}
               "0800 0800 00000000"                    // TIMEOUT 0
               "0800 0900 ffffffff");                  // NETMASK 255.255.255.255
}

TEST(NetlinkCodec, EditServicePersistentIpv6WithEngineAndSchedFlags) {
  Service s;
  s.key = ServiceKey::inet(Protocol::kUdp, *Endpoint::parse("[2001:db8::1]:5060"));
  s.scheduler = "sh";
  s.flags = kSvcPersistent | kSvcShPort | kSvcShFallback | kSvcOnePacket;
  s.timeout = 300;
  s.netmask = 64;
  s.pe = "sip";
  Bytes out;
  encodeServiceOp(out, kFam, 7, kFlagRequest | kFlagAck, op(OpKind::kEditService, s));
  EXPECT_BYTES(out,
               "70000000 1c00 0500 07000000 00000000"
               "02 01 0000"  // SET_SERVICE
               "5c00 0180"
               "0600 0100 0a00 0000"  // AF_INET6
               "0600 0200 1100 0000"  // UDP
               "1400 0300 20010db8 00000000 00000000 00000001"
               "0600 0400 13c4 0000"  // 5060
               "0700 0600 73680000"   // "sh"
               "0800 0b00 73697000"   // PE_NAME "sip"
               "0c00 0700 1d000000 ffffffff"  // persistent|one-packet|sched1|sched2
               "0800 0800 2c010000"   // 300 s
               "0800 0900 40000000"); // IPv6: prefix length 64 as a plain u32
}

TEST(NetlinkCodec, PersistentIpv4NetmaskIsNetworkOrder) {
  Service s = tcpService();
  s.flags = kSvcPersistent;
  s.timeout = 360;
  s.netmask = 0xffffff00;
  Bytes out;
  encodeServiceOp(out, kFam, 2, kFlagRequest, op(OpKind::kAddService, s));
  ASSERT_GE(out.size(), 8u);
  EXPECT_BYTES(Bytes(out.end() - 8, out.end()), "0800 0900 ffffff00");
  EXPECT_EQ(out[6], kFlagRequest);  // no ack asked
}

TEST(NetlinkCodec, DeleteServiceSendsOnlyTheKey) {
  Bytes out;
  encodeServiceOp(out, kFam, 3, kFlagRequest | kFlagAck, op(OpKind::kDeleteService, tcpService()));
  EXPECT_BYTES(out,
               "44000000 1c00 0500 03000000 00000000"
               "03 01 0000"
               "3000 0180"
               "0600 0100 0200 0000"
               "0600 0200 0600 0000"
               "1400 0300 c0000201 00000000 00000000 00000000"
               "0600 0400 0050 0000");
}

TEST(NetlinkCodec, FwmarkServiceKey) {
  Service s;
  s.key = ServiceKey::mark(7, Family::kV6);
  s.scheduler = "rr";
  s.netmask = 128;
  Bytes out;
  encodeServiceOp(out, kFam, 4, kFlagRequest | kFlagAck, op(OpKind::kAddService, s));
  EXPECT_BYTES(out,
               "4c000000 1c00 0500 04000000 00000000"
               "01 01 0000"
               "3800 0180"
               "0600 0100 0a00 0000"
               "0800 0500 07000000"   // FWMARK 7, no protocol/address/port
               "0700 0600 72720000"   // "rr"
               "0c00 0700 00000000 ffffffff"
               "0800 0800 00000000"
               "0800 0900 80000000");
}

TEST(NetlinkCodec, NewDestinationNat) {
  Destination d = dest("10.0.0.5:8080");
  d.forwarding = Forwarding::kMasq;
  d.weight = 5;
  d.upperThreshold = 100;
  d.lowerThreshold = 10;
  Bytes out;
  encodeServiceOp(out, kFam, 9, kFlagRequest | kFlagAck,
                  op(OpKind::kAddDestination, tcpService(), d));
  EXPECT_BYTES(out,
               "8c000000 1c00 0500 09000000 00000000"
               "05 01 0000"  // NEW_DEST
               "3000 0180"   // service key only
               "0600 0100 0200 0000"
               "0600 0200 0600 0000"
               "1400 0300 c0000201 00000000 00000000 00000000"
               "0600 0400 0050 0000"
               "4800 0280"   // nested IPVS_CMD_ATTR_DEST
               "1400 0100 0a000005 00000000 00000000 00000000"  // ADDR
               "0600 0200 1f90 0000"  // PORT 8080
               "0800 0300 00000000"   // FWD_METHOD masq
               "0800 0400 05000000"   // WEIGHT 5
               "0800 0500 64000000"   // U_THRESH 100
               "0800 0600 0a000000"   // L_THRESH 10
               "0600 0b00 0200 0000");  // ADDR_FAMILY
}

TEST(NetlinkCodec, EditDestinationTunnelGueWithChecksum) {
  Destination d = dest("[2001:db8::5]:80");
  d.forwarding = Forwarding::kTunnel;
  d.weight = 0;
  d.tunnel = Tunnel{TunnelType::kGue, 6080, kTunnelCsum};
  Bytes out;
  encodeServiceOp(out, kFam, 10, kFlagRequest | kFlagAck,
                  op(OpKind::kEditDestination, tcpService(), d));
  EXPECT_BYTES(out,
               "a4000000 1c00 0500 0a000000 00000000"
               "06 01 0000"  // SET_DEST
               "3000 0180"
               "0600 0100 0200 0000"
               "0600 0200 0600 0000"
               "1400 0300 c0000201 00000000 00000000 00000000"
               "0600 0400 0050 0000"
               "6000 0280"
               "1400 0100 20010db8 00000000 00000000 00000005"
               "0600 0200 0050 0000"
               "0800 0300 02000000"   // tunnel
               "0800 0400 00000000"   // weight 0
               "0800 0500 00000000"
               "0800 0600 00000000"
               "0600 0b00 0a00 0000"  // AF_INET6 destination on an IPv4 service
               "0500 0d00 01000000"   // TUN_TYPE gue
               "0600 0e00 17c0 0000"  // TUN_PORT 6080, network order
               "0600 0f00 0100 0000");  // TUN_FLAGS csum
}

TEST(NetlinkCodec, DeleteDestinationSendsOnlyItsKey) {
  Destination d = dest("10.0.0.5:80");
  d.weight = 9;  // not sent
  Bytes out;
  encodeServiceOp(out, kFam, 11, kFlagRequest | kFlagAck,
                  op(OpKind::kDeleteDestination, tcpService(), d));
  EXPECT_BYTES(out,
               "6c000000 1c00 0500 0b000000 00000000"
               "07 01 0000"
               "3000 0180"
               "0600 0100 0200 0000"
               "0600 0200 0600 0000"
               "1400 0300 c0000201 00000000 00000000 00000000"
               "0600 0400 0050 0000"
               "2800 0280"
               "1400 0100 0a000005 00000000 00000000 00000000"
               "0600 0200 0050 0000"
               "0600 0b00 0200 0000");
}

TEST(NetlinkCodec, QueriesAndDumps) {
  Bytes out;
  encodeGetInfo(out, kFam, 1);
  EXPECT_BYTES(out, "14000000 1c00 0500 01000000 00000000 0f 01 0000");
  out.clear();
  encodeGetConfig(out, kFam, 2);
  EXPECT_BYTES(out, "14000000 1c00 0500 02000000 00000000 0d 01 0000");
  out.clear();
  encodeDumpServices(out, kFam, 3);
  EXPECT_BYTES(out, "14000000 1c00 0103 03000000 00000000 04 01 0000");  // REQUEST|DUMP
  out.clear();
  encodeDumpDaemons(out, kFam, 4);
  EXPECT_BYTES(out, "14000000 1c00 0103 04000000 00000000 0b 01 0000");
  out.clear();
  encodeFlush(out, kFam, 5);
  EXPECT_BYTES(out, "14000000 1c00 0500 05000000 00000000 11 01 0000");
  out.clear();
  encodeDumpDestinations(out, kFam, 6, ServiceKey::mark(5, Family::kV4));
  EXPECT_BYTES(out,
               "28000000 1c00 0103 06000000 00000000 08 01 0000"
               "1400 0180 0600 0100 0200 0000 0800 0500 05000000");
  out.clear();
  encodeGetService(out, kFam, 7, tcpService().key);
  EXPECT_BYTES(out,
               "44000000 1c00 0500 07000000 00000000 04 01 0000"
               "3000 0180"
               "0600 0100 0200 0000"
               "0600 0200 0600 0000"
               "1400 0300 c0000201 00000000 00000000 00000000"
               "0600 0400 0050 0000");
}

TEST(NetlinkCodec, ZeroAllAndOne) {
  Bytes out;
  encodeZero(out, kFam, 1, nullptr);
  EXPECT_BYTES(out, "14000000 1c00 0500 01000000 00000000 10 01 0000");
  out.clear();
  ServiceKey k = ServiceKey::mark(1, Family::kV4);
  encodeZero(out, kFam, 2, &k);
  EXPECT_BYTES(out,
               "28000000 1c00 0500 02000000 00000000 10 01 0000"
               "1400 0180 0600 0100 0200 0000 0800 0500 01000000");
}

TEST(NetlinkCodec, SetTimeouts) {
  Bytes out;
  encodeSetConfig(out, kFam, 3, Timeouts{900, 120, 300});
  EXPECT_BYTES(out,
               "2c000000 1c00 0500 03000000 00000000 0c 01 0000"
               "0800 0400 84030000"
               "0800 0500 78000000"
               "0800 0600 2c010000");
}

TEST(NetlinkCodec, SyncDaemonStartWithEveryAttributeAndStop) {
  SyncDaemon d;
  d.state = SyncState::kBackup;
  d.interface = "eth0";
  d.syncId = 7;
  d.maxLen = 1400;
  d.port = 8849;
  d.ttl = 2;
  d.group = *IpAddress::parse("239.1.2.3");
  Bytes out;
  encodeNewDaemon(out, kFam, 1, d);
  EXPECT_BYTES(out,
               "54000000 1c00 0500 01000000 00000000 09 01 0000"
               "4000 0380"
               "0800 0100 02000000"           // STATE backup
               "0900 0200 65746830 00000000"  // MCAST_IFN "eth0"
               "0800 0300 07000000"           // SYNC_ID
               "0600 0400 7805 0000"          // SYNC_MAXLEN 1400
               "0600 0700 9122 0000"          // MCAST_PORT 8849 (host order)
               "0500 0800 02000000"           // MCAST_TTL
               "0800 0500 ef010203");         // MCAST_GROUP
  out.clear();
  d.group = *IpAddress::parse("ff02::81");
  d.maxLen = d.port = d.ttl = 0;
  encodeNewDaemon(out, kFam, 2, d);
  EXPECT_BYTES(out,
               "48000000 1c00 0500 02000000 00000000 09 01 0000"
               "3400 0380"
               "0800 0100 02000000"
               "0900 0200 65746830 00000000"
               "0800 0300 07000000"
               "1400 0600 ff020000 00000000 00000000 00000081");  // MCAST_GROUP6
  out.clear();
  encodeDelDaemon(out, kFam, 3, SyncState::kMaster);
  EXPECT_BYTES(out, "20000000 1c00 0500 03000000 00000000 0a 01 0000 0c00 0380 0800 0100 01000000");
}

TEST(NetlinkCodec, GetFamily) {
  EXPECT_BYTES(encodeGetFamily(42, "IPVS"),
               "20000000 1000 0500 2a000000 00000000 03 01 0000 0900 0200 49505653 00000000");
}

TEST(NetlinkCodec, BatchOfMessagesIsConcatenation) {
  Bytes out;
  encodeGetInfo(out, kFam, 1);
  encodeGetInfo(out, kFam, 2);
  auto msgs = splitMessages(out);
  ASSERT_TRUE(msgs.ok());
  ASSERT_EQ(msgs->size(), 2u);
  EXPECT_EQ((*msgs)[0].seq, 1u);
  EXPECT_EQ((*msgs)[1].seq, 2u);
  EXPECT_EQ((*msgs)[1].type, kFam);
}

// ---------------------------------------------------------------------------
// Replies, built the way the kernel builds them (nests without NLA_F_NESTED).

struct Attr {
  uint16_t type;
  Bytes data;
};

Bytes attr(uint16_t type, const Bytes& data) {
  Bytes out(4);
  uint16_t len = static_cast<uint16_t>(4 + data.size());
  std::memcpy(out.data(), &len, 2);
  std::memcpy(out.data() + 2, &type, 2);
  out.insert(out.end(), data.begin(), data.end());
  out.resize((out.size() + 3) & ~size_t{3}, 0);
  return out;
}

template <typename T>
Bytes le(T v) {
  Bytes b(sizeof v);
  std::memcpy(b.data(), &v, sizeof v);
  return b;
}

Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

Bytes stats32(uint32_t base) {
  Bytes b;
  for (uint16_t t = 1; t <= 10; ++t) {
    Bytes one = (t == 4 || t == 5) ? attr(t, le<uint64_t>(base + t)) : attr(t, le<uint32_t>(base + t));
    b.insert(b.end(), one.begin(), one.end());
  }
  return b;
}

Bytes stats64(uint64_t base) {
  Bytes b;
  for (uint16_t t = 1; t <= 10; ++t) {
    Bytes one = attr(t, le<uint64_t>(base + t));
    b.insert(b.end(), one.begin(), one.end());
  }
  return b;
}

TEST(NetlinkCodec, DecodeKernelServiceReply) {
  Bytes addr = hex("c0000201 00000000 00000000 00000000");
  Bytes svc = cat({attr(1, le<uint16_t>(2)), attr(2, le<uint16_t>(6)), attr(3, addr),
                   attr(4, hex("0050")), attr(6, Bytes{'r', 'r', 0}),
                   attr(7, cat({le<uint32_t>(0x3), le<uint32_t>(0xffffffff)})),  // persistent|hashed
                   attr(8, le<uint32_t>(300)), attr(9, hex("ffffff00")),
                   attr(10, stats32(100)), attr(12, stats64(uint64_t{1} << 40))});
  auto e = decodeService(attr(1, svc));
  ASSERT_TRUE(e.ok()) << e.error().what();
  EXPECT_EQ(e->service.key.toString(), "tcp 192.0.2.1:80");
  EXPECT_EQ(e->service.scheduler, "rr");
  EXPECT_EQ(e->service.flags, kSvcPersistent);  // kernel-internal HASHED dropped
  EXPECT_EQ(e->service.timeout, 300u);
  EXPECT_EQ(e->service.netmask, 0xffffff00u);
  EXPECT_EQ(e->service.pe, "");
  // 64-bit counters win over the 32-bit ones.
  EXPECT_EQ(e->stats.conns, (uint64_t{1} << 40) + 1);
  EXPECT_EQ(e->stats.outBps, (uint64_t{1} << 40) + 10);
}

TEST(NetlinkCodec, DecodeServiceFallsBackTo32BitStatsAndReadsFwmarkIpv6) {
  Bytes svc = cat({attr(1, le<uint16_t>(10)), attr(5, le<uint32_t>(0x80000001)),
                   attr(6, Bytes{'m', 'h', 0}), attr(11, Bytes{'s', 'i', 'p', 0}),
                   attr(7, cat({le<uint32_t>(0x18), le<uint32_t>(0xffffffff)})),
                   attr(8, le<uint32_t>(0)), attr(9, le<uint32_t>(96)), attr(10, stats32(0))});
  auto e = decodeService(attr(1, svc));
  ASSERT_TRUE(e.ok()) << e.error().what();
  EXPECT_TRUE(e->service.key == ServiceKey::mark(0x80000001, Family::kV6));
  EXPECT_EQ(e->service.key.toString(), "fwmark 2147483649 inet6");
  EXPECT_EQ(e->service.flags, kSvcMhFallback | kSvcMhPort);
  EXPECT_EQ(e->service.netmask, 96u);
  EXPECT_EQ(e->service.pe, "sip");
  EXPECT_EQ(e->stats.conns, 1u);
  EXPECT_EQ(e->stats.inBytes, 4u);
  EXPECT_EQ(e->stats.outBps, 10u);
}

TEST(NetlinkCodec, DecodeServiceRejectsIncompleteReplies) {
  Bytes noSched = cat({attr(1, le<uint16_t>(2)), attr(5, le<uint32_t>(1)),
                       attr(7, cat({le<uint32_t>(0), le<uint32_t>(~0u)})), attr(8, le<uint32_t>(0)),
                       attr(9, le<uint32_t>(0))});
  EXPECT_FALSE(decodeService(attr(1, noSched)).ok());
  Bytes badFamily = cat({attr(1, le<uint16_t>(7)), attr(5, le<uint32_t>(1))});
  EXPECT_FALSE(decodeService(attr(1, badFamily)).ok());
  EXPECT_FALSE(decodeService(attr(2, noSched)).ok());  // no service nest at all
  Bytes truncated = attr(1, noSched);
  truncated.resize(truncated.size() - 6);
  EXPECT_FALSE(decodeService(truncated).ok());
  Bytes shortAddr = cat({attr(1, le<uint16_t>(10)), attr(2, le<uint16_t>(6)),
                         attr(3, hex("20010db8")), attr(4, hex("0050"))});
  EXPECT_FALSE(decodeService(attr(1, shortAddr)).ok());
}

Bytes kernelDest(uint16_t af, const Bytes& addr, bool withFamily, bool withTunnel) {
  Bytes d = cat({attr(1, addr), attr(2, hex("1f90")), attr(3, le<uint32_t>(2)),
                 attr(4, le<uint32_t>(70000)), attr(5, le<uint32_t>(50)), attr(6, le<uint32_t>(5)),
                 attr(7, le<uint32_t>(3)), attr(8, le<uint32_t>(4)), attr(9, le<uint32_t>(1))});
  if (withTunnel) {
    d = cat({d, attr(13, Bytes{2}), attr(14, hex("0000")), attr(15, le<uint16_t>(2))});
  }
  if (withFamily) d = cat({d, attr(11, le<uint16_t>(af))});
  return cat({d, attr(10, stats32(0)), attr(12, stats64(uint64_t{1} << 33))});
}

TEST(NetlinkCodec, DecodeKernelDestinationReply) {
  Bytes addr = hex("20010db8 00000000 00000000 00000009");
  auto e = decodeDestination(attr(2, kernelDest(10, addr, true, true)), Family::kV4);
  ASSERT_TRUE(e.ok()) << e.error().what();
  EXPECT_EQ(e->dest.endpoint().toString(), "[2001:db8::9]:8080");
  EXPECT_EQ(e->dest.forwarding, Forwarding::kTunnel);
  EXPECT_EQ(e->dest.weight, 70000u);
  EXPECT_EQ(e->dest.upperThreshold, 50u);
  EXPECT_EQ(e->dest.lowerThreshold, 5u);
  EXPECT_EQ(e->dest.tunnel.type, TunnelType::kGre);
  EXPECT_EQ(e->dest.tunnel.flags, kTunnelRemCsum);
  EXPECT_EQ(e->activeConns, 3u);
  EXPECT_EQ(e->inactiveConns, 4u);
  EXPECT_EQ(e->persistentConns, 1u);
  EXPECT_EQ(e->stats.inPackets, (uint64_t{1} << 33) + 2);
}

TEST(NetlinkCodec, DecodeDestinationWithoutFamilyUsesTheService) {
  Bytes addr = hex("0a000005 00000000 00000000 00000000");
  auto e = decodeDestination(attr(2, kernelDest(0, addr, false, false)), Family::kV4);
  ASSERT_TRUE(e.ok()) << e.error().what();
  EXPECT_EQ(e->dest.endpoint().toString(), "10.0.0.5:8080");
  EXPECT_EQ(e->dest.tunnel, Tunnel{});
}

TEST(NetlinkCodec, DecodeDestinationRequiresCounters) {
  Bytes d = cat({attr(1, hex("0a000005 00000000 00000000 00000000")), attr(2, hex("0050")),
                 attr(3, le<uint32_t>(0)), attr(4, le<uint32_t>(1))});
  EXPECT_FALSE(decodeDestination(attr(2, d), Family::kV4).ok());
}

TEST(NetlinkCodec, DecodeInfoTimeoutsDaemon) {
  auto info = decodeInfo(cat({attr(1, le<uint32_t>(0x010201)), attr(2, le<uint32_t>(4096))}));
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->versionString(), "1.2.1");
  EXPECT_EQ(info->connTableSize, 4096u);
  EXPECT_FALSE(decodeInfo(attr(1, le<uint32_t>(1))).ok());

  auto t = decodeTimeouts(cat({attr(4, le<uint32_t>(900)), attr(5, le<uint32_t>(120)),
                               attr(6, le<uint32_t>(300))}));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*t, (Timeouts{900, 120, 300}));

  Bytes daemon = cat({attr(1, le<uint32_t>(1)), attr(2, Bytes{'e', 't', 'h', '1', 0}),
                      attr(3, le<uint32_t>(9)), attr(4, le<uint16_t>(1472)),
                      attr(7, le<uint16_t>(8848)), attr(8, Bytes{1}), attr(5, hex("e0000051"))});
  auto d = decodeDaemon(attr(3, daemon));
  ASSERT_TRUE(d.ok()) << d.error().what();
  EXPECT_EQ(d->state, SyncState::kMaster);
  EXPECT_EQ(d->interface, "eth1");
  EXPECT_EQ(d->syncId, 9u);
  EXPECT_EQ(d->maxLen, 1472);
  EXPECT_EQ(d->port, 8848);
  EXPECT_EQ(d->ttl, 1);
  ASSERT_TRUE(d->group.has_value());
  EXPECT_EQ(d->group->toString(), "224.0.0.81");
}

TEST(NetlinkCodec, DecodeFamilyId) {
  auto id = decodeFamilyId(cat({attr(2, Bytes{'I', 'P', 'V', 'S', 0}), attr(1, le<uint16_t>(0x1c))}));
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, 0x1c);
  EXPECT_FALSE(decodeFamilyId(attr(2, Bytes{'I', 0})).ok());
}

TEST(NetlinkCodec, SplitRejectsBadLengths) {
  EXPECT_FALSE(splitMessages(hex("10000000 0200")).ok());             // truncated header
  EXPECT_FALSE(splitMessages(hex("40000000 0200 0000 01000000 00000000")).ok());  // len > data
  EXPECT_FALSE(splitMessages(hex("08000000 0200 0000 01000000 00000000")).ok());  // len < header
  Bytes ack = hex("14000000 0200 0000 05000000 00000000 efffffff");
  auto ok = splitMessages(ack);  // messages borrow `ack`
  ASSERT_TRUE(ok.ok());
  ASSERT_EQ(ok->size(), 1u);
  auto code = parseErrorCode((*ok)[0]);
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, -17);  // -EEXIST
}

TEST(NetlinkCodec, AttrsIgnoreUnknownTypesAndRejectOverruns) {
  Bytes data = cat({attr(40, le<uint32_t>(1)), attr(2, le<uint16_t>(3))});
  auto a = Attrs::parse(data, 5);  // borrows `data`
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->has(40));
  EXPECT_EQ(a->u16(2), 3);
  EXPECT_FALSE(a->u32(2).has_value());  // too short for a u32
  EXPECT_FALSE(Attrs::parse(hex("0800 0100 0000"), 5).ok());
  EXPECT_FALSE(Attrs::parse(hex("0200 0100"), 5).ok());
}

}  // namespace
}  // namespace lvsd::ipvs::nl
