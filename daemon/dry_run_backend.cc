#include "daemon/dry_run_backend.h"

#include <algorithm>

#include "core/log.h"

namespace lvsd::daemon {
namespace {

class DryRunBackend final : public ipvs::IpvsBackend {
 public:
  Result<ipvs::Info> info() override { return ipvs::Info{}; }

  Result<std::vector<ipvs::ServiceEntry>> services() override {
    std::vector<ipvs::ServiceEntry> out;
    for (const auto& vs : table_) out.push_back({vs.service, {}});
    return out;
  }
  Result<ipvs::ServiceEntry> service(const ipvs::ServiceKey& key) override {
    const auto* vs = find(key);
    if (!vs) return Error("service " + key.toString() + ": No such process", ESRCH);
    return ipvs::ServiceEntry{vs->service, {}};
  }
  Result<std::vector<ipvs::DestinationEntry>> destinations(const ipvs::ServiceKey& key) override {
    const auto* vs = find(key);
    if (!vs) return Error("service " + key.toString() + ": No such process", ESRCH);
    std::vector<ipvs::DestinationEntry> out;
    for (const auto& d : vs->destinations) out.push_back({d, 0, 0, 0, {}});
    return out;
  }

  ipvs::BatchResult apply(std::span<const ipvs::Op> ops) override {
    ipvs::BatchResult r;
    for (size_t i = 0; i < ops.size(); ++i) {
      ++r.sent;
      logger("ipvs")->info("dry-run: would {}", ops[i].toString());
      if (auto s = ipvs::applyOp(table_, ops[i]); !s) r.errors.push_back({i, s.error()});
    }
    return r;
  }

  Status flush() override { return refuse("flush"); }
  Status zero(const ipvs::ServiceKey*) override { return okStatus(); }
  Result<ipvs::Timeouts> timeouts() override { return timeouts_; }
  Status setTimeouts(const ipvs::Timeouts& t) override {
    logger("ipvs")->info("dry-run: would set timeouts tcp={} tcpfin={} udp={}", t.tcp, t.tcpFin,
                         t.udp);
    if (t.tcp) timeouts_.tcp = t.tcp;
    if (t.tcpFin) timeouts_.tcpFin = t.tcpFin;
    if (t.udp) timeouts_.udp = t.udp;
    return okStatus();
  }
  Result<std::vector<ipvs::SyncDaemon>> syncDaemons() override { return daemons_; }
  Status startSyncDaemon(const ipvs::SyncDaemon& d) override {
    logger("ipvs")->info("dry-run: would start sync daemon {}",
                         d.state == ipvs::SyncState::kMaster ? "master" : "backup");
    daemons_.push_back(d);
    return okStatus();
  }
  Status stopSyncDaemon(ipvs::SyncState state) override {
    logger("ipvs")->info("dry-run: would stop sync daemon {}",
                         state == ipvs::SyncState::kMaster ? "master" : "backup");
    std::erase_if(daemons_, [&](const auto& d) { return d.state == state; });
    return okStatus();
  }

 private:
  Status refuse(const char* what) {
    return Error(std::string("dry-run backend: refusing to ") + what);
  }
  const ipvs::VirtualServer* find(const ipvs::ServiceKey& key) const {
    auto it = std::find_if(table_.begin(), table_.end(),
                           [&](const auto& vs) { return vs.service.key == key; });
    return it == table_.end() ? nullptr : &*it;
  }

  ipvs::Table table_;
  ipvs::Timeouts timeouts_{900, 120, 300};
  std::vector<ipvs::SyncDaemon> daemons_;
};

}  // namespace

std::unique_ptr<ipvs::IpvsBackend> makeDryRunBackend() { return std::make_unique<DryRunBackend>(); }

}  // namespace lvsd::daemon
