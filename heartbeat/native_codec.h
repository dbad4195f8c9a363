#pragma once
// Private to heartbeat/: the NATIVE frame (proto/heartbeat.proto) signed with
// HMAC-SHA256, and the replay window. Pure: keys and clocks come in as
// arguments.

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/result.h"
#include "heartbeat/types.h"
#include "proto/heartbeat.pb.h"

namespace lvsd::heartbeat {

inline constexpr uint32_t kNativeVersion = 1;
inline constexpr size_t kMacLen = 32;             // HMAC-SHA256
inline constexpr size_t kMaxFrameBytes = 8192;    // anything larger is not ours

class KeyRing {
 public:
  // Secrets are raw bytes (config carries hex or a file of hex).
  Status add(uint32_t id, std::vector<uint8_t> secret);
  Status setSendKey(uint32_t id);
  const std::vector<uint8_t>* find(uint32_t id) const;
  uint32_t sendKeyId() const { return sendKey_; }
  bool empty() const { return keys_.empty(); }

 private:
  std::map<uint32_t, std::vector<uint8_t>> keys_;
  uint32_t sendKey_ = 0;
};

// Hex ("0a1B..") to bytes; whitespace and a trailing newline are tolerated
// so a secret_file can be written with echo.
Result<std::vector<uint8_t>> parseHexSecret(const std::string& text);

// Serializes `hb`, signs it with the ring's send key, returns the datagram.
std::string sealFrame(const KeyRing& keys, const wire::Heartbeat& hb);

// Checks size, frame syntax, key id and MAC (constant-time) before parsing
// the payload; then the version.
Decoded<wire::Heartbeat> openFrame(const KeyRing& keys, std::span<const uint8_t> datagram);

// Replay protection for one (peer, link) stream: a timestamp window against
// the receiver's wall clock, then a 64-entry sliding window over the
// sequence numbers of the current boot id. A new boot id is accepted only
// with a timestamp newer than everything seen from the previous one, so a
// captured frame of an earlier boot cannot come back.
class ReplayWindow {
 public:
  static constexpr uint64_t kWidth = 64;
  // Returns kNone and records the frame, or kStale / kReplayed.
  DropReason admit(uint64_t bootId, uint64_t seq, int64_t sentMs, int64_t nowMs, int64_t windowMs);
  bool seen() const { return have_; }
  uint64_t bootId() const { return boot_; }
  uint64_t maxSeq() const { return maxSeq_; }

 private:
  bool have_ = false;
  uint64_t boot_ = 0;
  uint64_t maxSeq_ = 0;
  uint64_t bitmap_ = 0;  // bit k = maxSeq_ - k seen
  int64_t newestMs_ = 0;
};

}  // namespace lvsd::heartbeat
