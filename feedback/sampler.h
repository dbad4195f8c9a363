#pragma once
// The agent's sampling math, pure. The paper ran `vmstat 5 5`: five reports
// five seconds apart, the first dropped (its rates are averages since boot),
// the mean of the other four kept. lvs-agent reads /proc every interval and
// keeps a ring of interval samples, so that at any moment the mean of the
// last N − 1 samples is exactly that statistic over the most recent window
// (and a client may ask for another N). The first reading after start has
// only since-boot rates; it is dropped unless keepFirst is set.

#include <cstddef>
#include <deque>
#include <optional>

#include "core/clock.h"
#include "core/result.h"
#include "feedback/procfs.h"
#include "proto/agent.pb.h"

namespace lvsd::feedback {

// One vmstat line: gauges at the end of an interval, rates over it.
struct Sample {
  double runQueue = 0;      // r
  double blocked = 0;       // b
  double swapped = 0;       // w
  double freeKb = 0;        // free
  double availableKb = 0;   // MemAvailable
  double swapOutKbS = 0;    // so
  double swapInKbS = 0;     // si
  double cpuIdlePct = 0;    // id
  double cpuIowaitPct = 0;  // wa
};

// Rates over (prev, cur]. nullopt when the interval is empty or a counter
// went backwards (CPU hot-unplug, counter reset): such an interval is skipped.
std::optional<Sample> sampleBetween(const Reading& prev, const Reading& cur, double pageKb);
// vmstat's first line: rates averaged since boot.
Sample sampleSinceBoot(const Reading& cur, double pageKb);

struct Window {
  Sample mean;
  size_t samples = 0;  // how many were averaged
  Duration span{0};    // from the start of the oldest to the newest
  Duration age{0};     // now − newest
  Reading latest;      // for totals, CPU count and load averages
};

class Sampler {
 public:
  // `capacity`: how many interval samples are kept (the longest window a
  // client can ask for).
  explicit Sampler(size_t capacity, double pageKb, bool keepFirst = false);

  void add(const Reading& r);
  // Mean of the newest `samples` samples; an error until that many exist.
  Result<Window> window(size_t samples, TimePoint now) const;
  size_t available() const { return ring_.size(); }
  size_t capacity() const { return capacity_; }
  uint64_t skipped() const { return skipped_; }

 private:
  struct Entry {
    Sample s;
    TimePoint from, to;
  };
  size_t capacity_;
  double pageKb_;
  bool keepFirst_;
  std::optional<Reading> prev_;
  std::deque<Entry> ring_;
  uint64_t skipped_ = 0;
};

// The window the paper's terms ask for: N readings `interval` apart with the
// first dropped = N − 1 interval samples, converted to the agent's own
// sampling interval. Always at least 1.
size_t samplesFor(uint32_t requestedSamples, uint32_t requestedIntervalMs, uint32_t agentIntervalMs);

// The headroom capacity the text protocol advertises, 1..100:
// memoryShare × MemAvailable / MemTotal + (1 − memoryShare) × idle.
uint32_t capacityPct(const Window& w, double memoryShare);

// Fills a report's measurement fields from a window.
void fillReport(const Window& w, uint32_t agentIntervalMs, agent::AgentReport& report);

}  // namespace lvsd::feedback
