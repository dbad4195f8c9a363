#pragma once
// Private to sync/: the pure half of the peer channel (proto/sync.proto):
// stream framing, per-connection checks, health-view conversion, the digest
// and health bookkeeping per peer, and reconnect backoff. No sockets.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "proto/sync.pb.h"
#include "sync/sync.h"

namespace lvsd::sync {

inline constexpr uint32_t kPeerProtocolVersion = 1;
// A frame larger than this is refused (a full health view of thousands of
// real servers is well below it).
inline constexpr uint32_t kMaxPeerFrame = 4u << 20;

// Why a connection was closed. Every reason is a counter.
enum class ChannelError : uint8_t {
  kBadFrame,        // announced length 0 or above kMaxPeerFrame
  kTruncated,       // the stream ended inside a frame
  kMalformed,       // the payload is not a PeerMessage
  kBadSequence,     // seq is not the previous one + 1
  kNoHello,         // the first message is not a Hello
  kBadHello,        // wrong version, unknown director, or not the authenticated peer
  kDuplicateHello,  // a second Hello on one connection
  kEmptyBody,       // no message in the oneof
  kBadContent,      // a field that does not parse (address, role)
  kTimeout,         // handshake, Hello or keepalive deadline passed
  kTls,             // TLS handshake or certificate verification failed
  kIo,              // the connection failed or was closed by the peer
  kReplaced,        // a newer connection from the same peer took over
  kOverflow,        // the peer does not read: the send queue grew too long
};
inline constexpr size_t kChannelErrorCount = 14;
const char* channelErrorName(ChannelError e);  // "bad-frame", "truncated", ...

struct Violation {
  ChannelError error = ChannelError::kMalformed;
  std::string detail;
};

// Length-prefixed frame of one message.
std::string encodePeerFrame(const wire::PeerMessage& m);

// Splits a byte stream into frame payloads.
class FrameReader {
 public:
  void feed(const void* data, size_t n);
  // The next complete payload; nullopt when more bytes are needed; a
  // Violation (kBadFrame) when the length prefix is out of bounds.
  std::variant<std::nullopt_t, std::string, Violation> next();
  // Bytes of an incomplete frame: non-zero at end of stream = truncated.
  size_t pending() const { return buf_.size() - pos_; }
  // "truncated frame: 10 of 104 bytes" for the end of stream, or "".
  std::string truncation() const;

 private:
  std::string buf_;
  size_t pos_ = 0;
};

// The checks on what one connection receives. `identityMatches` says whether
// the authenticated TLS identity (certificate name or PSK identity) is the
// named director; `expectedPeer` is set on the dialling side.
class PeerSession {
 public:
  PeerSession(std::string self, std::set<std::string> directors, std::string expectedPeer,
              std::function<bool(const std::string&)> identityMatches);

  // A valid message, or why the connection must close.
  std::variant<wire::PeerMessage, Violation> receive(std::string_view payload);

  bool established() const { return !peer_.empty(); }
  const std::string& peer() const { return peer_; }
  uint64_t bootId() const { return bootId_; }
  // Sequence number for the next message this side sends (1, 2, ...).
  uint64_t nextSendSeq() { return ++sent_; }

 private:
  std::string self_;
  std::set<std::string> directors_;
  std::string expected_;
  std::function<bool(const std::string&)> identityMatches_;
  std::string peer_;
  uint64_t bootId_ = 0;
  uint64_t received_ = 0;
  uint64_t sent_ = 0;
};

// Health views to and from the wire. fromProto fails on an address that
// does not parse.
void toProto(const HealthView& v, wire::HealthReport* out);
Result<HealthView> fromProto(const wire::HealthReport& r);

// Role lists to and from the wire.
void toProto(const std::map<std::string, InstanceRole>& roles,
             google::protobuf::RepeatedPtrField<wire::InstanceRole>* out);
Result<std::map<std::string, InstanceRole>> fromProto(
    const google::protobuf::RepeatedPtrField<wire::InstanceRole>& roles);
std::optional<InstanceRole> parseRole(std::string_view name);

// What each peer last said, and the comparisons derived from it.
class PeerBook {
 public:
  struct Entry {
    std::string digest;
    uint64_t generation = 0;
    bool mismatch = false;
    bool compared = false;
    uint64_t bootId = 0;
    uint64_t healthVersion = 0;
    std::optional<HealthView> health;
    std::map<std::string, InstanceRole> roles;
  };

  // Returns the peers whose mismatch flag changed (or was first set).
  std::vector<std::string> setLocalDigest(const std::string& digest);
  // A digest from `peer`; true when its mismatch flag changed or is new.
  bool peerDigest(const std::string& peer, const std::string& digest, uint64_t generation);
  // A new connection from `peer` with this boot id: a new boot resets the
  // health version so its first report is taken.
  void peerHello(const std::string& peer, uint64_t bootId);
  // A health report; false (ignored) when not newer than the last one.
  bool peerHealth(const std::string& peer, uint64_t version, HealthView view);
  void peerRoles(const std::string& peer, std::map<std::string, InstanceRole> roles);
  void forget(const std::string& peer);  // no longer in the config

  const Entry* find(const std::string& peer) const;
  const std::map<std::string, Entry>& entries() const { return peers_; }
  const std::string& localDigest() const { return local_; }

 private:
  std::string local_;
  std::map<std::string, Entry> peers_;
};

// Reconnect delays: initial, doubling up to max, each spread by ±jitter
// (a fraction, 0..1) with a deterministic generator.
class Backoff {
 public:
  Backoff(Duration initial, Duration max, double jitter, uint64_t seed);
  Duration next();
  void reset() { attempt_ = 0; }
  unsigned attempts() const { return attempt_; }

 private:
  double uniform();  // [0, 1)
  Duration initial_, max_;
  double jitter_;
  uint64_t state_;
  unsigned attempt_ = 0;
};

}  // namespace lvsd::sync
