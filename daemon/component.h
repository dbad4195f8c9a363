#pragma once
// daemon/ wires the modules (DESIGN.md style 9). Each module is adapted by a
// Component in its own file daemon/<module>_component.cc; the Daemon starts
// components in registration order and stops them in reverse.

#include <boost/asio/io_context.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "core/result.h"
#include "daemon/bus.h"
#include "proto/control.pb.h"

namespace lvsd::daemon {

namespace metrics {
struct LvsdMetrics;
}

class EventLog;
class ControlServer;

// What every component gets from the daemon.
struct Context {
  boost::asio::io_context& io;
  const Clock& clock;
  EventLog& events;
  ControlServer& control;
  Bus& bus;
  std::string director;  // this host's director name
  // True when lvsd runs with `--plan` or the dry-run IPVS backend is chosen.
  bool dryRun = false;
  // lvsd's standard metric families (daemon/metrics.h); set by the Daemon.
  metrics::LvsdMetrics* metrics = nullptr;
};

class Component {
 public:
  virtual ~Component() = default;
  virtual const char* name() const = 0;
  // Called once, in order, with the first valid config.
  virtual Status start(const config::ConfigPtr& cfg) = 0;
  // A new config has been validated; apply only what changed between `from`
  // and `to`. Must not fail for reasons validation could have caught.
  virtual Status reload(const config::ConfigPtr& from, const config::ConfigPtr& to) = 0;
  // Called once, in reverse order. `leave` = keep kernel state (IPVS table,
  // VIPs) in place for a restart without disruption.
  virtual void stop(bool leave) = 0;
  // Adds this component's part to a status response.
  virtual void fillStatus(control::Status& status) const {}
  // One or more lines for the SIGUSR1 state dump.
  virtual void dumpState(std::vector<std::string>& lines) const {}
};

using ComponentFactory = std::function<std::unique_ptr<Component>(Context&)>;

}  // namespace lvsd::daemon
