#include <algorithm>
#include <map>
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
  aligned_ = false;
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
  // Desired services are lvsd's from now on (so that they are deleted when
  // they leave the config). Skipped when the set of keys did not change.
  bool sameKeys = desired.size() == lastDesiredKeys_.size();
  for (size_t i = 0; sameKeys && i < desired.size(); ++i) {
    sameKeys = desired[i].service.key == lastDesiredKeys_[i];
  }
  if (!sameKeys) {
    lastDesiredKeys_.clear();
    for (const auto& vs : desired) {
      ownership_.owned.insert(vs.service.key);
      lastDesiredKeys_.push_back(vs.service.key);
    }
  }
  if (report.ops.empty()) {
    alignCache(desired);
    return report;
  }

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
  // Edits keep the order; adds and deletes (or a fresh read) may not.
  bool reorders = false;
  for (const auto& op : report.ops) {
    reorders |= op.kind != OpKind::kEditService && op.kind != OpKind::kEditDestination;
  }
  bool keysAligned = cache_.size() >= desired.size();
  for (size_t i = 0; keysAligned && i < desired.size(); ++i) {
    keysAligned = cache_[i].service.key == desired[i].service.key;
  }
  if (reorders || !aligned_ || !keysAligned) alignCache(desired);
  return report;
}

// Orders the cache like `desired` (desired services first, each with its
// destinations in desired order; everything else after), so that the next
// plan() takes its index-free fast path. Order means nothing to the kernel.
void Reconciler::alignCache(const Table& desired) {
  aligned_ = true;
  bool aligned = cache_.size() >= desired.size();
  for (size_t i = 0; aligned && i < desired.size(); ++i) {
    aligned = cache_[i].service.key == desired[i].service.key &&
              cache_[i].destinations.size() == desired[i].destinations.size();
    for (size_t j = 0; aligned && j < desired[i].destinations.size(); ++j) {
      aligned = cache_[i].destinations[j].sameKey(desired[i].destinations[j]);
    }
  }
  if (aligned) return;
  std::map<ServiceKey, VirtualServer> byKey;
  std::vector<ServiceKey> order;
  for (auto& vs : cache_) {
    order.push_back(vs.service.key);
    byKey.emplace(vs.service.key, std::move(vs));
  }
  Table next;
  next.reserve(cache_.size());
  for (const auto& want : desired) {
    auto it = byKey.find(want.service.key);
    if (it == byKey.end()) continue;
    VirtualServer vs = std::move(it->second);
    byKey.erase(it);
    std::vector<Destination> dests;
    dests.reserve(vs.destinations.size());
    for (const auto& d : want.destinations) {
      auto pos = std::find_if(vs.destinations.begin(), vs.destinations.end(),
                              [&](const Destination& x) { return x.sameKey(d); });
      if (pos != vs.destinations.end()) {
        dests.push_back(*pos);
        vs.destinations.erase(pos);
      }
    }
    dests.insert(dests.end(), vs.destinations.begin(), vs.destinations.end());
    vs.destinations = std::move(dests);
    next.push_back(std::move(vs));
  }
  for (const auto& k : order) {
    auto it = byKey.find(k);
    if (it != byKey.end()) next.push_back(std::move(it->second));
  }
  cache_ = std::move(next);
}

}  // namespace lvsd::ipvs
