#pragma once
// Copies what the modules count into lvsd's standard metric families. The
// modules keep their own totals (HeartbeatService::counters(), healthcheck
// snapshots, Reconciler::Counters, SyncStatus, kernel IPVS statistics); a
// component registers a collector that calls the matching mirror function,
// so values are read only when someone scrapes:
//
//   collector_ = ctx.metrics->registry.addCollector(
//       [this] { metrics::mirrorHeartbeat(*ctx_.metrics, service_->counters()); });
//
// Every function replaces the children of the families it owns, so a real
// server or peer that left the config leaves the metrics too.

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "daemon/metrics.h"
#include "healthcheck/healthcheck.h"
#include "ipvs/ipvs.h"
#include "proto/control.pb.h"
#include "sync/sync.h"

namespace lvsd::daemon::metrics {

// HeartbeatService::counters(): "sent", "received", "send_errors",
// "drop.REASON", "loop.wakeups", "loop.late_over_Nms", "loop.max_late_us".
void mirrorHeartbeat(LvsdMetrics& m, const std::map<std::string, uint64_t>& counters);

// Role (lvsd_instance_role) and effective priority of each instance in a
// status the heartbeat component filled.
void mirrorInstances(LvsdMetrics& m, const control::Status& status);
// One transition, as it happens (the heartbeat component's transition event).
void countTransition(LvsdMetrics& m, const std::string& instance, const std::string& from,
                     const std::string& to);

// Health checks and the real servers' pool state.
void mirrorChecks(LvsdMetrics& m, const healthcheck::Snapshot& snapshot,
                  const healthcheck::ManagerCounters& counters);

// The reconciler's totals.
void mirrorIpvsCounters(LvsdMetrics& m, uint64_t applies, uint64_t opsSent, uint64_t opErrors);

// Kernel statistics of every service lvsd owns: (service label, service,
// its destinations). The label is the service's name in the config.
struct ServiceStats {
  std::string service;
  ipvs::ServiceEntry entry;
  std::vector<ipvs::DestinationEntry> destinations;
};
void mirrorIpvsStats(LvsdMetrics& m, const std::vector<ServiceStats>& services);

// Peer channel, kernel sync daemons and resyncs.
void mirrorSync(LvsdMetrics& m, const sync::SyncStatus& status);

}  // namespace lvsd::daemon::metrics
