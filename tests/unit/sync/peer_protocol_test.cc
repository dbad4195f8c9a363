#include "sync/peer_protocol.h"

#include <gtest/gtest.h>

#include <cmath>

namespace lvsd::sync {
namespace {

using namespace std::chrono_literals;

wire::PeerMessage hello(uint64_t seq, const std::string& from, uint32_t version = 1) {
  wire::PeerMessage m;
  m.set_seq(seq);
  m.mutable_hello()->set_version(version);
  m.mutable_hello()->set_director(from);
  m.mutable_hello()->set_boot_id(42);
  m.mutable_hello()->set_config_digest("abc");
  return m;
}

wire::PeerMessage ping(uint64_t seq) {
  wire::PeerMessage m;
  m.set_seq(seq);
  m.mutable_ping()->set_sent_unix_ms(1);
  return m;
}

std::string payload(const wire::PeerMessage& m) { return m.SerializeAsString(); }

TEST(PeerFrames, EncodesALengthPrefix) {
  wire::PeerMessage m = ping(1);
  std::string f = encodePeerFrame(m);
  std::string body = m.SerializeAsString();
  ASSERT_EQ(f.size(), 4 + body.size());
  EXPECT_EQ(f.substr(0, 4), std::string({0, 0, 0, char(body.size())}));
  EXPECT_EQ(f.substr(4), body);
}

TEST(PeerFrames, ReassemblesFramesSplitAnywhere) {
  std::string stream = encodePeerFrame(hello(1, "b")) + encodePeerFrame(ping(2)) +
                       encodePeerFrame(ping(3));
  for (size_t chunk : {size_t{1}, size_t{3}, size_t{7}, stream.size()}) {
    FrameReader r;
    std::vector<std::string> got;
    for (size_t i = 0; i < stream.size(); i += chunk) {
      r.feed(stream.data() + i, std::min(chunk, stream.size() - i));
      while (true) {
        auto n = r.next();
        if (std::holds_alternative<std::nullopt_t>(n)) break;
        ASSERT_TRUE(std::holds_alternative<std::string>(n));
        got.push_back(std::get<std::string>(n));
      }
    }
    ASSERT_EQ(got.size(), 3u) << "chunk " << chunk;
    EXPECT_EQ(got[1], payload(ping(2)));
    EXPECT_EQ(r.pending(), 0u);
    EXPECT_EQ(r.truncation(), "");
  }
}

TEST(PeerFrames, RefusesOutOfBoundsLengthsAndReportsTruncation) {
  FrameReader r;
  const uint8_t zero[4] = {0, 0, 0, 0};
  r.feed(zero, 4);
  auto n = r.next();
  ASSERT_TRUE(std::holds_alternative<Violation>(n));
  EXPECT_EQ(std::get<Violation>(n).error, ChannelError::kBadFrame);

  FrameReader big;
  const uint8_t huge[4] = {0x00, 0x40, 0x00, 0x01};  // 4 MiB + 1
  big.feed(huge, 4);
  n = big.next();
  ASSERT_TRUE(std::holds_alternative<Violation>(n));
  EXPECT_EQ(std::get<Violation>(n).detail, "frame length 4194305 outside 1..4194304");

  FrameReader cut;
  std::string f = encodePeerFrame(hello(1, "b"));
  cut.feed(f.data(), f.size() - 3);
  EXPECT_TRUE(std::holds_alternative<std::nullopt_t>(cut.next()));
  EXPECT_EQ(cut.truncation(), "truncated frame: " + std::to_string(f.size() - 7) + " of " +
                                  std::to_string(f.size() - 4) + " bytes");
  FrameReader head;
  head.feed(f.data(), 2);
  EXPECT_EQ(head.truncation(), "truncated frame: 2 of 4 header bytes");
}

PeerSession session(std::string expected = "", std::string identity = "b") {
  return PeerSession("a", {"a", "b", "c"}, std::move(expected),
                     [identity](const std::string& d) { return d == identity; });
}

ChannelError errorOf(PeerSession& s, const std::string& p) {
  auto r = s.receive(p);
  EXPECT_TRUE(std::holds_alternative<Violation>(r));
  return std::holds_alternative<Violation>(r) ? std::get<Violation>(r).error : ChannelError::kIo;
}

bool accepted(PeerSession& s, const std::string& p) {
  auto r = s.receive(p);
  if (auto* v = std::get_if<Violation>(&r)) ADD_FAILURE() << v->detail;
  return std::holds_alternative<wire::PeerMessage>(r);
}

TEST(PeerSession, AcceptsAHelloThenOrderedMessages) {
  auto s = session("b");
  EXPECT_FALSE(s.established());
  EXPECT_TRUE(accepted(s, payload(hello(1, "b"))));
  EXPECT_TRUE(s.established());
  EXPECT_EQ(s.peer(), "b");
  EXPECT_EQ(s.bootId(), 42u);
  EXPECT_TRUE(accepted(s, payload(ping(2))));
  EXPECT_TRUE(accepted(s, payload(ping(3))));
  EXPECT_EQ(s.nextSendSeq(), 1u);
  EXPECT_EQ(s.nextSendSeq(), 2u);
}

TEST(PeerSession, ClosesOnEveryKindOfForgery) {
  {
    auto s = session();
    std::string p = payload(hello(1, "b"));
    EXPECT_EQ(errorOf(s, p.substr(0, p.size() - 2)), ChannelError::kMalformed);  // truncated
  }
  {
    auto s = session();
    EXPECT_EQ(errorOf(s, "\xff\xff\xff\xff"), ChannelError::kMalformed);
  }
  {
    auto s = session();
    EXPECT_EQ(errorOf(s, payload(ping(1))), ChannelError::kNoHello);
  }
  {
    auto s = session();
    EXPECT_EQ(errorOf(s, payload(hello(2, "b"))), ChannelError::kBadSequence);
  }
  {
    auto s = session();
    wire::PeerMessage empty;
    empty.set_seq(1);
    EXPECT_EQ(errorOf(s, payload(empty)), ChannelError::kEmptyBody);
  }
  {
    auto s = session();
    EXPECT_EQ(errorOf(s, payload(hello(1, "b", 2))), ChannelError::kBadHello);  // version
  }
  {
    auto s = session();
    EXPECT_EQ(errorOf(s, payload(hello(1, "a"))), ChannelError::kBadHello);  // ourselves
  }
  {
    auto s = session();
    EXPECT_EQ(errorOf(s, payload(hello(1, "zed"))), ChannelError::kBadHello);  // unknown
  }
  {
    auto s = session("c", "c");
    EXPECT_EQ(errorOf(s, payload(hello(1, "b"))), ChannelError::kBadHello);  // not who we dialled
  }
  {
    auto s = session("", "c");  // certificate says c, hello says b
    EXPECT_EQ(errorOf(s, payload(hello(1, "b"))), ChannelError::kBadHello);
  }
  {
    auto s = session();
    ASSERT_TRUE(accepted(s, payload(hello(1, "b"))));
    EXPECT_EQ(errorOf(s, payload(hello(2, "b"))), ChannelError::kDuplicateHello);
  }
  {
    auto s = session();
    ASSERT_TRUE(accepted(s, payload(hello(1, "b"))));
    EXPECT_EQ(errorOf(s, payload(ping(2 + 1))), ChannelError::kBadSequence);  // gap
  }
  {
    auto s = session();
    ASSERT_TRUE(accepted(s, payload(hello(1, "b"))));
    ASSERT_TRUE(accepted(s, payload(ping(2))));
    EXPECT_EQ(errorOf(s, payload(ping(2))), ChannelError::kBadSequence);  // replay
  }
}

TEST(PeerSession, ErrorNamesAreStable) {
  EXPECT_STREQ(channelErrorName(ChannelError::kBadFrame), "bad-frame");
  EXPECT_STREQ(channelErrorName(ChannelError::kTruncated), "truncated");
  EXPECT_STREQ(channelErrorName(ChannelError::kOverflow), "overflow");
  for (size_t i = 0; i < kChannelErrorCount; ++i)
    EXPECT_STRNE(channelErrorName(ChannelError(i)), "?") << i;
}

TEST(PeerHealth, RoundTripsThroughTheWire) {
  HealthView v;
  ServiceHealth s;
  s.key = "tcp/192.0.2.10:80";
  s.quorum = true;
  RealServerHealth a;
  a.address = Endpoint::parse("10.0.0.1:80").value();
  a.up = true;
  a.weight = 0;  // in the pool with weight 0 (inhibited) differs from absent
  a.settled = true;
  RealServerHealth b;
  b.address = Endpoint::parse("[2001:db8::1]:8080").value();
  b.draining = true;
  s.realServers = {a, b};
  v.services.push_back(s);
  wire::HealthReport r;
  toProto(v, &r);
  auto back = fromProto(r);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, v);

  r.mutable_service(0)->mutable_real_server(1)->set_address("10.0.0.300:80");
  auto bad = fromProto(r);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("service 'tcp/192.0.2.10:80'"), std::string::npos);
}

TEST(PeerHealth, RolesRoundTripAndRefuseUnknownStates) {
  std::map<std::string, InstanceRole> roles = {{"web", InstanceRole::kMaster},
                                               {"db", InstanceRole::kBackup}};
  google::protobuf::RepeatedPtrField<wire::InstanceRole> p;
  toProto(roles, &p);
  auto back = fromProto(p);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, roles);
  p.Mutable(0)->set_state("BOSS");
  EXPECT_FALSE(fromProto(p).ok());
  EXPECT_EQ(parseRole("FAULT"), InstanceRole::kFault);
  EXPECT_EQ(parseRole("fault"), std::nullopt);
}

TEST(PeerBook, ComparesDigestsBothWays) {
  PeerBook b;
  b.setLocalDigest("d1");
  EXPECT_TRUE(b.peerDigest("b", "d1", 1));   // first comparison: reported
  EXPECT_FALSE(b.find("b")->mismatch);
  EXPECT_FALSE(b.peerDigest("b", "d1", 1));  // no change
  EXPECT_TRUE(b.peerDigest("b", "d2", 2));   // the peer reloaded
  EXPECT_TRUE(b.find("b")->mismatch);
  EXPECT_EQ(b.setLocalDigest("d2"), std::vector<std::string>{"b"});  // we reloaded too
  EXPECT_FALSE(b.find("b")->mismatch);
  EXPECT_TRUE(b.setLocalDigest("d2").empty());
  b.peerHello("c", 1);  // no digest yet from c: not compared, not reported
  EXPECT_TRUE(b.setLocalDigest("d3") == std::vector<std::string>{"b"});
  EXPECT_FALSE(b.find("c")->compared);
}

TEST(PeerBook, TakesOnlyNewerHealthPerBoot) {
  PeerBook b;
  HealthView v1, v2;
  v2.services.push_back({"s", true, false, {}});
  b.peerHello("b", 7);
  EXPECT_TRUE(b.peerHealth("b", 1, v1));
  EXPECT_TRUE(b.peerHealth("b", 3, v2));
  EXPECT_FALSE(b.peerHealth("b", 2, v1));  // stale
  EXPECT_EQ(*b.find("b")->health, v2);
  b.peerHello("b", 7);  // reconnect, same process
  EXPECT_FALSE(b.peerHealth("b", 3, v1));
  b.peerHello("b", 8);  // the peer restarted: versions start again
  EXPECT_TRUE(b.peerHealth("b", 1, v1));
  b.forget("b");
  EXPECT_EQ(b.find("b"), nullptr);
}

TEST(Backoff, DoublesUpToTheMaximumWithBoundedJitter) {
  Backoff plain(100ms, 5s, 0.0, 1);
  std::vector<Duration> d;
  for (int i = 0; i < 9; ++i) d.push_back(plain.next());
  EXPECT_EQ(d[0], 100ms);
  EXPECT_EQ(d[1], 200ms);
  EXPECT_EQ(d[5], 3200ms);
  EXPECT_EQ(d[6], 5s);
  EXPECT_EQ(d[8], 5s);
  plain.reset();
  EXPECT_EQ(plain.next(), 100ms);

  Backoff j(100ms, 5s, 0.2, 99);
  Backoff same(100ms, 5s, 0.2, 99);
  bool varied = false;
  for (int i = 0; i < 50; ++i) {
    Duration x = j.next();
    EXPECT_EQ(x, same.next());  // deterministic per seed
    double base = std::min(100.0 * std::pow(2.0, i), 5000.0);
    EXPECT_GE(toMillis(x), int64_t(base * 0.8) - 1);
    EXPECT_LE(toMillis(x), int64_t(base * 1.2) + 1);
    if (toMillis(x) != int64_t(base)) varied = true;
  }
  EXPECT_TRUE(varied);
}

}  // namespace
}  // namespace lvsd::sync
