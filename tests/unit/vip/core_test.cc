#include "vip/core.h"

#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include "fakes/fake_clock.h"
#include "fakes/fake_vip.h"
#include "vip/packets.h"

namespace lvsd::vip {
namespace {

using std::chrono::milliseconds;
using Kind = Op::Kind;

VipSpec vip(const char* p, const char* dev = "eth0") { return {Prefix::parse(p).value(), dev, ""}; }

GroupSpec group(const char* name, std::vector<VipSpec> vips, AnnounceSpec a = {}) {
  return {name, std::move(vips), a};
}

std::vector<Kind> kinds(const std::vector<Op>& ops) {
  std::vector<Kind> k;
  for (const auto& o : ops) k.push_back(o.kind);
  return k;
}

class CoreTest : public ::testing::Test {
 protected:
  testing::FakeClock clock;
  // Collects announcements over `d`, stepping deadline to deadline.
  std::vector<std::pair<Duration, Op>> run(VipCore& c, Duration d) {
    std::vector<std::pair<Duration, Op>> out;
    TimePoint start = clock.now(), end = start + d;
    while (auto next = c.nextDeadline()) {
      if (*next > end) break;
      if (*next > clock.now()) clock.advance(*next - clock.now());
      for (auto& op : c.due(clock.now())) out.push_back({clock.now() - start, op});
    }
    clock.advance(end - clock.now());
    return out;
  }
};

TEST_F(CoreTest, AcquireAddsThenAnnouncesOnSchedule) {
  AnnounceSpec a;
  a.delay = milliseconds(50);
  a.repeat = 3;
  a.interval = milliseconds(200);
  VipCore c({group("web", {vip("192.0.2.10/24"), vip("2001:db8::10/64")}, a)});
  auto ops = c.acquire("web", clock.now());
  EXPECT_EQ(kinds(ops), (std::vector<Kind>{Kind::kAdd, Kind::kAdd}));
  EXPECT_EQ(c.held(), std::vector<std::string>{"web"});
  auto sent = run(c, milliseconds(5000));
  ASSERT_EQ(sent.size(), 6u);
  EXPECT_EQ(sent[0].first, milliseconds(50));
  EXPECT_EQ(sent[1].first, milliseconds(50));
  EXPECT_EQ(sent[2].first, milliseconds(250));
  EXPECT_EQ(sent[4].first, milliseconds(450));
  for (auto& [t, op] : sent) EXPECT_EQ(op.kind, Kind::kAnnounce);
  EXPECT_FALSE(c.nextDeadline().has_value()) << "no refresh configured";
}

TEST_F(CoreTest, RefreshAnnouncesPeriodically) {
  AnnounceSpec a;
  a.repeat = 2;
  a.interval = milliseconds(100);
  a.refresh = std::chrono::seconds(10);
  VipCore c({group("web", {vip("192.0.2.10/32")}, a)});
  c.acquire("web", clock.now());
  auto sent = run(c, std::chrono::seconds(35));
  std::vector<Duration> at;
  for (auto& [t, op] : sent) at.push_back(t);
  EXPECT_EQ(at, (std::vector<Duration>{milliseconds(0), milliseconds(100), milliseconds(10'100),
                                       milliseconds(20'100), milliseconds(30'100)}));
}

TEST_F(CoreTest, RepeatZeroMeansNoBurst) {
  AnnounceSpec a;
  a.repeat = 0;
  VipCore c({group("web", {vip("192.0.2.10/32")}, a)});
  c.acquire("web", clock.now());
  EXPECT_TRUE(run(c, std::chrono::seconds(10)).empty());
}

TEST_F(CoreTest, ReleaseRemovesAndStopsAnnouncing) {
  VipCore c({group("web", {vip("192.0.2.10/24")})});
  c.acquire("web", clock.now());
  run(c, milliseconds(250));
  auto ops = c.release("web", clock.now());
  EXPECT_EQ(kinds(ops), std::vector<Kind>{Kind::kRemove});
  EXPECT_TRUE(c.held().empty());
  EXPECT_FALSE(c.nextDeadline().has_value());
  // Releasing a group never held still removes (stale addresses of a
  // predecessor that was killed).
  VipCore fresh({group("web", {vip("192.0.2.10/24")})});
  EXPECT_EQ(kinds(fresh.release("web", clock.now())), std::vector<Kind>{Kind::kRemove});
}

TEST_F(CoreTest, AcquireTwiceDoesNothingMore) {
  VipCore c({group("web", {vip("192.0.2.10/24")})});
  c.acquire("web", clock.now());
  EXPECT_TRUE(c.acquire("web", clock.now()).empty());
  EXPECT_TRUE(c.acquire("nope", clock.now()).empty());
}

TEST_F(CoreTest, ReannounceStartsABurstNowOnlyWhenHeld) {
  AnnounceSpec a;
  a.delay = milliseconds(1000);
  a.repeat = 2;
  VipCore c({group("web", {vip("192.0.2.10/24")}, a)});
  c.reannounce("web", clock.now());
  EXPECT_FALSE(c.nextDeadline().has_value());
  c.acquire("web", clock.now());
  run(c, milliseconds(3000));
  c.reannounce("web", clock.now());
  EXPECT_EQ(*c.nextDeadline(), clock.now()) << "no delay for a re-assertion";
  EXPECT_EQ(run(c, milliseconds(1000)).size(), 2u);
}

TEST_F(CoreTest, FailedAddsAreRetriedAndNotAnnouncedMeanwhile) {
  AnnounceSpec a;
  a.repeat = 1;
  VipCore c({group("web", {vip("192.0.2.10/24"), vip("192.0.2.11/24", "eth9")}, a)});
  c.acquire("web", clock.now());
  c.addFailed(vip("192.0.2.11/24", "eth9"), clock.now());
  auto first = c.due(clock.now());
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].vip, vip("192.0.2.10/24"));
  clock.advance(VipCore::kRetry);
  auto retry = c.due(clock.now());
  ASSERT_EQ(retry.size(), 3u);
  EXPECT_EQ(retry[0].kind, Kind::kAdd);
  EXPECT_EQ(retry[0].vip, vip("192.0.2.11/24", "eth9"));
  EXPECT_EQ(retry[1].kind, Kind::kAnnounce);
  EXPECT_EQ(retry[2].kind, Kind::kAnnounce);
  // Released: no more retries.
  c.addFailed(vip("192.0.2.11/24", "eth9"), clock.now());
  c.release("web", clock.now());
  EXPECT_FALSE(c.nextDeadline().has_value());
}

TEST_F(CoreTest, UpdateChangesOnlyTheDifference) {
  VipCore c({group("web", {vip("192.0.2.10/24"), vip("192.0.2.11/24")}), group("db", {vip("192.0.2.20/24")}),
             group("old", {vip("192.0.2.30/24")})});
  c.acquire("web", clock.now());
  c.acquire("old", clock.now());
  run(c, std::chrono::seconds(5));
  auto ops = c.update({group("web", {vip("192.0.2.11/24"), vip("192.0.2.12/24")}),
                       group("db", {vip("192.0.2.21/24")})},
                      clock.now());
  std::vector<Op> want = {{Kind::kRemove, vip("192.0.2.10/24")},
                          {Kind::kAdd, vip("192.0.2.12/24")},
                          {Kind::kRemove, vip("192.0.2.30/24")}};
  EXPECT_EQ(ops, want) << "db is not held; 192.0.2.11 stays untouched";
  EXPECT_EQ(c.held(), std::vector<std::string>{"web"});
  EXPECT_EQ(run(c, std::chrono::seconds(5)).size(), 10u) << "the changed group announces again";
}

TEST_F(CoreTest, ReleaseAllReleasesOnlyHeld) {
  VipCore c({group("a", {vip("192.0.2.1/32")}), group("b", {vip("192.0.2.2/32")})});
  c.acquire("b", clock.now());
  auto ops = c.releaseAll();
  ASSERT_EQ(ops.size(), 1u);
  EXPECT_EQ(ops[0].vip, vip("192.0.2.2/32"));
}

TEST(Packets, GratuitousArp) {
  Mac mac = {0x02, 0x00, 0x5e, 0x10, 0x20, 0x30};
  auto f = buildGarp(mac, IpAddress::parse("192.0.2.10").value());
  std::array<uint8_t, 42> want = {
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x5e, 0x10, 0x20, 0x30, 0x08, 0x06,
      0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01,
      0x02, 0x00, 0x5e, 0x10, 0x20, 0x30, 192, 0, 2, 10,
      0, 0, 0, 0, 0, 0, 192, 0, 2, 10};
  EXPECT_EQ(f, want);
}

TEST(Packets, UnsolicitedNeighbourAdvertisement) {
  Mac mac = {0x02, 0x00, 0x5e, 0x10, 0x20, 0x30};
  auto p = buildUnsolicitedNa(mac, IpAddress::parse("2001:db8::10").value(), false);
  std::vector<uint8_t> want = {136, 0, 0, 0, 0x20, 0, 0, 0,
                               0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
                               2, 1, 0x02, 0x00, 0x5e, 0x10, 0x20, 0x30};
  EXPECT_EQ(p, want);
  EXPECT_EQ(buildUnsolicitedNa(mac, IpAddress::parse("2001:db8::10").value(), true)[4], 0xa0);
}

TEST(Groups, FromConfig) {
  config::Config cfg;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(R"(
vip_group { name: "web"
  vip { address: "192.0.2.10/24" interface: "eth0" label: "eth0:web" }
  vip { address: "2001:db8::10" interface: "eth1" }
  announce { delay_ms: 10 repeat: 2 interval_ms: 50 refresh_s: 60 } }
vip_group { name: "db" vip { address: "192.0.2.20" interface: "eth0" } }
)", &cfg));
  auto g = groupsFromConfig(cfg);
  ASSERT_TRUE(g.ok()) << g.error().message;
  ASSERT_EQ(g->size(), 2u);
  EXPECT_EQ((*g)[0].vips[0].toString(), "192.0.2.10/24 dev eth0 label eth0:web");
  EXPECT_EQ((*g)[0].vips[1].prefix.length(), 128);
  EXPECT_EQ((*g)[0].announce.refresh, std::chrono::seconds(60));
  EXPECT_EQ((*g)[1].announce.repeat, 5u) << "defaults";
  EXPECT_EQ((*g)[1].announce.interval, milliseconds(200));
  cfg.mutable_vip_group(1)->mutable_vip(0)->set_address("nope");
  EXPECT_FALSE(groupsFromConfig(cfg).ok());
}

TEST(Manager, CarriesOutCommandsInOrder) {
  auto backend = std::make_unique<testing::FakeAddressBackend>();
  auto announcer = std::make_unique<testing::FakeAnnouncer>();
  auto* b = backend.get();
  auto* a = announcer.get();
  b->failAdd.insert("192.0.2.99/32");
  VipManager m(std::move(backend), std::move(announcer));
  std::vector<std::string> errors;
  m.onError([&](const std::string& e) { errors.push_back(e); });
  AnnounceSpec once;
  once.repeat = 1;
  ASSERT_TRUE(m.start({group("web", {vip("192.0.2.10/24")}, once),
                       group("bad", {vip("192.0.2.99/32")}, once)}).ok());
  m.release({"web"});
  m.acquire({"web", "bad"});
  m.release({"web"});
  m.acquire({"web"});
  m.sync();
  EXPECT_EQ(b->takeLog(), (std::vector<std::string>{
                              "remove 192.0.2.10/24 dev eth0", "add 192.0.2.10/24 dev eth0",
                              "add 192.0.2.99/32 dev eth0", "remove 192.0.2.10/24 dev eth0",
                              "add 192.0.2.10/24 dev eth0"}));
  {
    std::lock_guard lock(a->mu);
    EXPECT_EQ(a->sent, (std::vector<std::string>{"192.0.2.10", "192.0.2.10"}))
        << "the failed VIP is never announced";
  }
  auto st = m.status();
  EXPECT_EQ(st.counters.adds, 2u);
  EXPECT_EQ(st.counters.addErrors, 1u);
  EXPECT_EQ(st.counters.announcements, 2u);
  EXPECT_EQ(st.held, (std::vector<std::string>{"web", "bad"}));
  ASSERT_EQ(errors.size(), 1u);
  m.stop(true);
  auto log = b->takeLog();
  EXPECT_EQ(log.size(), 2u) << "held groups released on stop";
  EXPECT_TRUE(b->present.empty());
}

}  // namespace
}  // namespace lvsd::vip
