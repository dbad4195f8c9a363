#pragma once
// An in-memory IPVS "kernel" for tests of anything that programs IPVS
// (reconciler, daemon, healthcheck drain, the ipvsadm front end). It keeps
// the kernel's semantics for keys (EEXIST / ESRCH / ENOENT), counts every
// request, and can be told to fail chosen operations.

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <vector>

#include "ipvs/ipvs.h"

namespace lvsd::testing {

class FakeIpvsBackend final : public ipvs::IpvsBackend {
 public:
  // Returns an errno to make an op fail before it touches the table, 0 to proceed.
  using Injector = std::function<int(const ipvs::Op&)>;

  ipvs::Info infoValue{0x010201, 4096};
  ipvs::Timeouts timeoutValue{900, 120, 300};
  std::vector<ipvs::SyncDaemon> daemons;
  // Counters and extra per-object data the kernel would report.
  std::map<ipvs::ServiceKey, ipvs::Stats> serviceStats;
  struct DestExtra {
    uint32_t active = 0, inactive = 0, persistent = 0;
    ipvs::Stats stats;
  };
  std::map<std::pair<ipvs::ServiceKey, Endpoint>, DestExtra> destExtra;

  // Every op received by apply(), in order, and the number of apply() calls.
  std::vector<ipvs::Op> applied;
  size_t applyCalls = 0;
  size_t dumpCalls = 0;
  size_t flushCalls = 0;
  Injector inject;
  // When set, every call fails with this errno (IPVS "not loaded").
  int failAll = 0;

  ipvs::Table& table() { return table_; }
  const ipvs::Table& table() const { return table_; }
  void setTable(ipvs::Table t) { table_ = std::move(t); }

  Result<ipvs::Info> info() override {
    if (failAll) return err(failAll);
    return infoValue;
  }

  Result<std::vector<ipvs::ServiceEntry>> services() override {
    if (failAll) return err(failAll);
    ++dumpCalls;
    std::vector<ipvs::ServiceEntry> out;
    for (const auto& vs : table_) {
      ipvs::ServiceEntry e{vs.service, {}};
      if (auto it = serviceStats.find(vs.service.key); it != serviceStats.end()) e.stats = it->second;
      out.push_back(e);
    }
    return out;
  }

  Result<ipvs::ServiceEntry> service(const ipvs::ServiceKey& key) override {
    if (failAll) return err(failAll);
    for (const auto& vs : table_) {
      if (vs.service.key == key) {
        ipvs::ServiceEntry e{vs.service, {}};
        if (auto it = serviceStats.find(key); it != serviceStats.end()) e.stats = it->second;
        return e;
      }
    }
    return err(ESRCH);
  }

  Result<std::vector<ipvs::DestinationEntry>> destinations(const ipvs::ServiceKey& key) override {
    if (failAll) return err(failAll);
    for (const auto& vs : table_) {
      if (!(vs.service.key == key)) continue;
      std::vector<ipvs::DestinationEntry> out;
      for (const auto& d : vs.destinations) {
        ipvs::DestinationEntry e;
        e.dest = d;
        if (auto it = destExtra.find({key, d.endpoint()}); it != destExtra.end()) {
          e.activeConns = it->second.active;
          e.inactiveConns = it->second.inactive;
          e.persistentConns = it->second.persistent;
          e.stats = it->second.stats;
        }
        out.push_back(e);
      }
      return out;
    }
    return err(ESRCH);
  }

  ipvs::BatchResult apply(std::span<const ipvs::Op> ops) override {
    ++applyCalls;
    ipvs::BatchResult r;
    for (size_t i = 0; i < ops.size(); ++i) {
      const ipvs::Op& op = ops[i];
      applied.push_back(op);
      ++r.sent;
      if (failAll) {
        r.errors.push_back({i, Error(op.objectName() + ": " + std::strerror(failAll), failAll)});
        continue;
      }
      if (int e = inject ? inject(op) : 0) {
        r.errors.push_back({i, Error(op.objectName() + ": " + std::strerror(e), e)});
        continue;
      }
      if (auto s = ipvs::applyOp(table_, op); !s) r.errors.push_back({i, s.error()});
    }
    return r;
  }

  Status flush() override {
    if (failAll) return err(failAll);
    ++flushCalls;
    table_.clear();
    return okStatus();
  }

  Status zero(const ipvs::ServiceKey* key) override {
    if (failAll) return err(failAll);
    if (key) {
      auto it = std::find_if(table_.begin(), table_.end(),
                             [&](const ipvs::VirtualServer& v) { return v.service.key == *key; });
      if (it == table_.end()) return err(ESRCH);
      serviceStats.erase(*key);
      return okStatus();
    }
    serviceStats.clear();
    for (auto& [k, v] : destExtra) v.stats = {};
    return okStatus();
  }

  Result<ipvs::Timeouts> timeouts() override {
    if (failAll) return err(failAll);
    return timeoutValue;
  }

  Status setTimeouts(const ipvs::Timeouts& t) override {
    if (failAll) return err(failAll);
    if (t.tcp) timeoutValue.tcp = t.tcp;
    if (t.tcpFin) timeoutValue.tcpFin = t.tcpFin;
    if (t.udp) timeoutValue.udp = t.udp;
    return okStatus();
  }

  Result<std::vector<ipvs::SyncDaemon>> syncDaemons() override {
    if (failAll) return err(failAll);
    return daemons;
  }

  Status startSyncDaemon(const ipvs::SyncDaemon& d) override {
    if (failAll) return err(failAll);
    // The sync protocol cannot carry mixed-family destinations.
    for (const auto& vs : table_) {
      for (const auto& dest : vs.destinations) {
        if (dest.address.family() != vs.service.key.family) return err(EINVAL);
      }
    }
    for (const auto& x : daemons) {
      if (x.state == d.state) return err(EEXIST);
    }
    daemons.push_back(d);
    return okStatus();
  }

  Status stopSyncDaemon(ipvs::SyncState state) override {
    if (failAll) return err(failAll);
    auto it = std::find_if(daemons.begin(), daemons.end(),
                           [&](const ipvs::SyncDaemon& d) { return d.state == state; });
    if (it == daemons.end()) return err(ESRCH);
    daemons.erase(it);
    return okStatus();
  }

 private:
  static Error err(int e) { return Error(std::strerror(e), e); }
  ipvs::Table table_;
};

}  // namespace lvsd::testing
