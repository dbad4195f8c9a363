#include "ipvs/from_config.h"

#include <algorithm>

namespace lvsd::ipvs {
namespace {

Protocol protocolOf(config::Protocol p) {
  switch (p) {
    case config::UDP:
      return Protocol::kUdp;
    case config::SCTP:
      return Protocol::kSctp;
    default:
      return Protocol::kTcp;
  }
}

Forwarding forwardingOf(config::Forwarding f) {
  switch (f) {
    case config::NAT:
      return Forwarding::kMasq;
    case config::TUN:
      return Forwarding::kTunnel;
    case config::LOCAL:
      return Forwarding::kLocal;
    default:
      return Forwarding::kRoute;
  }
}

Tunnel tunnelOf(const config::Tunnel& t) {
  Tunnel out;
  switch (t.type()) {
    case config::Tunnel::GUE:
      out.type = TunnelType::kGue;
      out.port = static_cast<uint16_t>(t.port());
      break;
    case config::Tunnel::GRE:
      out.type = TunnelType::kGre;
      break;
    default:
      out.type = TunnelType::kIpip;
      return out;  // ipip has neither port nor checksum options
  }
  if (t.csum() == config::Tunnel::CSUM) out.flags = kTunnelCsum;
  if (t.csum() == config::Tunnel::REMCSUM) out.flags = kTunnelRemCsum;
  return out;
}

std::string nameOf(const config::VirtualService& vs) {
  if (vs.has_name() && !vs.name().empty()) return vs.name();
  auto key = serviceKeyFromConfig(vs);
  return key ? key->toString() : vs.address();
}

}  // namespace

Result<ServiceKey> serviceKeyFromConfig(const config::VirtualService& vs) {
  Family fam = vs.family() == config::INET6 ? Family::kV6 : Family::kV4;
  if (vs.has_fwmark()) {
    if (vs.fwmark() == 0) return Error("fwmark must be 1..4294967295");
    return ServiceKey::mark(vs.fwmark(), fam);
  }
  auto ep = Endpoint::parse(vs.address());
  if (!ep) return Error("address: " + ep.error().what());
  return ServiceKey::inet(protocolOf(vs.protocol()), *ep);
}

Result<VirtualServer> virtualServerFromConfig(const config::VirtualService& vs) {
  const std::string where = "virtual_service " + nameOf(vs);
  auto key = serviceKeyFromConfig(vs);
  if (!key) return Error(where + ": " + key.error().what());

  VirtualServer out;
  Service& s = out.service;
  s.key = *key;
  s.scheduler = vs.scheduler();
  for (int f : vs.sched_flag()) {
    switch (f) {
      case config::SH_FALLBACK:
        s.flags |= kSvcShFallback;
        break;
      case config::SH_PORT:
        s.flags |= kSvcShPort;
        break;
      case config::MH_FALLBACK:
        s.flags |= kSvcMhFallback;
        break;
      case config::MH_PORT:
        s.flags |= kSvcMhPort;
        break;
    }
  }
  if (vs.one_packet()) s.flags |= kSvcOnePacket;
  s.netmask = defaultNetmask(key->family);
  if (vs.has_persistence()) {
    const auto& p = vs.persistence();
    s.flags |= kSvcPersistent;
    s.timeout = p.timeout_s();
    if (p.has_netmask() && !p.netmask().empty()) {
      if (key->family == Family::kV6) {
        auto len = parseUnsigned(p.netmask(), 128);
        if (!len || *len == 0) return Error(where + ": persistence.netmask: IPv6 prefix length 1..128");
        s.netmask = static_cast<uint32_t>(*len);
      } else {
        auto len = parseNetmaskV4(p.netmask());
        if (!len) return Error(where + ": persistence.netmask: " + len.error().what());
        s.netmask = *len == 0 ? 0 : ~uint32_t{0} << (32 - *len);
      }
    }
    s.pe = p.engine();
  }

  Forwarding defaultFwd = forwardingOf(vs.forwarding());
  for (int i = 0; i < vs.real_server_size(); ++i) {
    const auto& rs = vs.real_server(i);
    const std::string rwhere = where + ": real_server[" + std::to_string(i) + "]";
    auto ep = Endpoint::parse(rs.address(), /*allowNoPort=*/true);
    if (!ep) return Error(rwhere + ": address: " + ep.error().what());
    Destination d;
    d.address = ep->address();
    d.port = ep->port() != 0 || key->isFwmark() ? ep->port() : key->port;
    d.forwarding = rs.has_forwarding() ? forwardingOf(rs.forwarding()) : defaultFwd;
    d.weight = rs.weight();
    d.upperThreshold = rs.upper_threshold();
    d.lowerThreshold = rs.lower_threshold();
    if (d.forwarding == Forwarding::kTunnel) {
      d.tunnel = rs.has_tunnel() ? tunnelOf(rs.tunnel())
                                 : vs.has_tunnel() ? tunnelOf(vs.tunnel()) : Tunnel{};
    }
    out.destinations.push_back(d);
  }
  return out;
}

Result<Table> tableFromConfig(const config::Config& cfg) {
  Table t;
  for (const auto& vs : cfg.virtual_service()) {
    auto v = virtualServerFromConfig(vs);
    if (!v) return std::move(v).takeError();
    t.push_back(std::move(*v));
  }
  return t;
}

std::vector<Present> presentAsConfigured(const Table& configured, const Table& kernel) {
  std::vector<Present> out;
  for (const auto& want : configured) {
    auto vs = std::find_if(kernel.begin(), kernel.end(),
                           [&](const VirtualServer& k) { return k.service.key == want.service.key; });
    if (vs == kernel.end()) continue;
    for (const auto& d : want.destinations)
      for (const auto& k : vs->destinations)
        if (k.sameKey(d) && k.weight == d.weight) out.push_back({want.service.key, d.endpoint()});
  }
  return out;
}

Ownership ownershipFromConfig(const config::Config& cfg) {
  Ownership o;
  o.wholeTable = cfg.ipvs().ownership() == config::Ipvs::WHOLE_TABLE;
  return o;
}

Timeouts timeoutsFromConfig(const config::Config& cfg) {
  return Timeouts{cfg.ipvs().tcp_timeout_s(), cfg.ipvs().tcpfin_timeout_s(),
                  cfg.ipvs().udp_timeout_s()};
}

}  // namespace lvsd::ipvs
