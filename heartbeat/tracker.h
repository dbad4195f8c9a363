#pragma once
// Private to heartbeat/: tracker arithmetic (keepalived's track_* weights)
// and the rise/fall debouncer for script results. Pure.

#include <cstdint>
#include <optional>
#include <span>

namespace lvsd::heartbeat {

enum class TrackerKind : uint8_t { kInterface, kScript, kFile, kQuorum };

struct TrackerStatus {
  bool known = false;  // no result yet: counts as a failure
  bool ok = false;     // interface up / script succeeded / file readable / quorum held
  int64_t value = 0;   // file trackers: the integer in the file
};

struct TrackerInput {
  TrackerKind kind = TrackerKind::kScript;
  int32_t weight = 0;
  TrackerStatus status;
};

struct PriorityOutcome {
  uint8_t priority = 0;
  bool fault = false;
  uint32_t failed = 0;  // trackers currently failing (health summary)
};

// Effective priority from the configured one and the trackers:
//  - weight 0: a failure forces FAULT (file: a non-zero value does);
//  - weight > 0: success adds the weight; weight < 0: failure adds it;
//  - file with a weight: adds value × weight (an unreadable file counts as
//    a failure: −|weight|);
//  - the result is clamped to 1..254; 255 (the address owner, RFC 5798
//    §6.1) is never changed by weights, only by FAULT.
PriorityOutcome effectivePriority(uint8_t base, std::span<const TrackerInput> trackers);

// Debounces a stream of results: the first result sets the state, later
// changes need `rise` consecutive successes or `fall` consecutive failures.
class RiseFall {
 public:
  RiseFall(uint32_t rise, uint32_t fall) : rise_(rise ? rise : 1), fall_(fall ? fall : 1) {}
  // Returns true when the debounced state changed.
  bool observe(bool success);
  std::optional<bool> state() const { return state_; }

 private:
  uint32_t rise_, fall_;
  uint32_t run_ = 0;  // consecutive results that disagree with state_
  std::optional<bool> state_;
};

}  // namespace lvsd::heartbeat
