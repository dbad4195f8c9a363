#pragma once
// The lvsd process: one io_context, the signal table, the control socket,
// the event log, and the components in start order.

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "daemon/component.h"
#include "daemon/control_server.h"
#include "daemon/event_log.h"
#include "daemon/metrics.h"
#include "daemon/sd_watchdog.h"

namespace lvsd::daemon {

// Distinct exit codes per startup failure (DESIGN.md style 5).
enum ExitCode : int {
  kExitOk = 0,
  kExitUsage = 1,
  kExitConfig = 2,
  kExitControl = 3,
  kExitStart = 4,
  kExitIdentity = 5,
  kExitLogging = 6,
  kExitMetrics = 7,  // cannot listen on config.metrics.listen
  kExitPrivileges = 8,  // cannot drop capabilities after start
};

struct Options {
  std::string configPath;
  std::string director;  // resolved name of this host's director
  bool dryRun = false;
  // --socket: the control socket, over config.control.socket (directors that
  // share one file on one host, e.g. in tests, keep one config digest).
  std::string controlSocket;
};

// The modules in start order (stop is the reverse). Defined in components.cc,
// the one list that says what lvsd runs.
std::vector<ComponentFactory> componentFactories();

class Daemon {
 public:
  Daemon(Options opts, config::ConfigPtr cfg);
  ~Daemon();

  // Starts everything and runs the loop until stopped. Returns an ExitCode.
  int run();

  // Validates `path` (or the current file) and applies it; with planOnly,
  // reports what would change. Errors come back one per line.
  control::Response reload(bool planOnly);
  void requestStop();

 private:
  void onSignal(const boost::system::error_code& ec, int sig);
  void armSignals();
  Status dropPrivileges();
  control::Response status() const;
  void dumpState() const;
  void notifySystemd(const std::string& state) const;

  Options opts_;
  boost::asio::io_context io_;
  boost::asio::signal_set signals_;
  EventLog events_;
  ControlServer control_;
  metrics::MetricsService metrics_;  // Prometheus endpoint (config.metrics)
  Watchdog watchdog_;                // systemd WatchdogSec pings
  Bus bus_;
  Context ctx_;
  config::ConfigPtr cfg_;
  uint64_t generation_ = 1;
  int64_t startedUnixMs_ = 0;
  std::vector<std::unique_ptr<Component>> components_;
  size_t started_ = 0;
  bool stopping_ = false;
};

}  // namespace lvsd::daemon
