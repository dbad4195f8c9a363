#pragma once
// systemd watchdog (WatchdogSec= in etc/systemd/lvsd.service): while the
// event loop runs, send WATCHDOG=1 at half the interval systemd asked for.
// The pings ride the loop's own timer, so a stalled loop stops them and
// systemd restarts lvsd.

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>

namespace lvsd::daemon {

class Watchdog {
 public:
  explicit Watchdog(boost::asio::io_context& io) : timer_(io) {}
  // Starts pinging if systemd set WATCHDOG_USEC for this process; returns the
  // ping period (zero when there is no watchdog or no systemd support).
  std::chrono::microseconds start();
  void stop() { timer_.cancel(); }

 private:
  void arm();
  boost::asio::steady_timer timer_;
  std::chrono::microseconds period_{0};
};

}  // namespace lvsd::daemon
