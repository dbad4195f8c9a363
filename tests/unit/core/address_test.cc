#include "core/address.h"

#include <gtest/gtest.h>

#include "fakes/fake_clock.h"

namespace lvsd {
namespace {

TEST(IpAddress, ParsesV4AndV6) {
  auto a = IpAddress::parse("192.0.2.10");
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->isV4());
  EXPECT_EQ(a->toString(), "192.0.2.10");
  EXPECT_EQ(a->v4HostOrder(), 0xc000020au);
  auto b = IpAddress::parse("2001:DB8::1");
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->isV6());
  EXPECT_EQ(b->toString(), "2001:db8::1");
  EXPECT_EQ(b->toUrlHost(), "[2001:db8::1]");
}

TEST(IpAddress, RejectsJunk) {
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", " 1.2.3.4",
                          "1.2.3.4 ", "1.2.3.4/24", "abc", "::g", "1:2:3:4:5:6:7:8:9",
                          "[::1]", "1.2.3.-4", "0x1.2.3.4"}) {
    EXPECT_FALSE(IpAddress::parse(bad).ok()) << "'" << bad << "'";
  }
  EXPECT_EQ(IpAddress::parse("1.2.3").error().message, "invalid IP address '1.2.3'");
}

TEST(IpAddress, Classifies) {
  EXPECT_TRUE(IpAddress::parse("224.0.0.18")->isMulticast());
  EXPECT_TRUE(IpAddress::parse("ff02::12")->isMulticast());
  EXPECT_TRUE(IpAddress::parse("0.0.0.0")->isUnspecified());
  EXPECT_TRUE(IpAddress::parse("::")->isUnspecified());
  EXPECT_TRUE(IpAddress::parse("127.0.0.1")->isLoopback());
  EXPECT_TRUE(IpAddress::parse("::1")->isLoopback());
  EXPECT_TRUE(IpAddress::parse("fe80::1")->isLinkLocal());
  EXPECT_TRUE(IpAddress::parse("169.254.1.1")->isLinkLocal());
  EXPECT_FALSE(IpAddress::parse("10.0.0.1")->isMulticast());
}

TEST(IpAddress, OrdersAndHashes) {
  auto a = *IpAddress::parse("10.0.0.1");
  auto b = *IpAddress::parse("10.0.0.2");
  EXPECT_LT(a, b);
  EXPECT_NE(std::hash<IpAddress>()(a), std::hash<IpAddress>()(b));
  EXPECT_EQ(IpAddress::v4(0x0a000001), a);
}

TEST(Prefix, ParsesAndContains) {
  auto p = Prefix::parse("10.1.2.3/24");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->length(), 24);
  EXPECT_EQ(p->masked().toString(), "10.1.2.0/24");
  EXPECT_TRUE(p->contains(*IpAddress::parse("10.1.2.200")));
  EXPECT_FALSE(p->contains(*IpAddress::parse("10.1.3.1")));
  EXPECT_FALSE(p->contains(*IpAddress::parse("::1")));
  EXPECT_EQ(Prefix::parse("10.0.0.1")->length(), 32);
  EXPECT_EQ(Prefix::parse("2001:db8::/64")->length(), 64);
  EXPECT_EQ(Prefix::parse("2001:db8::1/125")->masked().toString(), "2001:db8::/125");
  for (const char* bad : {"10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1", "::/129", "10.0.0.0/2x",
                          "/24", "10.0.0/24"}) {
    EXPECT_FALSE(Prefix::parse(bad).ok()) << bad;
  }
}

TEST(Netmask, ContiguousOnly) {
  EXPECT_EQ(*parseNetmaskV4("255.255.255.0"), 24);
  EXPECT_EQ(*parseNetmaskV4("255.255.255.255"), 32);
  EXPECT_EQ(*parseNetmaskV4("0.0.0.0"), 0);
  EXPECT_EQ(*parseNetmaskV4("255.255.128.0"), 17);
  EXPECT_FALSE(parseNetmaskV4("255.0.255.0").ok());
  EXPECT_FALSE(parseNetmaskV4("0.255.255.255").ok());
  EXPECT_FALSE(parseNetmaskV4("::").ok());
  EXPECT_EQ(netmaskV4(24), "255.255.255.0");
  EXPECT_EQ(netmaskV4(0), "0.0.0.0");
  EXPECT_EQ(netmaskV4(32), "255.255.255.255");
}

TEST(Endpoint, Parses) {
  auto e = Endpoint::parse("192.0.2.1:80");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->port(), 80);
  EXPECT_EQ(e->toString(), "192.0.2.1:80");
  auto v6 = Endpoint::parse("[2001:db8::1]:443");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->toString(), "[2001:db8::1]:443");
  EXPECT_EQ(Endpoint::parse("10.0.0.1", true)->port(), 0);
  EXPECT_EQ(Endpoint::parse("[::1]", true)->address().toString(), "::1");
  EXPECT_EQ(Endpoint::parse("10.0.0.1:0")->port(), 0);
  for (const char* bad : {"10.0.0.1", "10.0.0.1:", "10.0.0.1:65536", "10.0.0.1:-1", ":80",
                          "[::1]:", "[::1]x", "[::1", "2001:db8::1:80x", "10.0.0.1:8o"}) {
    EXPECT_FALSE(Endpoint::parse(bad).ok()) << bad;
  }
}

TEST(ParseUnsigned, Strict) {
  EXPECT_EQ(*parseUnsigned("0", 10), 0u);
  EXPECT_EQ(*parseUnsigned("65535", 65535), 65535u);
  EXPECT_FALSE(parseUnsigned("65536", 65535).ok());
  EXPECT_FALSE(parseUnsigned("+1", 10).ok());
  EXPECT_FALSE(parseUnsigned(" 1", 10).ok());
  EXPECT_FALSE(parseUnsigned("99999999999999999999999", ~0ull).ok());
}

TEST(FakeClock, AdvancesOnlyWhenTold) {
  testing::FakeClock clock;
  auto t0 = clock.now();
  EXPECT_EQ(clock.now(), t0);
  clock.advance(milliseconds(250));
  EXPECT_EQ(clock.now() - t0, milliseconds(250));
}

TEST(Result, CarriesValueOrErrorWithContext) {
  Result<int> r = 5;
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(*r, 5);
  Result<int> e = Error("File exists", 17).context("destination 10.0.0.5:80").context("service tcp 192.0.2.1:80");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().message, "service tcp 192.0.2.1:80: destination 10.0.0.5:80: File exists");
  EXPECT_EQ(e.error().code, 17);
  Status s = errnoError("open", 2);
  EXPECT_EQ(s.error().message, "open: No such file or directory");
}

}  // namespace
}  // namespace lvsd
