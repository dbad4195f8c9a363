#include "sync/pacing.h"

#include <algorithm>

namespace lvsd::sync {

size_t resyncDatagramLimit(uint32_t configuredMaxlen, Family groupFamily, uint32_t interfaceMtu) {
  size_t hlen = groupFamily == Family::kV6 ? kUdpV6Overhead : kUdpV4Overhead;
  size_t backup = configuredMaxlen
                      ? std::clamp<size_t>(configuredMaxlen, 1024, wire::kMaxMessageLen - hlen)
                      : 1500 - hlen;
  if (interfaceMtu > hlen) backup = std::min(backup, size_t{interfaceMtu} - hlen);
  return std::min(backup, wire::kMaxMessageLen);
}

MessagePacker::MessagePacker(uint8_t syncId, size_t maxDatagram,
                             std::span<const wire::SyncConn> entries)
    : syncId_(syncId), max_(maxDatagram), entries_(entries) {}

std::vector<uint8_t> MessagePacker::next() {
  size_t begin = next_;
  size_t size = wire::kHeaderLen;
  std::vector<wire::SyncConn> batch;  // only used when invalid entries must be dropped
  bool sawInvalid = false;
  size_t count = 0;
  while (next_ < entries_.size() && count < wire::kMaxConnsPerMessage) {
    const auto& e = entries_[next_];
    if (!wire::validate(e)) {
      if (!sawInvalid) batch.assign(entries_.begin() + begin, entries_.begin() + next_);
      sawInvalid = true;
      ++invalid_;
      ++next_;
      continue;
    }
    size_t grown = ((size + 3) & ~size_t{3}) + wire::entrySize(e);
    if (count > 0 && grown > max_) break;
    size = grown;
    ++count;
    if (sawInvalid) batch.push_back(e);
    ++next_;
  }
  packed_ += count;
  auto span = sawInvalid ? std::span<const wire::SyncConn>(batch)
                         : entries_.subspan(begin, next_ - begin);
  // Every entry here passed validate() and the size/count limits hold, so
  // encoding cannot fail.
  auto out = wire::encodeMessage(syncId_, span);
  return out.ok() ? std::move(out).value() : std::vector<uint8_t>{};
}

std::vector<std::vector<uint8_t>> packAll(uint8_t syncId, size_t maxDatagram,
                                          std::span<const wire::SyncConn> entries,
                                          size_t* invalid) {
  MessagePacker p(syncId, maxDatagram, entries);
  std::vector<std::vector<uint8_t>> out;
  while (!p.done()) {
    auto d = p.next();
    if (d.size() > wire::kHeaderLen) out.push_back(std::move(d));
  }
  if (invalid) *invalid = p.invalid();
  return out;
}

Pacer::Pacer(uint32_t ratePerSecond, uint32_t burst, TimePoint start)
    : rate_(std::max<uint32_t>(ratePerSecond, 1)),
      burst_(std::max<uint32_t>(burst, 1)),
      tokens_(uint64_t{burst_} * kUnit),
      last_(start) {}

void Pacer::refill(TimePoint now) {
  if (now <= last_) return;
  // Whole tokens stop at the burst; the fraction earned towards the next one
  // is kept, so a full bucket does not slow the average rate.
  uint64_t cap = uint64_t{burst_} * kUnit + (kUnit - 1);
  uint64_t missing = cap - tokens_;
  // Cap the elapsed time before multiplying so the product cannot overflow.
  uint64_t needNs = (missing + rate_ - 1) / rate_;
  uint64_t elapsed = uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(now - last_).count());
  if (elapsed >= needNs) {
    tokens_ = cap;
  } else {
    tokens_ += elapsed * rate_;
  }
  last_ = now;
}

uint64_t Pacer::available(TimePoint now) {
  refill(now);
  return std::min<uint64_t>(tokens_ / kUnit, burst_);
}

void Pacer::consume(uint64_t n) {
  uint64_t cost = n * kUnit;
  tokens_ = cost > tokens_ ? 0 : tokens_ - cost;
}

TimePoint Pacer::nextAt(TimePoint now) {
  refill(now);
  if (tokens_ >= kUnit) return now;
  uint64_t ns = (kUnit - tokens_ + rate_ - 1) / rate_;
  return now + std::chrono::nanoseconds(ns);
}

uint32_t defaultBurst(uint32_t ratePerSecond) {
  return std::clamp<uint32_t>(ratePerSecond / 1000, 1, 64);
}

}  // namespace lvsd::sync
