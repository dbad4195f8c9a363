// plan(desired, actual, ownership): the pure diff at the heart of the
// reconciler (DESIGN.md style 7). See docs/ipvs.md for which attributes the
// kernel edits in place (all but the keys).

#include <map>

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

// Destination keys in first-seen order, last definition wins.
std::vector<const Destination*> uniqueDestinations(const std::vector<Destination>& in) {
  std::vector<const Destination*> out;
  std::map<std::pair<IpAddress, uint16_t>, size_t> index;
  for (const auto& d : in) {
    auto [it, inserted] = index.try_emplace({d.address, d.port}, out.size());
    if (inserted) {
      out.push_back(&d);
    } else {
      out[it->second] = &d;
    }
  }
  return out;
}

void planDestinations(const Service& svc, const std::vector<Destination>& want,
                      const std::vector<Destination>& have, std::vector<Op>& ops) {
  std::map<std::pair<IpAddress, uint16_t>, const Destination*> current;
  for (const auto& d : have) current.emplace(std::make_pair(d.address, d.port), &d);

  auto wanted = uniqueDestinations(want);
  std::vector<Op> adds;
  for (const Destination* d : wanted) {
    auto it = current.find({d->address, d->port});
    if (it == current.end()) {
      adds.push_back(makeOp(OpKind::kAddDestination, svc, d));
    } else if (destinationNeedsEdit(*d, *it->second)) {
      ops.push_back(makeOp(OpKind::kEditDestination, svc, d));
    }
  }
  ops.insert(ops.end(), adds.begin(), adds.end());

  std::map<std::pair<IpAddress, uint16_t>, bool> keep;
  for (const Destination* d : wanted) keep[{d->address, d->port}] = true;
  for (const auto& d : have) {
    if (!keep.count({d.address, d.port})) ops.push_back(makeOp(OpKind::kDeleteDestination, svc, &d));
  }
}

}  // namespace

std::vector<Op> plan(const Table& desired, const Table& actual, const Ownership& ownership) {
  std::map<ServiceKey, const VirtualServer*> current;
  for (const auto& vs : actual) current.emplace(vs.service.key, &vs);

  // Last definition of a key wins, at the position of its first appearance.
  std::vector<const VirtualServer*> wanted;
  std::map<ServiceKey, size_t> index;
  for (const auto& vs : desired) {
    auto [it, inserted] = index.try_emplace(vs.service.key, wanted.size());
    if (inserted) {
      wanted.push_back(&vs);
    } else {
      wanted[it->second] = &vs;
    }
  }

  std::vector<Op> ops;
  static const std::vector<Destination> kNone;
  for (const VirtualServer* vs : wanted) {
    auto it = current.find(vs->service.key);
    if (it == current.end()) {
      ops.push_back(makeOp(OpKind::kAddService, vs->service));
      planDestinations(vs->service, vs->destinations, kNone, ops);
      continue;
    }
    if (serviceNeedsEdit(vs->service, it->second->service)) {
      ops.push_back(makeOp(OpKind::kEditService, vs->service));
    }
    planDestinations(vs->service, vs->destinations, it->second->destinations, ops);
  }

  for (const auto& vs : actual) {
    const ServiceKey& key = vs.service.key;
    if (index.count(key)) continue;
    if (ownership.wholeTable || ownership.owned.count(key)) {
      ops.push_back(makeOp(OpKind::kDeleteService, vs.service));
    }
  }
  return ops;
}

}  // namespace lvsd::ipvs
