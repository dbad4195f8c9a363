#include <vector>

#include "core/log.h"
#include "ipvs/ipvs.h"

namespace lvsd::ipvs {

Reconciler::Reconciler(IpvsBackend& backend, Ownership ownership)
    : backend_(backend), ownership_(std::move(ownership)) {}

Status Reconciler::refresh() {
  auto table = readTable(backend_);
  if (!table) return std::move(table).takeError();
  cache_ = std::move(*table);
  stale_ = false;
  ++counters_.refreshes;
  return okStatus();
}

Result<std::vector<Op>> Reconciler::preview(const Table& desired) {
  if (stale_) {
    if (auto s = refresh(); !s) return std::move(s).takeError();
  }
  return plan(desired, cache_, ownership_);
}

Result<ReconcileReport> Reconciler::apply(const Table& desired) {
  ReconcileReport report;
  if (stale_) {
    if (auto s = refresh(); !s) return std::move(s).takeError();
    report.refreshed = true;
  }
  ++counters_.applies;
  report.ops = plan(desired, cache_, ownership_);
  for (const auto& vs : desired) ownership_.owned.insert(vs.service.key);
  if (report.ops.empty()) return report;

  BatchResult br = backend_.apply(report.ops);
  counters_.opsSent += br.sent;
  counters_.opErrors += br.errors.size();
  std::vector<bool> failed(report.ops.size(), false);
  for (const auto& e : br.errors) {
    if (e.index < failed.size()) failed[e.index] = true;
  }
  for (size_t i = 0; i < report.ops.size(); ++i) {
    if (failed[i]) continue;
    // The kernel accepted it; a cache that disagrees is out of date.
    if (!applyOp(cache_, report.ops[i])) stale_ = true;
    if (report.ops[i].kind == OpKind::kDeleteService) {
      ownership_.owned.erase(report.ops[i].service.key);
    }
  }
  if (!br.errors.empty()) {
    stale_ = true;
    auto log = logger("ipvs");
    for (const auto& e : br.errors) {
      log->warn("apply failed: {} ({})", e.error.what(), opKindName(report.ops[e.index].kind));
    }
  }
  report.errors = std::move(br.errors);
  return report;
}

}  // namespace lvsd::ipvs
