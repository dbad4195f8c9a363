#include "sync/pacing.h"

#include <gtest/gtest.h>

#include "fakes/fake_clock.h"

namespace lvsd::sync {
namespace {

using namespace std::chrono_literals;

wire::SyncConn v4Conn(uint32_t n) {
  wire::SyncConn c;
  c.protocol = wire::kProtoTcp;
  c.flags = wire::kFwdRoute;
  c.state = 1;
  c.caddr = IpAddress::v4(0x0a000000 + n);
  c.vaddr = IpAddress::v4(0xc0000201);
  c.daddr = IpAddress::v4(0x0a010001);
  c.cport = uint16_t(1024 + n % 60000);
  c.vport = 80;
  c.dport = 80;
  c.timeout = 900;
  return c;
}

TEST(ResyncLimit, FollowsTheBackupKernelsReceiveBuffer) {
  EXPECT_EQ(resyncDatagramLimit(0, Family::kV4, 1500), 1472u);
  EXPECT_EQ(resyncDatagramLimit(0, Family::kV4, 9000), 1472u);  // backup MTU unknown
  EXPECT_EQ(resyncDatagramLimit(0, Family::kV4, 0), 1472u);
  EXPECT_EQ(resyncDatagramLimit(0, Family::kV6, 1500), 1452u);
  EXPECT_EQ(resyncDatagramLimit(0, Family::kV4, 1280), 1252u);  // do not fragment
  EXPECT_EQ(resyncDatagramLimit(8000, Family::kV4, 9000), 8000u);
  EXPECT_EQ(resyncDatagramLimit(8000, Family::kV4, 1500), 1472u);
  EXPECT_EQ(resyncDatagramLimit(500, Family::kV4, 9000), 1024u);  // backup clamps up to 1024
  EXPECT_EQ(resyncDatagramLimit(65507, Family::kV4, 0), 65507u);
  EXPECT_EQ(resyncDatagramLimit(65507, Family::kV6, 0), 65487u);
}

TEST(MessagePacker, FillsDatagramsUpToTheLimit) {
  std::vector<wire::SyncConn> entries;
  for (uint32_t i = 0; i < 100; ++i) entries.push_back(v4Conn(i));
  // 8 + 40 × 36 = 1448 <= 1472 < 1484.
  auto dgrams = packAll(3, 1472, entries);
  ASSERT_EQ(dgrams.size(), 3u);
  EXPECT_EQ(dgrams[0].size(), 1448u);
  EXPECT_EQ(dgrams[1].size(), 1448u);
  EXPECT_EQ(dgrams[2].size(), 8u + 20 * 36);
  size_t seen = 0;
  for (const auto& d : dgrams) {
    auto m = wire::decodeMessage(d);
    ASSERT_TRUE(m.ok()) << m.error().message;
    EXPECT_EQ(m->syncId, 3);
    for (const auto& c : m->conns) EXPECT_EQ(c, entries[seen++]);
  }
  EXPECT_EQ(seen, entries.size());
}

TEST(MessagePacker, CountsPaddingAgainstTheLimit) {
  wire::SyncConn t = v4Conn(0);
  t.flags |= wire::kFlagTemplate;
  t.peData = "a";
  t.peName = "sip";  // 36 + 3 + 5 = 44: no padding needed
  t.peData = "ab";   // 45: 3 bytes of padding before the next entry
  std::vector<wire::SyncConn> entries = {t, v4Conn(1)};
  // 8 + 45 + 3 + 36 = 92 fits exactly; 91 does not.
  EXPECT_EQ(packAll(0, 92, entries).size(), 1u);
  EXPECT_EQ(packAll(0, 91, entries).size(), 2u);
}

TEST(MessagePacker, StopsAt255EntriesAndSendsOversizeEntriesAlone) {
  std::vector<wire::SyncConn> entries;
  for (uint32_t i = 0; i < 600; ++i) entries.push_back(v4Conn(i));
  auto dgrams = packAll(0, 65000, entries);
  ASSERT_EQ(dgrams.size(), 3u);
  EXPECT_EQ(dgrams[0][4], 255);
  EXPECT_EQ(dgrams[1][4], 255);
  EXPECT_EQ(dgrams[2][4], 90);

  auto alone = packAll(0, 20, std::span(entries).first(2));
  ASSERT_EQ(alone.size(), 2u);
  EXPECT_EQ(alone[0][4], 1);
}

TEST(MessagePacker, SkipsEntriesThatCannotBeEncoded) {
  std::vector<wire::SyncConn> entries = {v4Conn(0), v4Conn(1), v4Conn(2)};
  entries[1].daddr = IpAddress::parse("2001:db8::1").value();
  size_t invalid = 0;
  auto dgrams = packAll(0, 1472, entries, &invalid);
  EXPECT_EQ(invalid, 1u);
  ASSERT_EQ(dgrams.size(), 1u);
  auto m = wire::decodeMessage(dgrams[0]);
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(m->conns.size(), 2u);
  EXPECT_EQ(m->conns[0], entries[0]);
  EXPECT_EQ(m->conns[1], entries[2]);

  std::vector<wire::SyncConn> onlyBad = {entries[1]};
  EXPECT_TRUE(packAll(0, 1472, onlyBad, &invalid).empty());
  EXPECT_EQ(invalid, 1u);
}

TEST(Pacer, StartsWithAFullBurstAndRefillsAtTheRate) {
  testing::FakeClock clock;
  Pacer p(1000, 10, clock.now());
  EXPECT_EQ(p.available(clock.now()), 10u);
  p.consume(10);
  EXPECT_EQ(p.available(clock.now()), 0u);
  EXPECT_EQ(p.nextAt(clock.now()), clock.now() + 1ms);
  clock.advance(999us);
  EXPECT_EQ(p.available(clock.now()), 0u);
  EXPECT_EQ(p.nextAt(clock.now()), clock.now() + 1us);
  clock.advance(1us);
  EXPECT_EQ(p.available(clock.now()), 1u);
  clock.advance(1h);  // never more than the burst
  EXPECT_EQ(p.available(clock.now()), 10u);
  EXPECT_EQ(p.nextAt(clock.now()), clock.now());
}

TEST(Pacer, KeepsTheAverageRateWithoutDrift) {
  testing::FakeClock clock;
  // 3/s: the period is not a whole number of nanoseconds.
  Pacer p(3, 1, clock.now());
  uint64_t sent = 0;
  TimePoint end = clock.now() + 1000s;
  while (true) {
    TimePoint t = p.nextAt(clock.now());
    if (t > end) break;
    clock.advance(t - clock.now());
    uint64_t n = p.available(clock.now());
    ASSERT_GE(n, 1u);
    p.consume(n);
    sent += n;
  }
  // One at the start, then three per second.
  EXPECT_EQ(sent, 1u + 3000u);
}

TEST(Pacer, SendsAFiftyThousandEntryTableInTime) {
  // 50,000 IPv4 entries at 40 per datagram = 1250 datagrams; at the default
  // 20,000 datagrams/s they take 1250/20000 s = 62.5 ms (less the burst).
  std::vector<wire::SyncConn> entries;
  for (uint32_t i = 0; i < 50000; ++i) entries.push_back(v4Conn(i));
  auto dgrams = packAll(0, 1472, entries);
  ASSERT_EQ(dgrams.size(), 1250u);
  testing::FakeClock clock;
  TimePoint start = clock.now();
  Pacer p(20000, defaultBurst(20000), start);
  EXPECT_EQ(p.burst(), 20u);
  size_t i = 0;
  while (i < dgrams.size()) {
    clock.advance(p.nextAt(clock.now()) - clock.now());
    uint64_t n = std::min<uint64_t>(p.available(clock.now()), dgrams.size() - i);
    p.consume(n);
    i += n;
  }
  EXPECT_EQ(clock.now() - start, std::chrono::microseconds(50 * (1250 - 20)));
}

TEST(Pacer, DefaultBurstStaysInBounds) {
  EXPECT_EQ(defaultBurst(1), 1u);
  EXPECT_EQ(defaultBurst(1999), 1u);
  EXPECT_EQ(defaultBurst(20000), 20u);
  EXPECT_EQ(defaultBurst(10'000'000), 64u);
}

TEST(Pacer, SurvivesHugeGapsAndRates) {
  testing::FakeClock clock;
  Pacer p(10'000'000, 64, clock.now());
  p.consume(64);
  clock.advance(std::chrono::hours(24 * 365 * 100));
  EXPECT_EQ(p.available(clock.now()), 64u);
  Pacer zero(0, 0, clock.now());  // clamped to 1/s, burst 1
  EXPECT_EQ(zero.available(clock.now()), 1u);
}

}  // namespace
}  // namespace lvsd::sync
