#include "daemon/sd_watchdog.h"

#ifdef LVSD_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "core/log.h"

namespace lvsd::daemon {

std::chrono::microseconds Watchdog::start() {
#ifdef LVSD_HAVE_SYSTEMD
  uint64_t usec = 0;
  // > 0 only when WATCHDOG_USEC is set and WATCHDOG_PID is ours (or unset).
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
    period_ = std::chrono::microseconds(usec / 2);
    logger("daemon")->info("systemd watchdog: {} ms, pinging every {} ms", usec / 1000,
                           period_.count() / 1000);
    sd_notify(0, "WATCHDOG=1");
    arm();
  }
#endif
  return period_;
}

void Watchdog::arm() {
  timer_.expires_after(period_);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
#ifdef LVSD_HAVE_SYSTEMD
    sd_notify(0, "WATCHDOG=1");
#endif
    arm();
  });
}

}  // namespace lvsd::daemon
