// The IPVS model: names, key rendering, and applyOp() (what the kernel does
// with one successful operation), shared by the reconciler's cache and the
// fake backend.

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "ipvs/ipvs.h"

namespace lvsd::ipvs {

const char* protocolName(Protocol p) {
  switch (p) {
    case Protocol::kTcp:
      return "tcp";
    case Protocol::kUdp:
      return "udp";
    case Protocol::kSctp:
      return "sctp";
  }
  return "proto-?";
}

const char* forwardingName(Forwarding f) {
  switch (f) {
    case Forwarding::kMasq:
      return "nat";
    case Forwarding::kLocal:
      return "local";
    case Forwarding::kTunnel:
      return "tun";
    case Forwarding::kRoute:
      return "dr";
  }
  return "fwd-?";
}

const char* opKindName(OpKind k) {
  switch (k) {
    case OpKind::kAddService:
      return "add-service";
    case OpKind::kEditService:
      return "edit-service";
    case OpKind::kDeleteService:
      return "delete-service";
    case OpKind::kAddDestination:
      return "add-destination";
    case OpKind::kEditDestination:
      return "edit-destination";
    case OpKind::kDeleteDestination:
      return "delete-destination";
  }
  return "?";
}

ServiceKey ServiceKey::inet(Protocol p, const Endpoint& ep) {
  ServiceKey k;
  k.family = ep.address().family();
  k.protocol = p;
  k.address = ep.address();
  k.port = ep.port();
  return k;
}

ServiceKey ServiceKey::mark(uint32_t fwmark, Family f) {
  static constexpr uint8_t kZero[16] = {};
  ServiceKey k;
  k.family = f;
  k.fwmark = fwmark;
  k.protocol = Protocol::kTcp;
  k.address = IpAddress::fromBytes(f, kZero);
  k.port = 0;
  return k;
}

std::string ServiceKey::toString() const {
  if (isFwmark()) {
    return "fwmark " + std::to_string(fwmark) + (family == Family::kV6 ? " inet6" : "");
  }
  const char* p = protocolName(protocol);
  std::string proto = (std::strcmp(p, "proto-?") == 0)
                          ? "proto-" + std::to_string(static_cast<unsigned>(protocol))
                          : std::string(p);
  return proto + " " + Endpoint(address, port).toString();
}

uint32_t defaultNetmask(Family f) { return f == Family::kV6 ? 128 : 0xffffffff; }

std::string Info::versionString() const {
  return std::to_string((version >> 16) & 0xff) + "." + std::to_string((version >> 8) & 0xff) +
         "." + std::to_string(version & 0xff);
}

std::string Op::objectName() const {
  std::string s = "service " + service.key.toString();
  if (isDestination()) s += ": destination " + dest.endpoint().toString();
  return s;
}

namespace {

std::string serviceDetails(const Service& s) {
  std::string out = " scheduler=" + s.scheduler;
  if (s.flags & kSvcPersistent) out += " persistent=" + std::to_string(s.timeout);
  if (s.flags & kSvcOnePacket) out += " one-packet";
  if (s.flags & kSvcSchedMask) out += " sched-flags=" + std::to_string((s.flags & kSvcSchedMask) >> 3);
  if (!s.pe.empty()) out += " pe=" + s.pe;
  return out;
}

std::string destDetails(const Destination& d) {
  std::string out = std::string(" forwarding=") + forwardingName(d.forwarding) +
                    " weight=" + std::to_string(d.weight);
  if (d.upperThreshold || d.lowerThreshold) {
    out += " thresholds=" + std::to_string(d.lowerThreshold) + ".." + std::to_string(d.upperThreshold);
  }
  return out;
}

}  // namespace

std::string Op::toString() const {
  std::string s = std::string(opKindName(kind)) + " " + objectName();
  switch (kind) {
    case OpKind::kAddService:
    case OpKind::kEditService:
      s += serviceDetails(service);
      break;
    case OpKind::kAddDestination:
    case OpKind::kEditDestination:
      s += destDetails(dest);
      break;
    default:
      break;
  }
  return s;
}

Status applyOp(Table& table, const Op& op) {
  auto svc = std::find_if(table.begin(), table.end(),
                          [&](const VirtualServer& v) { return v.service.key == op.service.key; });
  auto fail = [&](int err) { return Status(Error(op.objectName() + ": " + std::strerror(err), err)); };
  switch (op.kind) {
    case OpKind::kAddService:
      if (svc != table.end()) return fail(EEXIST);
      table.push_back(VirtualServer{op.service, {}});
      return okStatus();
    case OpKind::kEditService:
      if (svc == table.end()) return fail(ESRCH);
      svc->service = op.service;
      return okStatus();
    case OpKind::kDeleteService:
      if (svc == table.end()) return fail(ESRCH);
      table.erase(svc);
      return okStatus();
    default:
      break;
  }
  if (svc == table.end()) return fail(ESRCH);
  auto& dests = svc->destinations;
  auto d = std::find_if(dests.begin(), dests.end(),
                        [&](const Destination& x) { return x.sameKey(op.dest); });
  switch (op.kind) {
    case OpKind::kAddDestination:
      if (d != dests.end()) return fail(EEXIST);
      dests.push_back(op.dest);
      return okStatus();
    case OpKind::kEditDestination:
      if (d == dests.end()) return fail(ENOENT);
      *d = op.dest;
      return okStatus();
    case OpKind::kDeleteDestination:
      if (d == dests.end()) return fail(ENOENT);
      dests.erase(d);
      return okStatus();
    default:
      break;
  }
  return fail(EINVAL);
}

}  // namespace lvsd::ipvs
