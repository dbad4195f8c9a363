#include "healthcheck/checker.h"

#include <algorithm>

namespace lvsd::healthcheck {

const char* healthName(Health h) { return h == Health::kUp ? "UP" : "DOWN"; }

CheckerParams CheckerParams::fromProto(const config::Check& c) {
  CheckerParams p;
  p.interval = milliseconds(c.interval_ms());
  p.jitterPct = std::min<uint32_t>(c.jitter_pct(), 50);
  p.timeout = milliseconds(c.timeout_ms());
  p.retries = c.retries();
  p.retryDelay = milliseconds(c.retry_delay_ms());
  p.rise = std::max<uint32_t>(c.rise(), 1);
  p.fall = std::max<uint32_t>(c.fall(), 1);
  p.warmup = milliseconds(c.warmup_ms());
  p.initial = c.initial() == config::Check::UP ? Health::kUp : Health::kDown;
  p.immediate = c.probe_case() == config::Check::kFile;
  return p;
}

std::string Transition::toString() const {
  return std::string(healthName(from)) + " -> " + healthName(to) + " reason=" + reason + " (" +
         rule + " " + std::to_string(count) + "/" + std::to_string(needed) + ")";
}

CheckerCore::CheckerCore(CheckerParams params, Rng& rng)
    : params_(params), rng_(rng), health_(params.initial) {
  if (params_.rise == 0) params_.rise = 1;
  if (params_.fall == 0) params_.fall = 1;
  if (params_.jitterPct > 50) params_.jitterPct = 50;
  lastReason_ = "initial";
}

Duration CheckerCore::jittered(Duration d) {
  if (params_.jitterPct == 0) return d;
  // d × (1 ± jitter): u in [0,1) maps to [-jitter, +jitter).
  double f = 1.0 + (2.0 * rng_.uniform() - 1.0) * params_.jitterPct / 100.0;
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double, std::nano>(
      static_cast<double>(d.count()) * f));
}

TimePoint CheckerCore::start(TimePoint now, bool adoptedUp) {
  health_ = adoptedUp ? Health::kUp : params_.initial;
  if (adoptedUp) lastReason_ = "adopted from the kernel table";
  startedAt_ = now;
  okRun_ = failRun_ = 0;
  attemptInRound_ = 0;
  inFlight_ = false;
  auto spread = std::chrono::duration_cast<Duration>(std::chrono::duration<double, std::nano>(
      static_cast<double>(params_.interval.count()) * rng_.uniform()));
  due_ = now + spread;
  return due_;
}

TimePoint CheckerCore::beginAttempt(TimePoint now) {
  // A round is anchored where it was due, not where a busy loop got to it,
  // so lateness does not accumulate into a longer interval.
  if (attemptInRound_ == 0) roundStart_ = std::min(now, due_);
  ++attemptInRound_;
  inFlight_ = true;
  ++counters_.attempts;
  return now + params_.timeout;
}

CheckerCore::Step CheckerCore::finishAttempt(TimePoint now, const ProbeResult& r) {
  Step step;
  inFlight_ = false;
  if (r.up) {
    ++counters_.successes;
  } else {
    ++counters_.failures;
    if (r.timedOut) ++counters_.timeouts;
  }
  lastReason_ = r.reason;

  // A failed attempt with retries left is retried within the same round.
  if (!r.up && attemptInRound_ <= params_.retries) {
    step.next = due_ = now + params_.retryDelay;
    return step;
  }

  step.roundDone = true;
  ++counters_.rounds;
  attemptInRound_ = 0;
  // Rounds are anchored at their start so that detection time does not grow
  // by each probe's latency; a round that overran its interval is followed
  // at once.
  step.next = due_ = std::max(roundStart_ + jittered(params_.interval), now);

  const Health before = health_;
  const auto beforeWeight = weight_;
  const bool beforeDrain = drain_;

  if (r.up) {
    failRun_ = 0;
    ++okRun_;
    weight_ = r.weight;
    drain_ = r.drain;
    uint32_t needed = params_.immediate ? 1 : params_.rise;
    if (health_ == Health::kDown && okRun_ >= needed) {
      health_ = Health::kUp;
      step.transition = Transition{Health::kDown, Health::kUp, r.reason,
                                   params_.immediate ? "file" : "rise", okRun_, needed};
    }
  } else {
    ++counters_.failedRounds;
    bool warming = !params_.immediate && now < startedAt_ + params_.warmup;
    if (warming) {
      // Warm-up: the server may still be starting; a failure neither counts
      // toward fall nor breaks a run of successes.
      ++counters_.ignoredFailures;
    } else {
      okRun_ = 0;
      ++failRun_;
      uint32_t needed = params_.immediate ? 1 : params_.fall;
      if (health_ == Health::kUp && failRun_ >= needed) {
        health_ = Health::kDown;
        weight_.reset();
        drain_ = false;
        step.transition = Transition{Health::kUp, Health::kDown, r.reason,
                                     params_.immediate ? "file" : "fall", failRun_, needed};
      }
    }
  }
  if (step.transition) ++counters_.transitions;
  step.outputChanged = before != health_ || beforeWeight != weight_ || beforeDrain != drain_;
  return step;
}

}  // namespace lvsd::healthcheck
