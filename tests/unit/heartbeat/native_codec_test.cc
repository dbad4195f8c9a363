#include "heartbeat/native_codec.h"

#include <gtest/gtest.h>

#include <random>

namespace lvsd::heartbeat {
namespace {

std::vector<uint8_t> bytes(size_t n, uint8_t v) { return std::vector<uint8_t>(n, v); }

std::span<const uint8_t> asBytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

wire::Heartbeat sample() {
  wire::Heartbeat hb;
  hb.set_version(kNativeVersion);
  hb.set_director("a");
  hb.set_boot_id(0x1122334455667788ull);
  hb.set_sequence(42);
  hb.set_sent_unix_ms(1'700'000'000'000);
  hb.set_link("lan");
  hb.set_config_digest("abc");
  auto* i = hb.add_instance();
  i->set_name("web");
  i->set_vrid(10);
  i->set_priority(150);
  i->set_state(wire::MASTER);
  i->set_interval_ms(100);
  return hb;
}

KeyRing ring(std::initializer_list<std::pair<uint32_t, uint8_t>> keys, uint32_t send) {
  KeyRing r;
  for (auto [id, v] : keys) EXPECT_TRUE(r.add(id, bytes(32, v)).ok());
  EXPECT_TRUE(r.setSendKey(send).ok());
  return r;
}

TEST(NativeCodec, SealAndOpen) {
  KeyRing k = ring({{1, 0xaa}}, 1);
  std::string frame = sealFrame(k, sample());
  auto d = openFrame(k, asBytes(frame));
  ASSERT_TRUE(d.ok()) << dropReasonName(d.drop);
  EXPECT_EQ(d.value.director(), "a");
  EXPECT_EQ(d.value.sequence(), 42u);
  EXPECT_EQ(d.value.instance(0).priority(), 150u);
}

TEST(NativeCodec, KeyRotation) {
  // Sender moved to key 2; a receiver holding both keys accepts either.
  KeyRing sender = ring({{1, 0xaa}, {2, 0xbb}}, 2);
  KeyRing both = ring({{1, 0xaa}, {2, 0xbb}}, 1);
  KeyRing onlyOld = ring({{1, 0xaa}}, 1);
  std::string frame = sealFrame(sender, sample());
  EXPECT_TRUE(openFrame(both, asBytes(frame)).ok());
  EXPECT_EQ(openFrame(onlyOld, asBytes(frame)).drop, DropReason::kUnknownKey);
  EXPECT_TRUE(openFrame(sender, asBytes(sealFrame(both, sample()))).ok());
}

TEST(NativeCodec, WrongSecretIsABadMac) {
  KeyRing good = ring({{1, 0xaa}}, 1);
  KeyRing forger = ring({{1, 0xab}}, 1);
  EXPECT_EQ(openFrame(good, asBytes(sealFrame(forger, sample()))).drop, DropReason::kBadMac);
}

TEST(NativeCodec, KeyIdIsAuthenticated) {
  // The same secret under two ids: moving a frame to the other id breaks it.
  KeyRing k = ring({{1, 0xaa}, {2, 0xaa}}, 1);
  wire::Frame f;
  ASSERT_TRUE(f.ParseFromString(sealFrame(k, sample())));
  f.set_key_id(2);
  EXPECT_EQ(openFrame(k, asBytes(f.SerializeAsString())).drop, DropReason::kBadMac);
}

TEST(NativeCodec, EveryTamperedByteIsRejected) {
  KeyRing k = ring({{1, 0xaa}}, 1);
  std::string frame = sealFrame(k, sample());
  for (size_t i = 0; i < frame.size(); ++i) {
    for (uint8_t flip : {0x01, 0x80, 0xff}) {
      std::string t = frame;
      t[i] = static_cast<char>(t[i] ^ flip);
      auto d = openFrame(k, asBytes(t));
      EXPECT_FALSE(d.ok()) << "byte " << i << " ^ " << int(flip);
    }
  }
  for (size_t n = 0; n < frame.size(); ++n)
    EXPECT_FALSE(openFrame(k, asBytes(frame.substr(0, n))).ok()) << "truncated to " << n;
}

TEST(NativeCodec, DropReasons) {
  KeyRing k = ring({{1, 0xaa}}, 1);
  EXPECT_EQ(openFrame(k, {}).drop, DropReason::kTruncated);
  std::string big(kMaxFrameBytes + 1, 'x');
  EXPECT_EQ(openFrame(k, asBytes(big)).drop, DropReason::kOversize);
  std::string junk = "\xff\xff\xff\xff\xff";
  EXPECT_EQ(openFrame(k, asBytes(junk)).drop, DropReason::kMalformed);
  wire::Frame f;
  f.set_key_id(1);
  f.set_payload("x");
  f.set_mac("short");
  EXPECT_EQ(openFrame(k, asBytes(f.SerializeAsString())).drop, DropReason::kBadMac);
  wire::Heartbeat v2 = sample();
  v2.set_version(2);
  EXPECT_EQ(openFrame(k, asBytes(sealFrame(k, v2))).drop, DropReason::kBadVersion);
}

TEST(NativeCodec, RandomBytesAreDroppedNeverAccepted) {
  KeyRing k = ring({{0, 0x11}, {1, 0xaa}}, 1);
  std::mt19937 rng(99);
  DropCounters seen{};
  for (int i = 0; i < 100'000; ++i) {
    std::string b(rng() % 200, '\0');
    for (auto& c : b) c = static_cast<char>(rng());
    if (rng() % 3 == 0 && b.size() > 2) {
      b[0] = 0x08;  // field 1 varint: a plausible key id
      b[1] = static_cast<char>(rng() % 2);
    }
    auto d = openFrame(k, asBytes(b));
    ASSERT_FALSE(d.ok());
    ++seen[static_cast<size_t>(d.drop)];
  }
  EXPECT_GT(seen[static_cast<size_t>(DropReason::kMalformed)], 0u);
}

TEST(NativeCodec, HexSecrets) {
  auto s = parseHexSecret("00ff10Ab\n");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, (std::vector<uint8_t>{0x00, 0xff, 0x10, 0xab}));
  EXPECT_FALSE(parseHexSecret("abc").ok());
  EXPECT_FALSE(parseHexSecret("zz").ok());
  KeyRing r;
  EXPECT_FALSE(r.add(1, bytes(15, 1)).ok()) << "shorter than 16 bytes";
  EXPECT_TRUE(r.add(1, bytes(16, 1)).ok());
  EXPECT_FALSE(r.add(1, bytes(16, 2)).ok()) << "duplicate id";
  EXPECT_FALSE(r.setSendKey(9).ok());
}

// ---------------------------------------------------------------------------
// Replay window

constexpr int64_t kNow = 1'700'000'000'000;
constexpr int64_t kWin = 5000;

TEST(ReplayWindow, InOrderThenDuplicates) {
  ReplayWindow w;
  for (uint64_t s = 1; s <= 100; ++s) EXPECT_EQ(w.admit(7, s, kNow, kNow, kWin), DropReason::kNone);
  EXPECT_EQ(w.admit(7, 100, kNow, kNow, kWin), DropReason::kReplayed);
  EXPECT_EQ(w.admit(7, 50, kNow, kNow, kWin), DropReason::kReplayed);
  EXPECT_EQ(w.maxSeq(), 100u);
}

TEST(ReplayWindow, ReorderedWithinTheWindowIsAcceptedOnce) {
  ReplayWindow w;
  EXPECT_EQ(w.admit(7, 10, kNow, kNow, kWin), DropReason::kNone);
  EXPECT_EQ(w.admit(7, 8, kNow, kNow, kWin), DropReason::kNone);
  EXPECT_EQ(w.admit(7, 8, kNow, kNow, kWin), DropReason::kReplayed);
  EXPECT_EQ(w.admit(7, 9, kNow, kNow, kWin), DropReason::kNone);
  EXPECT_EQ(w.admit(7, 200, kNow, kNow, kWin), DropReason::kNone);
  EXPECT_EQ(w.admit(7, 200 - 63, kNow, kNow, kWin), DropReason::kNone) << "oldest slot";
  EXPECT_EQ(w.admit(7, 200 - 64, kNow, kNow, kWin), DropReason::kReplayed) << "past the window";
  EXPECT_EQ(w.admit(7, 10, kNow, kNow, kWin), DropReason::kReplayed);
}

TEST(ReplayWindow, LargeJumpClearsTheBitmap) {
  ReplayWindow w;
  EXPECT_EQ(w.admit(7, 1, kNow, kNow, kWin), DropReason::kNone);
  EXPECT_EQ(w.admit(7, 1'000'000, kNow, kNow, kWin), DropReason::kNone);
  EXPECT_EQ(w.admit(7, 999'999, kNow, kNow, kWin), DropReason::kNone);
  EXPECT_EQ(w.admit(7, 1'000'000, kNow, kNow, kWin), DropReason::kReplayed);
}

TEST(ReplayWindow, StaleInBothDirections) {
  ReplayWindow w;
  EXPECT_EQ(w.admit(7, 1, kNow - kWin - 1, kNow, kWin), DropReason::kStale);
  EXPECT_EQ(w.admit(7, 1, kNow + kWin + 1, kNow, kWin), DropReason::kStale);
  EXPECT_FALSE(w.seen()) << "a stale frame leaves no trace";
  EXPECT_EQ(w.admit(7, 1, kNow - kWin, kNow, kWin), DropReason::kNone) << "edge is inside";
}

TEST(ReplayWindow, NewBootMustBeNewer) {
  ReplayWindow w;
  EXPECT_EQ(w.admit(1, 500, kNow, kNow, kWin), DropReason::kNone);
  // The peer restarted: new boot id, sequence from 1, later timestamp.
  EXPECT_EQ(w.admit(2, 1, kNow + 10, kNow + 10, kWin), DropReason::kNone);
  EXPECT_EQ(w.bootId(), 2u);
  EXPECT_EQ(w.admit(2, 2, kNow + 20, kNow + 20, kWin), DropReason::kNone);
  // A frame captured from the old boot, replayed within the time window.
  EXPECT_EQ(w.admit(1, 501, kNow + 5, kNow + 30, kWin), DropReason::kReplayed);
  // …and an invented boot id with an old timestamp.
  EXPECT_EQ(w.admit(3, 1, kNow + 15, kNow + 30, kWin), DropReason::kReplayed);
  EXPECT_EQ(w.bootId(), 2u);
}

}  // namespace
}  // namespace lvsd::heartbeat
