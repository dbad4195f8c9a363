#include "heartbeat/vrrp_codec.h"

#include <gtest/gtest.h>

#include <random>

namespace lvsd::heartbeat {
namespace {

using std::chrono::milliseconds;

IpAddress ip(const char* s) { return IpAddress::parse(s).value(); }

// Captured with tcpdump from Debian's keepalived 2.2.7 (vrrp_version 3 and
// 2) in a network namespace: interop is checked against real bytes.
// IPv4 VRRPv3, vrid 51, prio 100, 100 cs, 192.0.2.10 and .11, from
// 198.51.100.1 to 224.0.0.18 (whole IP packet, TTL 255, TOS 0xc0).
const std::vector<uint8_t> kKeepalivedV3Ipv4 = {
    0x45, 0xc0, 0x00, 0x24, 0x00, 0x01, 0x00, 0x00, 0xff, 0x70, 0xb0, 0x61,
    0xc6, 0x33, 0x64, 0x01, 0xe0, 0x00, 0x00, 0x12,  // IP header
    0x31, 0x33, 0x64, 0x02, 0x00, 0x64, 0xdb, 0x87,  // VRRP header
    0xc0, 0x00, 0x02, 0x0a, 0xc0, 0x00, 0x02, 0x0b};
// IPv6 VRRPv3 (payload only; the kernel strips the IPv6 header), vrid 52,
// prio 150, 50 cs, 2001:db8::10, fe80::ecd3:36ff:fed9:3d17 -> ff02::12.
const std::vector<uint8_t> kKeepalivedV3Ipv6 = {
    0x31, 0x34, 0x96, 0x01, 0x00, 0x32, 0xac, 0xec, 0x20, 0x01, 0x0d, 0xb8,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10};
// IPv4 VRRPv2, vrid 51, prio 100, 1 s, auth none (IP packet).
const std::vector<uint8_t> kKeepalivedV2Ipv4 = {
    0x45, 0xc0, 0x00, 0x2c, 0x00, 0x01, 0x00, 0x00, 0xff, 0x70, 0xb0, 0x59,
    0xc6, 0x33, 0x64, 0x01, 0xe0, 0x00, 0x00, 0x12,
    0x21, 0x33, 0x64, 0x02, 0x00, 0x01, 0xf6, 0xb2, 0xc0, 0x00, 0x02, 0x0a,
    0xc0, 0x00, 0x02, 0x0b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};

std::vector<uint8_t> payload(const Ipv4Header& h) { return {h.payload.begin(), h.payload.end()}; }

TEST(VrrpCodec, DecodesKeepalivedVrrp3Ipv4) {
  auto h = parseIpv4(kKeepalivedV3Ipv4);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h.value.ttl, 255);
  EXPECT_EQ(h.value.protocol, kIpProtoVrrp);
  EXPECT_EQ(h.value.src, ip("198.51.100.1"));
  EXPECT_EQ(h.value.dst, ip("224.0.0.18"));
  auto d = decodeVrrp(h.value.payload, VrrpVersion::kV3, Family::kV4, h.value.src, h.value.dst);
  ASSERT_TRUE(d.ok()) << dropReasonName(d.drop);
  EXPECT_EQ(d.value.vrid, 51);
  EXPECT_EQ(d.value.priority, 100);
  EXPECT_EQ(d.value.interval, milliseconds(1000));
  ASSERT_EQ(d.value.addresses.size(), 2u);
  EXPECT_EQ(d.value.addresses[0], ip("192.0.2.10"));
  EXPECT_EQ(d.value.addresses[1], ip("192.0.2.11"));
}

TEST(VrrpCodec, EncodesExactlyWhatKeepalivedSends) {
  VrrpAdvert a;
  a.vrid = 51;
  a.priority = 100;
  a.interval = milliseconds(1000);
  a.addresses = {ip("192.0.2.10"), ip("192.0.2.11")};
  auto out = encodeVrrp(a, Family::kV4, ip("198.51.100.1"), ip("224.0.0.18"));
  ASSERT_TRUE(out.ok());
  auto h = parseIpv4(kKeepalivedV3Ipv4);
  EXPECT_EQ(*out, payload(h.value));

  VrrpAdvert b;
  b.vrid = 52;
  b.priority = 150;
  b.interval = milliseconds(500);
  b.addresses = {ip("2001:db8::10")};
  auto out6 = encodeVrrp(b, Family::kV6, ip("fe80::ecd3:36ff:fed9:3d17"), ip("ff02::12"));
  ASSERT_TRUE(out6.ok());
  EXPECT_EQ(*out6, kKeepalivedV3Ipv6);

  VrrpAdvert c = a;
  c.version = VrrpVersion::kV2;
  auto out2 = encodeVrrp(c, Family::kV4, ip("198.51.100.1"), ip("224.0.0.18"));
  ASSERT_TRUE(out2.ok());
  EXPECT_EQ(*out2, payload(parseIpv4(kKeepalivedV2Ipv4).value));
}

TEST(VrrpCodec, DecodesKeepalivedVrrp3Ipv6WithPseudoHeader) {
  auto d = decodeVrrp(kKeepalivedV3Ipv6, VrrpVersion::kV3, Family::kV6,
                      ip("fe80::ecd3:36ff:fed9:3d17"), ip("ff02::12"));
  ASSERT_TRUE(d.ok()) << dropReasonName(d.drop);
  EXPECT_EQ(d.value.vrid, 52);
  EXPECT_EQ(d.value.priority, 150);
  EXPECT_EQ(d.value.interval, milliseconds(500));
  EXPECT_EQ(d.value.addresses.at(0), ip("2001:db8::10"));
  // The pseudo-header is part of the checksum: another source fails.
  auto wrong = decodeVrrp(kKeepalivedV3Ipv6, VrrpVersion::kV3, Family::kV6,
                          ip("fe80::ecd3:36ff:fed9:3d18"), ip("ff02::12"));
  EXPECT_EQ(wrong.drop, DropReason::kBadChecksum);
}

TEST(VrrpCodec, DecodesKeepalivedVrrp2) {
  auto h = parseIpv4(kKeepalivedV2Ipv4);
  ASSERT_TRUE(h.ok());
  auto d = decodeVrrp(h.value.payload, VrrpVersion::kV2, Family::kV4, h.value.src, h.value.dst);
  ASSERT_TRUE(d.ok()) << dropReasonName(d.drop);
  EXPECT_EQ(d.value.interval, std::chrono::seconds(1));
  EXPECT_EQ(d.value.addresses.size(), 2u);
  // A v2 packet is not a v3 one and vice versa.
  EXPECT_EQ(decodeVrrp(h.value.payload, VrrpVersion::kV3, Family::kV4, h.value.src, h.value.dst).drop,
            DropReason::kBadVersion);
}

TEST(VrrpCodec, RoundTripsBothFamiliesAndVersions) {
  for (auto v : {VrrpVersion::kV3, VrrpVersion::kV2}) {
    for (auto f : {Family::kV4, Family::kV6}) {
      if (v == VrrpVersion::kV2 && f == Family::kV6) continue;
      VrrpAdvert a;
      a.version = v;
      a.vrid = 200;
      a.priority = 254;
      a.interval = v == VrrpVersion::kV3 ? milliseconds(40950) : milliseconds(255'000);
      for (int i = 0; i < 20; ++i)
        a.addresses.push_back(f == Family::kV4
                                  ? IpAddress::v4(0xc0000200 + i)
                                  : ip(("2001:db8::" + std::to_string(i + 1)).c_str()));
      IpAddress src = f == Family::kV4 ? ip("10.1.1.1") : ip("fe80::1");
      IpAddress dst = vrrpGroup(f);
      auto bytes = encodeVrrp(a, f, src, dst);
      ASSERT_TRUE(bytes.ok());
      auto d = decodeVrrp(*bytes, v, f, src, dst);
      ASSERT_TRUE(d.ok()) << dropReasonName(d.drop);
      EXPECT_EQ(d.value.vrid, a.vrid);
      EXPECT_EQ(d.value.priority, a.priority);
      EXPECT_EQ(d.value.interval, a.interval);
      EXPECT_EQ(d.value.addresses, a.addresses);
    }
  }
}

TEST(VrrpCodec, UnicastChecksumUsesTheUnicastDestination) {
  VrrpAdvert a;
  a.vrid = 7;
  a.priority = 100;
  a.interval = milliseconds(100);
  auto bytes = encodeVrrp(a, Family::kV4, ip("10.0.0.1"), ip("10.0.0.2"));
  ASSERT_TRUE(bytes.ok());
  EXPECT_TRUE(decodeVrrp(*bytes, VrrpVersion::kV3, Family::kV4, ip("10.0.0.1"), ip("10.0.0.2")).ok());
  EXPECT_EQ(decodeVrrp(*bytes, VrrpVersion::kV3, Family::kV4, ip("10.0.0.1"), ip("224.0.0.18")).drop,
            DropReason::kBadChecksum);
}

TEST(VrrpCodec, EncodeRefusesWhatTheWireCannotCarry) {
  VrrpAdvert a;
  a.vrid = 1;
  a.priority = 1;
  a.interval = milliseconds(5);
  EXPECT_FALSE(encodeVrrp(a, Family::kV4, ip("10.0.0.1"), ip("224.0.0.18")).ok());
  a.interval = milliseconds(40960);
  EXPECT_FALSE(encodeVrrp(a, Family::kV4, ip("10.0.0.1"), ip("224.0.0.18")).ok());
  a.interval = milliseconds(1000);
  a.version = VrrpVersion::kV2;
  EXPECT_FALSE(encodeVrrp(a, Family::kV6, ip("fe80::1"), ip("ff02::12")).ok());
  a.interval = milliseconds(500);
  EXPECT_FALSE(encodeVrrp(a, Family::kV4, ip("10.0.0.1"), ip("224.0.0.18")).ok());
  a.version = VrrpVersion::kV3;
  a.addresses = {ip("2001:db8::1")};
  EXPECT_FALSE(encodeVrrp(a, Family::kV4, ip("10.0.0.1"), ip("224.0.0.18")).ok());
  a.addresses.assign(256, ip("192.0.2.1"));
  EXPECT_FALSE(encodeVrrp(a, Family::kV4, ip("10.0.0.1"), ip("224.0.0.18")).ok());
}

TEST(VrrpCodec, DropReasons) {
  auto src = ip("fe80::ecd3:36ff:fed9:3d17"), dst = ip("ff02::12");
  auto v6 = kKeepalivedV3Ipv6;
  auto decode = [&](const std::vector<uint8_t>& b) {
    return decodeVrrp(b, VrrpVersion::kV3, Family::kV6, src, dst).drop;
  };
  EXPECT_EQ(decode({}), DropReason::kTruncated);
  EXPECT_EQ(decode({v6.begin(), v6.begin() + 7}), DropReason::kTruncated);
  EXPECT_EQ(decode({v6.begin(), v6.end() - 1}), DropReason::kTruncated);
  auto longer = v6;
  longer.push_back(0);
  longer.push_back(0);
  EXPECT_EQ(decode(longer), DropReason::kOversize);
  auto type = v6;
  type[0] = 0x32;
  EXPECT_EQ(decode(type), DropReason::kBadType);
  auto count = v6;
  count[3] = 2;
  EXPECT_EQ(decode(count), DropReason::kTruncated);
  auto sum = v6;
  sum[7] ^= 1;
  EXPECT_EQ(decode(sum), DropReason::kBadChecksum);
  // Zero VRID or interval with a correct checksum: malformed.
  VrrpAdvert a;
  a.vrid = 9;
  a.priority = 1;
  a.interval = milliseconds(10);
  auto zeroVrid = encodeVrrp(a, Family::kV6, src, dst).value();
  // Patch VRID 0 and fix the checksum (with the IPv6 pseudo-header).
  zeroVrid[1] = 0;
  uint32_t s = onesSum(std::span(src.bytes().data(), 16));
  s = onesSum(std::span(dst.bytes().data(), 16), s);
  uint8_t tail[8] = {0, 0, 0, static_cast<uint8_t>(zeroVrid.size()), 0, 0, 0, kIpProtoVrrp};
  s = onesSum(tail, s);
  zeroVrid[6] = zeroVrid[7] = 0;
  uint16_t fixed = foldChecksum(onesSum(zeroVrid, s));
  zeroVrid[6] = static_cast<uint8_t>(fixed >> 8);
  zeroVrid[7] = static_cast<uint8_t>(fixed);
  EXPECT_EQ(decode(zeroVrid), DropReason::kMalformed);
}

TEST(VrrpCodec, Vrrp2RejectsAuthentication) {
  auto h = parseIpv4(kKeepalivedV2Ipv4).value;
  std::vector<uint8_t> v2(h.payload.begin(), h.payload.end());
  v2[4] = 1;  // simple text password
  // Patch the v2 checksum (no pseudo-header) so only the auth type is wrong.
  v2[6] = v2[7] = 0;
  uint16_t c = foldChecksum(onesSum(v2));
  v2[6] = static_cast<uint8_t>(c >> 8);
  v2[7] = static_cast<uint8_t>(c);
  EXPECT_EQ(decodeVrrp(v2, VrrpVersion::kV2, Family::kV4, h.src, h.dst).drop, DropReason::kBadAuth);
}

// The Internet checksum detects every single-bit error: no flipped bit of a
// valid advertisement is accepted.
TEST(VrrpCodec, EverySingleBitFlipIsRejected) {
  for (const auto* pkt : {&kKeepalivedV3Ipv6}) {
    for (size_t i = 0; i < pkt->size() * 8; ++i) {
      auto b = *pkt;
      b[i / 8] ^= static_cast<uint8_t>(1 << (i % 8));
      auto d = decodeVrrp(b, VrrpVersion::kV3, Family::kV6, ip("fe80::ecd3:36ff:fed9:3d17"),
                          ip("ff02::12"));
      EXPECT_FALSE(d.ok()) << "bit " << i;
    }
  }
}

TEST(VrrpCodec, RandomBytesNeverCrashAndAreDropped) {
  std::mt19937 rng(7);
  size_t accepted = 0;
  for (int i = 0; i < 200'000; ++i) {
    std::vector<uint8_t> b(rng() % 80);
    for (auto& x : b) x = static_cast<uint8_t>(rng());
    if (!b.empty() && rng() % 2) b[0] = 0x31;  // make the version/type right half the time
    auto d = decodeVrrp(b, VrrpVersion::kV3, Family::kV4, ip("10.0.0.1"), ip("224.0.0.18"));
    accepted += d.ok();
    auto h = parseIpv4(b);
    if (h.ok()) {
      ASSERT_LE(h.value.payload.size(), b.size());
    }
  }
  // 1 in 65536 random packets with a plausible length has a valid checksum.
  EXPECT_LT(accepted, 20u);
}

TEST(Ipv4Parse, DropReasons) {
  auto pkt = kKeepalivedV3Ipv4;
  EXPECT_EQ(parseIpv4({pkt.begin(), pkt.begin() + 19}).drop, DropReason::kTruncated);
  auto v = pkt;
  v[0] = 0x65;
  EXPECT_EQ(parseIpv4(v).drop, DropReason::kMalformed);
  auto ihl = pkt;
  ihl[0] = 0x44;
  EXPECT_EQ(parseIpv4(ihl).drop, DropReason::kMalformed);
  auto bigIhl = pkt;
  bigIhl[0] = 0x4f;  // 60 bytes of header in a 36-byte packet
  EXPECT_EQ(parseIpv4(bigIhl).drop, DropReason::kTruncated);
  auto tot = pkt;
  tot[3] = 0x30;
  EXPECT_EQ(parseIpv4(tot).drop, DropReason::kTruncated);
  auto small = pkt;
  small[3] = 0x10;
  EXPECT_EQ(parseIpv4(small).drop, DropReason::kMalformed);
  auto mf = pkt;
  mf[6] = 0x20;
  EXPECT_EQ(parseIpv4(mf).drop, DropReason::kFragment);
  auto off = pkt;
  off[7] = 0x01;
  EXPECT_EQ(parseIpv4(off).drop, DropReason::kFragment);
  auto df = pkt;
  df[6] = 0x40;  // DF alone is fine
  EXPECT_TRUE(parseIpv4(df).ok());
  // Trailing bytes past Total Length (Ethernet padding) are not payload.
  auto padded = pkt;
  padded.resize(60, 0);
  auto h = parseIpv4(padded);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h.value.payload.size(), 16u);
}

TEST(Ipv4Parse, SkipsOptions) {
  std::vector<uint8_t> pkt = {0x46, 0xc0, 0x00, 0x28, 0, 1, 0, 0, 0xff, 0x70, 0, 0,
                              10, 0, 0, 1, 224, 0, 0, 18,
                              0x94, 0x04, 0x00, 0x00};  // router alert
  auto v = kKeepalivedV3Ipv4;
  pkt.insert(pkt.end(), v.begin() + 20, v.end());
  auto h = parseIpv4(pkt);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h.value.payload.size(), 16u);
  EXPECT_EQ(h.value.payload[0], 0x31);
}

}  // namespace
}  // namespace lvsd::heartbeat
