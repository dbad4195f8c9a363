// plan(desired, actual, ownership): the pure diff at the heart of the
// reconciler (DESIGN.md style 7). See docs/ipvs.md for which attributes the
// kernel edits in place (all but the keys).

#include <unordered_map>

#include "ipvs/ipvs.h"

namespace lvsd::ipvs {
namespace {

// Flags that change kernel behaviour; kSvcHashed is bookkeeping.
constexpr uint32_t kComparedFlags = kSvcPersistent | kSvcOnePacket | kSvcSchedMask;

// Timeout and granularity only matter to a persistent service; a table made
// by hand with `-M` but no `-p` is not "different" from one without `-M`.
bool serviceNeedsEdit(const Service& want, const Service& have) {
  if (want.scheduler != have.scheduler) return true;
  if ((want.flags & kComparedFlags) != (have.flags & kComparedFlags)) return true;
  if (want.pe != have.pe) return true;
  if (want.persistent() && (want.timeout != have.timeout || want.netmask != have.netmask)) return true;
  return false;
}

bool destinationNeedsEdit(const Destination& want, const Destination& have) {
  if (want.forwarding != have.forwarding || want.weight != have.weight ||
      want.upperThreshold != have.upperThreshold || want.lowerThreshold != have.lowerThreshold) {
    return true;
  }
  // Tunnel parameters are only used by tunnelling destinations; the kernel
  // stores zeros for the others.
  return want.forwarding == Forwarding::kTunnel && !(want.tunnel == have.tunnel);
}

Op makeOp(OpKind kind, const Service& svc, const Destination* dest = nullptr) {
  Op op;
  op.kind = kind;
  op.service = svc;
  if (dest) op.dest = *dest;
  return op;
}

struct KeyHash {
  size_t operator()(const ServiceKey& k) const noexcept {
    size_t h = std::hash<IpAddress>()(k.address);
    h = h * 31 + k.fwmark;
    h = h * 31 + static_cast<size_t>(k.protocol);
    h = h * 31 + k.port;
    return h * 31 + static_cast<size_t>(k.family);
  }
};

struct DestHash {
  size_t operator()(const std::pair<IpAddress, uint16_t>& k) const noexcept {
    return std::hash<IpAddress>()(k.first) * 65537 + k.second;
  }
};

bool sameDestinations(const std::vector<Destination>& want, const std::vector<Destination>& have) {
  if (want.size() != have.size()) return false;
  for (size_t i = 0; i < want.size(); ++i) {
    if (!want[i].sameKey(have[i]) || destinationNeedsEdit(want[i], have[i])) return false;
  }
  return true;
}

void planDestinations(const Service& svc, const std::vector<Destination>& want,
                      const std::vector<Destination>& have, std::vector<Op>& ops) {
  // Fast path: the same destinations in the same order (the common case
  // once the table is programmed) need no index at all.
  if (sameDestinations(want, have)) return;

  using Key = std::pair<IpAddress, uint16_t>;
  std::unordered_map<Key, const Destination*, DestHash> current;
  current.reserve(have.size());
  for (const auto& d : have) current.emplace(Key(d.address, d.port), &d);

  // Destination keys in first-seen order, last definition wins.
  std::vector<const Destination*> wanted;
  std::unordered_map<Key, size_t, DestHash> index;
  index.reserve(want.size());
  for (const auto& d : want) {
    auto [it, inserted] = index.try_emplace(Key(d.address, d.port), wanted.size());
    if (inserted) {
      wanted.push_back(&d);
    } else {
      wanted[it->second] = &d;
    }
  }

  std::vector<Op> adds;
  for (const Destination* d : wanted) {
    auto it = current.find(Key(d->address, d->port));
    if (it == current.end()) {
      adds.push_back(makeOp(OpKind::kAddDestination, svc, d));
    } else if (destinationNeedsEdit(*d, *it->second)) {
      ops.push_back(makeOp(OpKind::kEditDestination, svc, d));
    }
  }
  ops.insert(ops.end(), adds.begin(), adds.end());
  for (const auto& d : have) {
    if (!index.count(Key(d.address, d.port))) ops.push_back(makeOp(OpKind::kDeleteDestination, svc, &d));
  }
}

}  // namespace

std::vector<Op> plan(const Table& desired, const Table& actual, const Ownership& ownership) {
  std::vector<Op> ops;
  // Fast path, no index: `actual` starts with the desired services in the
  // same order (what Reconciler keeps its cache like). Kernel tables have
  // unique keys, so the rest of `actual` is not desired.
  if (desired.size() <= actual.size()) {
    size_t i = 0;
    while (i < desired.size() && desired[i].service.key == actual[i].service.key) ++i;
    if (i == desired.size()) {
      for (size_t k = 0; k < desired.size(); ++k) {
        if (serviceNeedsEdit(desired[k].service, actual[k].service)) {
          ops.push_back(makeOp(OpKind::kEditService, desired[k].service));
        }
        planDestinations(desired[k].service, desired[k].destinations, actual[k].destinations, ops);
      }
      for (size_t k = desired.size(); k < actual.size(); ++k) {
        const Service& svc = actual[k].service;
        if (ownership.wholeTable || ownership.owned.count(svc.key)) {
          ops.push_back(makeOp(OpKind::kDeleteService, svc));
        }
      }
      return ops;
    }
  }

  // One index for both sides: key -> (last desired definition, actual).
  struct Slot {
    const VirtualServer* want = nullptr;
    const VirtualServer* have = nullptr;
    bool planned = false;
  };
  std::unordered_map<ServiceKey, Slot, KeyHash> slots;
  slots.reserve(desired.size() + actual.size());
  for (const auto& vs : actual) slots[vs.service.key].have = &vs;
  for (const auto& vs : desired) slots[vs.service.key].want = &vs;  // last definition wins

  static const std::vector<Destination> kNone;
  for (const auto& vs : desired) {
    Slot& slot = slots[vs.service.key];
    // Plan each key once, at its first appearance, with its last definition.
    if (slot.planned) continue;
    slot.planned = true;
    const VirtualServer& want = *slot.want;
    if (!slot.have) {
      ops.push_back(makeOp(OpKind::kAddService, want.service));
      planDestinations(want.service, want.destinations, kNone, ops);
      continue;
    }
    if (serviceNeedsEdit(want.service, slot.have->service)) {
      ops.push_back(makeOp(OpKind::kEditService, want.service));
    }
    planDestinations(want.service, want.destinations, slot.have->destinations, ops);
  }

  for (const auto& vs : actual) {
    const ServiceKey& key = vs.service.key;
    if (slots[key].want) continue;  // desired
    if (ownership.wholeTable || ownership.owned.count(key)) {
      ops.push_back(makeOp(OpKind::kDeleteService, vs.service));
    }
  }
  return ops;
}

}  // namespace lvsd::ipvs
