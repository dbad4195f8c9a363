#pragma once
// Private to heartbeat/: the vocabulary shared by the election core, the
// codecs and the engine. heartbeat.h re-exports what the daemon needs.

#include <array>
#include <cstdint>
#include <string_view>

namespace lvsd::heartbeat {

// RFC 5798 §6.4 states plus STOP (a clean shutdown, keepalived's "STOP").
enum class State : uint8_t { kInit, kBackup, kMaster, kFault, kStop };
inline constexpr size_t kStateCount = 5;
const char* stateName(State s);  // "INIT" "BACKUP" "MASTER" "FAULT" "STOP"

// Why a transition happened; the token appears in the log line and events.
enum class Reason : uint8_t {
  kStartup,             // INIT -> BACKUP
  kAddressOwner,        // INIT -> MASTER, priority 255 (RFC 5798 §6.4.1)
  kMasterDown,          // master-down timer expired: no master heard
  kMasterReleased,      // the master advertised priority 0 (clean stop / fault)
  kPreempt,             // master-down timer expired after discarding a lower master
  kHigherPriority,      // a MASTER heard a higher-priority master
  kHigherAddress,       // a MASTER heard an equal-priority master with a higher address
  kTrackerFault,        // a tracker with weight 0 failed
  kFaultCleared,        // every fault tracker recovered
  kSyncGroup,           // a sync-group member changed state
  kStop,                // clean shutdown
  kOperator,            // `lvsctl failover`: the operator asked MASTER to step down
  kResume,              // INIT -> MASTER: restarted in place, its VIPs still held
};
inline constexpr size_t kReasonCount = 13;
const char* reasonName(Reason r);  // "master-down-timer", ...

// Why a received packet was dropped. Every reason is a counter.
enum class DropReason : uint8_t {
  kNone,
  kTruncated,        // shorter than its headers say
  kOversize,         // longer than any valid packet
  kMalformed,        // does not parse (protobuf, IP header, VRRP fields)
  kUnknownKey,       // NATIVE: key id not configured
  kBadMac,           // NATIVE: HMAC mismatch
  kBadVersion,       // unsupported protocol version
  kUnknownPeer,      // NATIVE: director not in the config
  kOwnPacket,        // sent by this director (looped back)
  kWrongSource,      // source address is not the sender's configured address
  kStale,            // NATIVE: timestamp outside replay_window_ms
  kReplayed,         // NATIVE: (boot id, sequence) already seen or too old
  kUnknownInstance,  // no instance with that name / VRID on this link
  kBadTtl,           // VRRP: IPv4 TTL / IPv6 hop limit is not 255
  kBadChecksum,      // VRRP: checksum mismatch
  kBadType,          // VRRP: not an ADVERTISEMENT
  kIntervalMismatch, // VRRPv2: advertisement interval differs (RFC 3768 §7.1)
  kBadAuth,          // VRRPv2: authentication type other than none
  kWrongDestination, // VRRP: not the multicast group / not us
  kFragment,         // IPv4 fragment
};
inline constexpr size_t kDropReasonCount = 20;
const char* dropReasonName(DropReason r);  // "bad-mac", ...

using DropCounters = std::array<uint64_t, kDropReasonCount>;

// Decoder result: a value, or the reason it was dropped.
template <typename T>
struct Decoded {
  T value{};
  DropReason drop = DropReason::kNone;
  bool ok() const { return drop == DropReason::kNone; }
  static Decoded fail(DropReason r) {
    Decoded d;
    d.drop = r;
    return d;
  }
};

}  // namespace lvsd::heartbeat
