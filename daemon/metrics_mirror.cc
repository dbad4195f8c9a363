#include "daemon/metrics_mirror.h"

#include <algorithm>
#include <array>

namespace lvsd::daemon::metrics {

namespace {

constexpr std::array<const char*, 4> kRoles = {"INIT", "BACKUP", "MASTER", "FAULT"};

// "loop.late_over_5ms" thresholds, in the label's seconds.
constexpr std::array<std::pair<const char*, const char*>, 3> kLate = {
    {{"loop.late_over_1ms", "0.001"}, {"loop.late_over_5ms", "0.005"}, {"loop.late_over_20ms", "0.02"}}};

double value(const std::map<std::string, uint64_t>& c, const std::string& key) {
  auto it = c.find(key);
  return it == c.end() ? 0 : static_cast<double>(it->second);
}

double seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

void mirrorHeartbeat(LvsdMetrics& m, const std::map<std::string, uint64_t>& c) {
  m.heartbeatsSent.labels({}).setTotal(value(c, "sent"));
  m.heartbeatsReceived.labels({}).setTotal(value(c, "received"));
  m.heartbeatSendErrors.labels({}).setTotal(value(c, "send_errors"));
  m.heartbeatDrops.clear();
  for (const auto& [key, n] : c)
    if (key.rfind("drop.", 0) == 0) m.heartbeatDrops.labels({key.substr(5)}).setTotal(static_cast<double>(n));
  m.loopWakeups.labels({}).setTotal(value(c, "loop.wakeups"));
  for (const auto& [key, over] : kLate) m.loopLate.labels({over}).setTotal(value(c, key));
  m.loopMaxLate.labels({}).set(value(c, "loop.max_late_us") / 1e6);
}

void mirrorInstances(LvsdMetrics& m, const control::Status& status) {
  m.instanceRole.clear();
  m.instancePriority.clear();
  for (const auto& in : status.instance()) {
    for (const char* role : kRoles) m.instanceRole.labels({in.name(), role}).set(in.state() == role ? 1 : 0);
    // A state outside the four (STOP during shutdown) still shows.
    if (std::none_of(kRoles.begin(), kRoles.end(), [&](const char* r) { return in.state() == r; }))
      m.instanceRole.labels({in.name(), in.state()}).set(1);
    m.instancePriority.labels({in.name()}).set(in.effective_priority());
  }
}

void countTransition(LvsdMetrics& m, const std::string& instance, const std::string& from,
                     const std::string& to) {
  m.transitions.labels({instance, from, to}).inc();
}

void mirrorChecks(LvsdMetrics& m, const healthcheck::Snapshot& snap,
                  const healthcheck::ManagerCounters& counters) {
  m.checkResults.clear();
  m.checkLastDuration.clear();
  for (const auto& ch : snap.checks) {
    std::string target = ch.target.toString();
    const auto& s = ch.stats;
    // attempts = successes + failures + timeouts once each attempt ended.
    m.checkResults.labels({ch.name, target, "success"}).setTotal(static_cast<double>(s.successes));
    m.checkResults.labels({ch.name, target, "failure"}).setTotal(static_cast<double>(s.failures));
    m.checkResults.labels({ch.name, target, "timeout"}).setTotal(static_cast<double>(s.timeouts));
    if (s.latencyCount > 0) m.checkLastDuration.labels({ch.name, target}).set(seconds(s.lastLatency));
  }
  const auto& h = counters.latency;
  std::vector<uint64_t> cumulative(std::begin(h.buckets), std::end(h.buckets));
  m.checkDuration.labels({}).setSnapshot(cumulative, h.count, h.sumSeconds);
  m.realServerUp.clear();
  m.realServerWeight.clear();
  for (const auto& svc : snap.services) {
    const std::string& name = svc.service.empty() ? svc.key : svc.service;
    for (const auto& rs : svc.realServers) {
      std::string addr = rs.address.toString();
      m.realServerUp.labels({name, addr}).set(rs.up ? 1 : 0);
      m.realServerWeight.labels({name, addr}).set(rs.weight ? *rs.weight : 0);
    }
  }
}

void mirrorIpvsCounters(LvsdMetrics& m, uint64_t applies, uint64_t opsSent, uint64_t opErrors) {
  m.ipvsApplies.labels({}).setTotal(static_cast<double>(applies));
  m.ipvsOps.labels({}).setTotal(static_cast<double>(opsSent));
  m.ipvsErrors.labels({}).setTotal(static_cast<double>(opErrors));
}

void mirrorIpvsStats(LvsdMetrics& m, const std::vector<ServiceStats>& services) {
  for (auto* f : {&m.serviceConnections, &m.servicePackets, &m.serviceBytes, &m.destConnections,
                  &m.destBytes})
    f->clear();
  for (auto* f : {&m.serviceCps, &m.servicePps, &m.serviceBps, &m.destActive, &m.destInactive,
                  &m.destCps, &m.destBps})
    f->clear();
  for (const auto& s : services) {
    const auto& st = s.entry.stats;
    const std::string& n = s.service;
    m.serviceConnections.labels({n}).setTotal(static_cast<double>(st.conns));
    m.servicePackets.labels({n, "in"}).setTotal(static_cast<double>(st.inPackets));
    m.servicePackets.labels({n, "out"}).setTotal(static_cast<double>(st.outPackets));
    m.serviceBytes.labels({n, "in"}).setTotal(static_cast<double>(st.inBytes));
    m.serviceBytes.labels({n, "out"}).setTotal(static_cast<double>(st.outBytes));
    m.serviceCps.labels({n}).set(static_cast<double>(st.cps));
    m.servicePps.labels({n, "in"}).set(static_cast<double>(st.inPps));
    m.servicePps.labels({n, "out"}).set(static_cast<double>(st.outPps));
    m.serviceBps.labels({n, "in"}).set(static_cast<double>(st.inBps));
    m.serviceBps.labels({n, "out"}).set(static_cast<double>(st.outBps));
    for (const auto& d : s.destinations) {
      std::string rs = d.dest.endpoint().toString();
      const auto& ds = d.stats;
      m.destActive.labels({n, rs}).set(d.activeConns);
      m.destInactive.labels({n, rs}).set(d.inactiveConns);
      m.destConnections.labels({n, rs}).setTotal(static_cast<double>(ds.conns));
      m.destBytes.labels({n, rs, "in"}).setTotal(static_cast<double>(ds.inBytes));
      m.destBytes.labels({n, rs, "out"}).setTotal(static_cast<double>(ds.outBytes));
      m.destCps.labels({n, rs}).set(static_cast<double>(ds.cps));
      m.destBps.labels({n, rs, "in"}).set(static_cast<double>(ds.inBps));
      m.destBps.labels({n, rs, "out"}).set(static_cast<double>(ds.outBps));
    }
  }
}

void mirrorSync(LvsdMetrics& m, const sync::SyncStatus& s) {
  m.syncPeerUp.clear();
  m.syncPeerConnects.clear();
  for (const auto& p : s.peers) {
    m.syncPeerUp.labels({p.director}).set(p.connected ? 1 : 0);
    m.syncPeerConnects.labels({p.director}).setTotal(static_cast<double>(p.connects));
  }
  m.syncChannelErrors.clear();
  for (const auto& [reason, n] : s.channelErrors)
    m.syncChannelErrors.labels({reason}).setTotal(static_cast<double>(n));
  m.syncDaemonSwitches.labels({}).setTotal(static_cast<double>(s.daemonSwitches));
  m.resyncs.labels({}).setTotal(static_cast<double>(s.resync.runs));
  m.resyncLastEntries.labels({}).set(static_cast<double>(s.resync.entries));
  m.resyncLastDuration.labels({}).set(static_cast<double>(s.resync.durationMs) / 1000);
}

}  // namespace lvsd::daemon::metrics
