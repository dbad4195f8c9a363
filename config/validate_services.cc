// Virtual services, their real servers, sorry server and quorum.
#include <array>
#include <map>
#include <set>

#include "config/validate_internal.h"

namespace lvsd::config::detail {

namespace {

using rules::quote;

// The schedulers the kernel ships (net/netfilter/ipvs/ip_vs_*.c).
constexpr std::array<std::string_view, 13> kSchedulers = {
    "rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "mh", "fo", "ovf"};

std::string where(std::pair<int, int> lc) {
  return std::to_string(lc.first) + ":" + std::to_string(lc.second);
}

// What a service is keyed on, after its address parsed (or not).
struct ServiceShape {
  bool fwmark = false;
  std::optional<Endpoint> vip;   // address-keyed and parsed
  std::optional<Family> family;  // known family of the service
  std::string key;               // serviceKey() for messages
};

void validateTunnel(Context& ctx, const Tunnel& t, const Located& at) {
  if (t.type() == Tunnel::GUE) {
    if (t.port() == 0)
      ctx.error(at, "port", "tunnel type GUE needs port (the GUE destination port, 1..65535)");
    else
      ctx.range(at, "port", t.port(), 1, 65535);
  } else if (t.has_port()) {
    ctx.error(at, "port", "port applies only to tunnel type GUE");
  }
  // Kernel: checksum flags exist for GUE and GRE; remote checksum offload
  // only for GUE (IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM).
  if (t.csum() != Tunnel::NOCSUM && t.type() == Tunnel::IPIP)
    ctx.error(at, "csum", "csum applies only to GUE and GRE tunnels");
  else if (t.csum() == Tunnel::REMCSUM && t.type() != Tunnel::GUE)
    ctx.error(at, "csum", "REMCSUM applies only to GUE tunnels");
}

// A destination (real server or sorry server) address, checked against the
// service: family, required port, DR/TUN port equality.
std::optional<Endpoint> validateDestination(Context& ctx, const Located& at,
                                            const std::string& address, Forwarding fwd,
                                            const ServiceShape& svc, const char* what) {
  if (address.empty()) {
    ctx.error(at, "address", "address is required");
    return std::nullopt;
  }
  auto ep = Endpoint::parse(address, /*allowNoPort=*/true);
  if (!ep) {
    ctx.error(at, "address", ep.error().message);
    return std::nullopt;
  }
  const IpAddress& a = ep->address();
  if (a.isMulticast() || a.isUnspecified()) {
    ctx.error(at, "address", std::string(what) + " " + a.toString() + " is not a unicast address");
    return std::nullopt;
  }
  if (svc.family && a.family() != *svc.family) {
    ctx.error(at, "address",
              std::string(what) + " " + a.toString() + " is " + familyName(a.family()) +
                  " but service " + svc.key + " is " + familyName(*svc.family));
    return *ep;
  }
  if (!svc.fwmark && ep->port() == 0) {
    ctx.error(at, "address",
              std::string(what) + " " + quote(address) +
                  " needs a port (ip:port; only fwmark services may omit it)");
  } else if (svc.vip && (fwd == DR || fwd == TUN) && ep->port() != svc.vip->port()) {
    // DR rewrites only the MAC, TUN only encapsulates: the packet reaches the
    // real server with the virtual port, so a different port cannot work.
    ctx.error(at, "address",
              std::string(what) + " port " + std::to_string(ep->port()) +
                  " differs from the virtual port " + std::to_string(svc.vip->port()) + "; " +
                  forwardingName(fwd) + " cannot rewrite ports (use NAT)");
  }
  return *ep;
}

void validateInlineChecks(Context& ctx, const Located& at,
                          const google::protobuf::RepeatedPtrField<Check>& checks) {
  for (int i = 0; i < checks.size(); ++i) {
    Located cat = at.child("inline_check", i);
    if (checks[i].has_name()) ctx.identifier(cat, "name", checks[i].name(), "check");
    validateCheck(ctx, checks[i], cat);
  }
}

ServiceShape validateKey(Context& ctx, const VirtualService& vs, const Located& at) {
  ServiceShape s;
  s.key = serviceKey(vs);
  if (vs.has_address() && vs.has_fwmark()) {
    ctx.error(at, "fwmark", "a virtual service has either address or fwmark, not both");
  } else if (!vs.has_address() && !vs.has_fwmark()) {
    ctx.out.addAt(at, "a virtual service needs address (ip:port) or fwmark");
  }
  if (vs.has_fwmark()) {
    s.fwmark = true;
    if (vs.fwmark() == 0) ctx.error(at, "fwmark", "fwmark 0 outside 1..4294967295");
    if (vs.has_protocol())
      ctx.error(at, "protocol",
                "protocol does not apply to fwmark services (the mark selects packets)");
    if (!vs.has_address()) s.family = vs.family() == INET6 ? Family::kV6 : Family::kV4;
    return s;
  }
  if (!vs.has_address()) return s;
  auto ep = Endpoint::parse(vs.address());
  if (!ep) {
    ctx.error(at, "address", ep.error().message);
    return s;
  }
  if (ep->port() == 0) {
    ctx.error(at, "address", "port 0 outside 1..65535 (a fwmark service groups ports)");
    return s;
  }
  if (ep->address().isMulticast() || ep->address().isUnspecified()) {
    ctx.error(at, "address",
              "virtual address " + ep->address().toString() + " is not a unicast address");
    return s;
  }
  s.vip = *ep;
  s.family = ep->address().family();
  if (vs.has_family() && (vs.family() == INET6) != ep->address().isV6())
    ctx.error(at, "family",
              "family " + AddressFamily_Name(vs.family()) + " contradicts address " +
                  ep->toString() + " (family applies to fwmark services)");
  return s;
}

void validatePersistence(Context& ctx, const Persistence& p, const Located& at,
                         const VirtualService& vs, const ServiceShape& svc) {
  if (!p.has_timeout_s())
    ctx.error(at, "timeout_s", "timeout_s is required (1..2147483647 seconds)");
  else
    ctx.range(at, "timeout_s", p.timeout_s(), 1, 2147483647);
  if (p.has_netmask() && svc.family) {
    if (*svc.family == Family::kV4) {
      if (auto m = parseNetmaskV4(p.netmask()); !m)
        ctx.error(at, "netmask",
                  m.error().message + " (IPv4 services take a contiguous dotted mask)");
    } else {
      auto len = parseUnsigned(p.netmask(), 128);
      if (!len || *len == 0)
        ctx.error(at, "netmask",
                  "netmask " + quote(p.netmask()) + " is not an IPv6 prefix length 1..128");
    }
  }
  if (p.has_engine()) {
    if (p.engine() != "sip")
      ctx.error(at, "engine", "unknown persistence engine " + quote(p.engine()) + " (only 'sip')");
    else if (svc.fwmark || vs.protocol() != UDP)
      ctx.error(at, "engine", "persistence engine 'sip' needs protocol UDP (SIP over UDP)");
  }
}

void validateRealServers(Context& ctx, const VirtualService& vs, const Located& at,
                         const ServiceShape& svc) {
  std::map<Endpoint, std::pair<int, int>> seen;
  for (int j = 0; j < vs.real_server_size(); ++j) {
    const RealServer& rs = vs.real_server(j);
    Located rat = at.child("real_server", j);
    Forwarding fwd = rs.has_forwarding() ? rs.forwarding() : vs.forwarding();
    auto ep = validateDestination(ctx, rat, rs.address(), fwd, svc, "real server");
    if (ep) {
      if (auto [it, fresh] = seen.emplace(*ep, rat.where("address")); !fresh)
        ctx.error(rat, "address",
                  "duplicate real server " + ep->toString() + " (first defined at " +
                      where(it->second) + ")");
    }
    ctx.range(rat, "weight", rs.weight(), 0, 65535);
    if (rs.upper_threshold() == 0 && rs.lower_threshold() != 0)
      ctx.error(rat, "lower_threshold",
                "lower_threshold " + std::to_string(rs.lower_threshold()) +
                    " without upper_threshold (it only ends an overload)");
    else if (rs.lower_threshold() > rs.upper_threshold())
      ctx.error(rat, "lower_threshold",
                "lower_threshold " + std::to_string(rs.lower_threshold()) +
                    " above upper_threshold " + std::to_string(rs.upper_threshold()));
    if (rs.has_tunnel()) {
      if (fwd != TUN)
        ctx.error(rat, "tunnel",
                  std::string("tunnel applies only to forwarding TUN (this real server uses ") +
                      forwardingName(fwd) + ")");
      validateTunnel(ctx, rs.tunnel(), rat.child("tunnel"));
    }
    validateCheckRefs(ctx, rat, "check", rs.check());
    validateInlineChecks(ctx, rat, rs.inline_check());
    ctx.range(rat, "agent_port", rs.agent_port(), 0, 65535);
  }
}

void validateQuorum(Context& ctx, const VirtualService& vs, const Located& at) {
  const Quorum& q = vs.quorum();
  if (q.min_weight() == 0) {
    ctx.error(at, "min_weight", "min_weight is required and must be positive");
    return;
  }
  // Achievable: with every real server up the quorum must be (re)gainable,
  // else the service could never leave the quorum-lost state.
  uint64_t total = 0;
  for (const auto& rs : vs.real_server()) total += std::min<uint32_t>(rs.weight(), 65535);
  uint64_t need = uint64_t{q.min_weight()} + q.hysteresis();
  if (need > total)
    ctx.error(at, q.hysteresis() ? "hysteresis" : "min_weight",
              "quorum min_weight " + std::to_string(q.min_weight()) + " + hysteresis " +
                  std::to_string(q.hysteresis()) + " = " + std::to_string(need) +
                  " cannot be reached: the real servers' weights sum to " + std::to_string(total));
}

}  // namespace

void validateServices(Context& ctx) {
  const Config& c = ctx.config;
  std::map<std::string, std::pair<int, int>> keys;  // canonical key -> first location
  for (int i = 0; i < c.virtual_service_size(); ++i) {
    const VirtualService& vs = c.virtual_service(i);
    Located at = ctx.root.child("virtual_service", i);
    ServiceShape svc = validateKey(ctx, vs, at);

    bool duplicateKey = false;
    if (svc.vip || (svc.fwmark && vs.fwmark() != 0 && !vs.has_address())) {
      const char* keyField = svc.fwmark ? "fwmark" : "address";
      if (auto [it, fresh] = keys.emplace(svc.key, at.where(keyField)); !fresh) {
        duplicateKey = true;
        ctx.error(at, keyField,
                  "duplicate service " + svc.key + " (first defined at " + where(it->second) + ")");
      }
    }
    const std::string& name = ctx.serviceNames[i];
    if (vs.has_name() && !rules::isServiceName(name))
      ctx.error(at, "name",
                "service name " + quote(name) + " is not 1..128 characters of [A-Za-z0-9_.-/:[]]");
    else if (!duplicateKey && ctx.services.find(name) != i)
      ctx.error(at, vs.has_name() ? "name" : (svc.fwmark ? "fwmark" : "address"),
                "duplicate virtual service name " + quote(name) + " (first defined at " +
                    ctx.services.firstAt(name) + ")");

    if (std::find(kSchedulers.begin(), kSchedulers.end(), vs.scheduler()) == kSchedulers.end())
      ctx.error(at, "scheduler",
                "unknown scheduler " + quote(vs.scheduler()) +
                    " (expected one of rr wrr lc wlc lblc lblcr dh sh sed nq mh fo ovf)");
    std::set<int> flags;
    for (int j = 0; j < vs.sched_flag_size(); ++j) {
      SchedFlag f = vs.sched_flag(j);
      const char* needs = (f == SH_FALLBACK || f == SH_PORT) ? "sh" : "mh";
      if (!flags.insert(f).second)
        ctx.error(at, "sched_flag", j, SchedFlag_Name(f) + " listed twice");
      else if (vs.scheduler() != needs)
        ctx.error(at, "sched_flag", j,
                  SchedFlag_Name(f) + " needs scheduler " + needs + " (not " +
                      quote(vs.scheduler()) + ")");
    }
    if (vs.has_tunnel()) {
      if (vs.forwarding() != TUN)
        ctx.error(at, "tunnel",
                  std::string("tunnel applies only to forwarding TUN (this service uses ") +
                      forwardingName(vs.forwarding()) + ")");
      validateTunnel(ctx, vs.tunnel(), at.child("tunnel"));
    }
    if (vs.has_persistence())
      validatePersistence(ctx, vs.persistence(), at.child("persistence"), vs, svc);
    // The kernel applies one-packet scheduling to UDP only; a fwmark service
    // may carry UDP, so it is allowed there.
    if (vs.one_packet() && !svc.fwmark && vs.protocol() != UDP)
      ctx.error(at, "one_packet", "one_packet applies only to UDP services");

    validateRealServers(ctx, vs, at, svc);
    validateCheckRefs(ctx, at, "check", vs.check());
    validateInlineChecks(ctx, at, vs.inline_check());

    if (vs.has_sorry_server()) {
      const SorryServer& s = vs.sorry_server();
      Located sat = at.child("sorry_server");
      Forwarding fwd = s.has_forwarding() ? s.forwarding() : vs.forwarding();
      validateDestination(ctx, sat, s.address(), fwd, svc, "sorry server");
      ctx.range(sat, "weight", s.weight(), 0, 65535);
    }
    if (vs.has_quorum()) validateQuorum(ctx, vs, at.child("quorum"));
    if (vs.has_feedback()) validateFeedback(ctx, vs.feedback(), at.child("feedback"));
    ctx.range(at, "drain_timeout_s", vs.drain_timeout_s(), 0, 604800);
    if (vs.has_instance() && !ctx.instances.contains(vs.instance()))
      ctx.error(at, "instance", "unknown instance " + quote(vs.instance()));
  }
}

}  // namespace lvsd::config::detail
