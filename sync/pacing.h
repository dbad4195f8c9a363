#pragma once
// Private to sync/: how a full-table resync is cut into datagrams and how
// fast they go. Pure: times are arguments.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/clock.h"
#include "core/address.h"
#include "sync/wire.h"

namespace lvsd::sync {

// IPv4 + UDP / IPv6 + UDP header bytes in front of a sync message.
inline constexpr size_t kUdpV4Overhead = 28;
inline constexpr size_t kUdpV6Overhead = 48;

// The largest sync message a backup is sure to accept whole, and that
// leaves the sending interface unfragmented. The backup's kernel reads at
// most sync_maxlen bytes per datagram and drops a message whose size field
// disagrees with what it read: with maxlen configured that is maxlen
// clamped to 1024..65535-headers; otherwise its interface MTU (at least
// 1500) less the headers. The master does not know the backup's MTU, so it
// assumes 1500. `interfaceMtu` 0 = unknown.
size_t resyncDatagramLimit(uint32_t configuredMaxlen, Family groupFamily, uint32_t interfaceMtu);

// Packs entries greedily, in order, into datagrams of at most `maxDatagram`
// bytes and 255 entries. An entry larger than the limit on its own still
// goes, alone (the kernel's own sender does the same).
class MessagePacker {
 public:
  MessagePacker(uint8_t syncId, size_t maxDatagram, std::span<const wire::SyncConn> entries);

  bool done() const { return next_ >= entries_.size(); }
  // The next datagram. Entries that fail wire::validate() are skipped and
  // counted (they cannot be encoded); call only while !done().
  std::vector<uint8_t> next();

  size_t packed() const { return packed_; }
  size_t invalid() const { return invalid_; }

 private:
  uint8_t syncId_;
  size_t max_;
  std::span<const wire::SyncConn> entries_;
  size_t next_ = 0;
  size_t packed_ = 0;
  size_t invalid_ = 0;
};

// All datagrams at once.
std::vector<std::vector<uint8_t>> packAll(uint8_t syncId, size_t maxDatagram,
                                          std::span<const wire::SyncConn> entries,
                                          size_t* invalid = nullptr);

// Token bucket over datagrams: `ratePerSecond` on average, at most `burst`
// back to back. Starts full. Integer arithmetic (one token = 10^9 units,
// earned at `rate` units per nanosecond), so long runs do not drift.
class Pacer {
 public:
  Pacer(uint32_t ratePerSecond, uint32_t burst, TimePoint start);

  // Datagrams that may be sent at `now` (earned up to now, at most burst).
  uint64_t available(TimePoint now);
  // Spends n; n must not exceed available().
  void consume(uint64_t n);
  // The earliest time at which one datagram is available (now if one is).
  TimePoint nextAt(TimePoint now);

  uint32_t rate() const { return rate_; }
  uint32_t burst() const { return burst_; }

 private:
  void refill(TimePoint now);
  static constexpr uint64_t kUnit = 1'000'000'000;
  uint32_t rate_;
  uint32_t burst_;
  uint64_t tokens_;  // in units; at most burst tokens plus a fraction of one
  TimePoint last_;
};

// A burst that keeps timer wakeups near 1 kHz at high rates and is at least
// one datagram: rate / 1000, clamped to 1..64.
uint32_t defaultBurst(uint32_t ratePerSecond);

}  // namespace lvsd::sync
