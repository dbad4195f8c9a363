#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "ipvs/ipvs.h"

namespace lvsd::ipvs {
namespace {

constexpr const char* kHeader =
    "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n";

TEST(ProcConn, ParsesIpv4Ipv6AndEngineColumns) {
  std::string text = std::string(kHeader) +
                     "TCP C0A80002 C350 C0A8000A 0050 0A000065 0050 ESTABLISHED     899\n"
                     "UDP 2001:0db8:0000:0000:0000:0000:0000:0002 8235 "
                     "2001:0db8:0000:0000:0000:0000:0000:0001 0035 0A000001 0035 UDP              "
                     "57\n"
                     "UDP C0A80003 13C4 C0A8000A 13C4 0A000066 13C4 UDP             180 sip "
                     "a84d1a3e\n";
  auto t = parseConnections(text);
  EXPECT_EQ(t.malformed, 0u);
  ASSERT_EQ(t.connections.size(), 3u);
  const auto& a = t.connections[0];
  EXPECT_EQ(a.protocol, "TCP");
  EXPECT_EQ(Endpoint(a.client, a.clientPort).toString(), "192.168.0.2:50000");
  EXPECT_EQ(Endpoint(a.vaddr, a.vport).toString(), "192.168.0.10:80");
  EXPECT_EQ(Endpoint(a.daddr, a.dport).toString(), "10.0.0.101:80");
  EXPECT_EQ(a.state, "ESTABLISHED");
  EXPECT_EQ(a.expires, 899u);
  EXPECT_TRUE(a.peName.empty());
  const auto& b = t.connections[1];
  EXPECT_EQ(Endpoint(b.client, b.clientPort).toString(), "[2001:db8::2]:33333");
  EXPECT_EQ(Endpoint(b.daddr, b.dport).toString(), "10.0.0.1:53");  // IPv4 destination, IPv6 service
  EXPECT_EQ(t.connections[2].peName, "sip");
  EXPECT_EQ(t.connections[2].peData, "a84d1a3e");
}

TEST(ProcConn, MalformedLinesAreSkippedAndCounted) {
  std::string text = std::string(kHeader) +
                     "TCP C0A80002 C350\n"                                            // short
                     "TCP ZZA80002 C350 C0A8000A 0050 0A000065 0050 ESTABLISHED 1\n"  // bad hex
                     "TCP C0A80002 1C350 C0A8000A 0050 0A000065 0050 ESTABLISHED 1\n" // port > 16 bit
                     "TCP C0A80002 C350 C0A8000A 0050 0A000065 0050 ESTABLISHED -5\n" // bad expiry
                     "TCP C0A802 C350 C0A8000A 0050 0A000065 0050 ESTABLISHED 5\n"    // short addr
                     "\n"                                                            // blank: ignored
                     "TCP C0A80002 C350 C0A8000A 0050 0A000065 0050 CLOSE 7";         // no newline
  auto t = parseConnections(text);
  EXPECT_EQ(t.malformed, 5u);
  ASSERT_EQ(t.connections.size(), 1u);
  EXPECT_EQ(t.connections[0].state, "CLOSE");
  EXPECT_EQ(t.connections[0].expires, 7u);
}

TEST(ProcConn, HeaderOnlyAndEmptyInput) {
  EXPECT_TRUE(parseConnections(kHeader).connections.empty());
  EXPECT_EQ(parseConnections("").malformed, 0u);
  // Arbitrary bytes never crash.
  std::string junk;
  for (int i = 0; i < 4096; ++i) junk.push_back(static_cast<char>((i * 131) % 256));
  auto t = parseConnections(std::string(kHeader) + junk);
  EXPECT_TRUE(t.connections.empty());
}

TEST(ProcConn, ReadFileAndMissingFile) {
  std::string path = ::testing::TempDir() + "/ip_vs_conn";
  {
    std::ofstream f(path);
    f << kHeader << "TCP 0A000001 0001 0A000002 0050 0A000003 0050 SYN_RECV 30\n";
  }
  auto t = readConnections(path);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->connections.size(), 1u);
  std::remove(path.c_str());
  auto missing = readConnections(path);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().what().find(path), std::string::npos);
}

}  // namespace
}  // namespace lvsd::ipvs
