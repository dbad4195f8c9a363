#pragma once
// The checker base (DESIGN.md style 8): interval with jitter, timeout,
// retries with delay, rise/fall, warm-up, initial state and counters. Pure:
// the I/O shell (runner.h) passes in the time and the probe's results and
// arms timers for the times this returns. Probes implement only the probe.

#include <cstdint>
#include <optional>
#include <string>

#include "core/clock.h"
#include "proto/config.pb.h"

namespace lvsd::healthcheck {

enum class Health : uint8_t { kUp, kDown };
const char* healthName(Health h);  // "UP" / "DOWN"

// Source of uniform randomness in [0, 1); injected so tests control jitter.
class Rng {
 public:
  virtual ~Rng() = default;
  virtual double uniform() = 0;
  virtual uint64_t next64() = 0;
};

// What one probe attempt found.
struct ProbeResult {
  bool up = false;
  std::string reason;              // "status 503", "connect: Connection refused"
  std::optional<uint32_t> weight;  // dynamic weight (exec MISC convention, file "weight N")
  bool drain = false;              // file probe: "drain"
  bool timedOut = false;
  Duration latency{0};

  static ProbeResult ok(std::string reason = "ok") {
    ProbeResult r;
    r.up = true;
    r.reason = std::move(reason);
    return r;
  }
  static ProbeResult fail(std::string reason) {
    ProbeResult r;
    r.reason = std::move(reason);
    return r;
  }
};

struct CheckerParams {
  Duration interval = std::chrono::seconds(5);
  uint32_t jitterPct = 10;  // 0..50
  Duration timeout = std::chrono::seconds(3);
  uint32_t retries = 0;
  Duration retryDelay = std::chrono::seconds(1);
  uint32_t rise = 2;
  uint32_t fall = 3;
  Duration warmup{0};
  Health initial = Health::kDown;
  // Results apply at once, ignoring rise/fall and warm-up: the file probe
  // carries an operator's intent, not a measurement.
  bool immediate = false;

  static CheckerParams fromProto(const config::Check& check);
};

struct Transition {
  Health from = Health::kDown;
  Health to = Health::kDown;
  std::string reason;
  const char* rule = "rise";  // "rise", "fall" or "file"
  uint32_t count = 0;         // consecutive results seen
  uint32_t needed = 0;        // rise or fall
  // "UP -> DOWN reason=status 503 (fall 3/3)"
  std::string toString() const;
};

struct CheckerCounters {
  uint64_t attempts = 0;
  uint64_t successes = 0;
  uint64_t failures = 0;  // failed attempts, timeouts included
  uint64_t timeouts = 0;
  uint64_t rounds = 0;
  uint64_t failedRounds = 0;
  uint64_t ignoredFailures = 0;  // failed rounds during warm-up
  uint64_t transitions = 0;
};

class CheckerCore {
 public:
  CheckerCore(CheckerParams params, Rng& rng);

  // Begins checking at `now`: the state is the initial one and the first
  // attempt is spread uniformly over one interval so that many checks
  // started together do not probe in lockstep. Returns that time.
  //
  // `adoptedUp`: lvsd found the target in the kernel's IPVS table as it
  // would program a server that is up (a predecessor left the table in
  // place). The check starts UP instead of `initial`, as the previous lvsd
  // last saw it; from the first result on the ordinary rules decide (`fall`
  // failed rounds take it down), so a restart neither hastens nor delays
  // detection. (Taking it down at the first failed round was tried: one
  // round lost to a loop stall at start-up then removed and re-added a
  // healthy server in the lab.)
  TimePoint start(TimePoint now, bool adoptedUp = false);

  // The shell starts an attempt at `now`; returns its deadline (now + timeout).
  TimePoint beginAttempt(TimePoint now);

  struct Step {
    TimePoint next;                       // when to start the next attempt
    std::optional<Transition> transition;  // UP <-> DOWN, once per change
    bool outputChanged = false;           // health, weight or drain changed
    bool roundDone = false;               // false while retrying within a round
  };
  // The attempt begun last ended with `result` at `now` (a timeout is a
  // failed result with timedOut set).
  Step finishAttempt(TimePoint now, const ProbeResult& result);

  Health health() const { return health_; }
  std::optional<uint32_t> weight() const { return weight_; }
  bool drain() const { return drain_; }
  const std::string& lastReason() const { return lastReason_; }
  const CheckerCounters& counters() const { return counters_; }
  const CheckerParams& params() const { return params_; }
  uint32_t consecutiveSuccesses() const { return okRun_; }
  uint32_t consecutiveFailures() const { return failRun_; }
  bool attemptInFlight() const { return inFlight_; }

 private:
  Duration jittered(Duration d);

  CheckerParams params_;
  Rng& rng_;
  Health health_;
  std::optional<uint32_t> weight_;
  bool drain_ = false;
  std::string lastReason_;
  TimePoint startedAt_{};
  TimePoint due_{};  // when the next attempt was asked for
  TimePoint roundStart_{};
  uint32_t attemptInRound_ = 0;
  bool inFlight_ = false;
  uint32_t okRun_ = 0;
  uint32_t failRun_ = 0;
  CheckerCounters counters_;
};

}  // namespace lvsd::healthcheck
