#include "heartbeat/tracker.h"

#include <algorithm>
#include <cstdlib>

#include "heartbeat/election.h"

namespace lvsd::heartbeat {

PriorityOutcome effectivePriority(uint8_t base, std::span<const TrackerInput> trackers) {
  PriorityOutcome out;
  int64_t delta = 0;
  for (const auto& t : trackers) {
    const bool failed = !t.status.known || !t.status.ok ||
                        (t.kind == TrackerKind::kFile && t.status.value != 0);
    if (failed) ++out.failed;
    if (t.kind == TrackerKind::kFile && t.weight != 0) {
      if (!t.status.known || !t.status.ok) delta -= std::abs(int64_t(t.weight));
      else delta += t.status.value * t.weight;
      continue;
    }
    if (t.weight == 0) {
      if (failed) out.fault = true;
    } else if (t.weight > 0) {
      if (!failed) delta += t.weight;
    } else if (failed) {
      delta += t.weight;
    }
  }
  if (base == kOwnerPriority) {
    out.priority = kOwnerPriority;
    return out;
  }
  int64_t p = std::clamp<int64_t>(int64_t(base) + delta, 1, kOwnerPriority - 1);
  out.priority = static_cast<uint8_t>(p);
  return out;
}

bool RiseFall::observe(bool success) {
  if (!state_) {
    state_ = success;
    run_ = 0;
    return true;
  }
  if (success == *state_) {
    run_ = 0;
    return false;
  }
  if (++run_ >= (success ? rise_ : fall_)) {
    state_ = success;
    run_ = 0;
    return true;
  }
  return false;
}

}  // namespace lvsd::heartbeat
