#pragma once
// The I/O shell of one check: Asio timers for the times CheckerCore asks
// for, the probe, the timeout, and one log line per state change.

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <memory>

#include "core/clock.h"
#include "healthcheck/checker.h"
#include "healthcheck/plan.h"
#include "healthcheck/probe.h"

namespace lvsd::healthcheck {

class CheckRunner : public std::enable_shared_from_this<CheckRunner> {
 public:
  // Called after every attempt (for counters) with the step it produced.
  using Listener = std::function<void(CheckRunner&, const ProbeResult&, const CheckerCore::Step&)>;

  CheckRunner(boost::asio::io_context& io, const Clock& clock, Rng& rng, CheckSpec spec,
              std::unique_ptr<Probe> probe, Listener listener);
  ~CheckRunner();

  // `adoptedUp`: start UP, not `initial` (CheckerCore::start).
  void start(bool adoptedUp = false);
  // Cancels timers and the attempt in flight; no listener calls after this.
  void stop();

  const CheckSpec& spec() const { return spec_; }
  const CheckerCore& core() const { return core_; }
  // "rs=10.0.0.1:80 check=http" (or "file=/path check=maint").
  std::string subject() const;

 private:
  void arm(TimePoint at);
  void attempt();
  void done(uint64_t gen, ProbeResult r);

  boost::asio::io_context& io_;
  const Clock& clock_;
  CheckSpec spec_;
  CheckerCore core_;
  std::unique_ptr<Probe> probe_;
  Listener listener_;
  boost::asio::steady_timer timer_;
  boost::asio::steady_timer deadline_;
  TimePoint attemptStart_{};
  uint64_t gen_ = 0;
  bool running_ = false;
};

}  // namespace lvsd::healthcheck
