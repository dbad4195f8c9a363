#include "healthcheck/runner.h"

#include "core/log.h"

namespace lvsd::healthcheck {

using boost::system::error_code;

namespace {

// Wake-ups are aligned to this grid (timer slack): checks that fall due
// within the same 10 ms run in one turn of the loop instead of one wake-up
// each. At 10,000 checks a second that removes most context switches, for
// at most 10 ms of delay on intervals of seconds.
constexpr auto kTimerSlack = std::chrono::milliseconds(10);

TimePoint aligned(TimePoint t) {
  auto since = t.time_since_epoch();
  auto rem = since % kTimerSlack;
  return rem == Duration::zero() ? t : t + (kTimerSlack - rem);
}

}  // namespace

CheckRunner::CheckRunner(boost::asio::io_context& io, const Clock& clock, Rng& rng, CheckSpec spec,
                         std::unique_ptr<Probe> probe, Listener listener)
    : io_(io), clock_(clock), spec_(std::move(spec)), core_(CheckerParams::fromProto(spec_.def), rng),
      probe_(std::move(probe)), listener_(std::move(listener)), timer_(io), deadline_(io) {}

CheckRunner::~CheckRunner() { stop(); }

std::string CheckRunner::subject() const {
  if (spec_.def.has_file()) return "file=" + spec_.def.file().path() + " check=" + spec_.name;
  return "rs=" + spec_.target.toString() + " check=" + spec_.name;
}

void CheckRunner::start(bool adoptedUp) {
  running_ = true;
  arm(core_.start(clock_.now(), adoptedUp));
  if (adoptedUp) logger("healthcheck")->info("{} starts UP: adopted from the kernel table", subject());
}

void CheckRunner::stop() {
  if (!running_) return;
  running_ = false;
  ++gen_;
  timer_.cancel();
  deadline_.cancel();
  if (probe_) probe_->cancel();
}

void CheckRunner::arm(TimePoint at) {
  timer_.expires_at(aligned(at));
  std::weak_ptr<CheckRunner> weak = weak_from_this();
  timer_.async_wait([weak](const error_code& ec) {
    auto self = weak.lock();
    if (!self || ec || !self->running_) return;
    self->attempt();
  });
}

void CheckRunner::attempt() {
  const uint64_t gen = ++gen_;
  attemptStart_ = clock_.now();
  TimePoint deadline = core_.beginAttempt(attemptStart_);
  std::weak_ptr<CheckRunner> weak = weak_from_this();
  deadline_.expires_at(aligned(deadline));
  deadline_.async_wait([weak, gen](const error_code& ec) {
    auto self = weak.lock();
    if (!self || ec || !self->running_ || gen != self->gen_) return;
    self->probe_->cancel();
    ProbeResult r = ProbeResult::fail("timeout " + std::to_string(toMillis(self->core_.params().timeout)) + "ms");
    r.timedOut = true;
    self->done(gen, std::move(r));
  });
  // `this` and gen only (16 bytes): std::function keeps that inline instead
  // of allocating per attempt. Safe without a weak_ptr: stop() and the
  // destructor cancel the probe, which drops this callback uncalled.
  probe_->start([this, gen](ProbeResult r) {
    if (!running_ || gen != gen_) return;
    deadline_.cancel();
    done(gen, std::move(r));
  });
}

void CheckRunner::done(uint64_t gen, ProbeResult r) {
  ++gen_;  // later completions of this attempt (timeout vs. probe race) are stale
  TimePoint now = clock_.now();
  r.latency = now - attemptStart_;
  auto step = core_.finishAttempt(now, r);
  if (step.transition) {
    logger("healthcheck")->info("{} {}", subject(), step.transition->toString());
  }
  arm(step.next);
  if (listener_) listener_(*this, r, step);
}

}  // namespace lvsd::healthcheck
