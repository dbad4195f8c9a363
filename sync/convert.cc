#include "sync/convert.h"

#include <array>
#include <charconv>

namespace lvsd::sync {

namespace {

// State names as the kernel prints them, indexed by state number
// (ip_vs_proto_tcp.c, ip_vs_proto_udp.c, ip_vs_proto_sctp.c, and the
// template names of ip_vs_proto.c).
constexpr std::array<std::string_view, 11> kTcpStates = {
    "NONE",  "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT", "TIME_WAIT",
    "CLOSE", "CLOSE_WAIT",  "LAST_ACK", "LISTEN",   "SYNACK"};
constexpr std::array<std::string_view, 1> kUdpStates = {"UDP"};
constexpr std::array<std::string_view, 14> kSctpStates = {
    "NONE",        "INIT1",  "INIT",       "C-SENT",     "C-REPLIED", "C-WAIT",   "COOKIE",
    "C-ECHOED",    "ESTABLISHED", "S-SENT", "S-RECEIVED", "S-ACK-SENT", "REJECTED", "CLOSED"};
constexpr std::array<std::string_view, 2> kTemplateStates = {"NONE", "ASSURED"};
constexpr uint16_t kTcpEstablished = 1;
constexpr uint16_t kSctpEstablished = 8;

template <size_t N>
std::optional<uint16_t> indexOf(const std::array<std::string_view, N>& names,
                                std::string_view name) {
  for (size_t i = 0; i < N; ++i)
    if (names[i] == name) return uint16_t(i);
  return std::nullopt;
}

std::optional<uint8_t> ipvsProtocol(ipvs::Protocol p) {
  switch (p) {
    case ipvs::Protocol::kTcp:
      return wire::kProtoTcp;
    case ipvs::Protocol::kUdp:
      return wire::kProtoUdp;
    case ipvs::Protocol::kSctp:
      return wire::kProtoSctp;
  }
  return std::nullopt;
}

}  // namespace

std::optional<uint8_t> protocolNumber(std::string_view name) {
  if (name == "TCP") return wire::kProtoTcp;
  if (name == "UDP") return wire::kProtoUdp;
  if (name == "SCTP") return wire::kProtoSctp;
  if (name == "IP") return wire::kProtoIp;
  // "IP_<n>" is how the kernel prints protocols it has no name for.
  if (name.starts_with("IP_")) {
    unsigned v = 0;
    auto s = name.substr(3);
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec == std::errc() && p == s.data() + s.size() && !s.empty() && s[0] != '0' &&
        (v == wire::kProtoTcp || v == wire::kProtoUdp || v == wire::kProtoSctp))
      return uint8_t(v);
  }
  return std::nullopt;
}

std::optional<uint16_t> stateNumber(uint8_t protocol, bool isTemplate, std::string_view name) {
  if (isTemplate) return indexOf(kTemplateStates, name);
  switch (protocol) {
    case wire::kProtoTcp:
      return indexOf(kTcpStates, name);
    case wire::kProtoUdp:
      return indexOf(kUdpStates, name);
    case wire::kProtoSctp:
      return indexOf(kSctpStates, name);
  }
  return std::nullopt;
}

const char* skipName(Skip s) {
  switch (s) {
    case Skip::kProtocol:
      return "protocol";
    case Skip::kState:
      return "state";
    case Skip::kFamily:
      return "family";
    case Skip::kPersistence:
      return "persistence";
  }
  return "?";
}

uint64_t ConvertResult::skippedTotal() const {
  uint64_t n = 0;
  for (uint64_t v : skipped) n += v;
  return n;
}

ServiceIndex::ServiceIndex(const ipvs::Table& table) : table_(table) {
  for (size_t i = 0; i < table_.size(); ++i) {
    const ipvs::ServiceKey& k = table_[i].service.key;
    if (k.isFwmark()) {
      mark_.emplace(MarkKey{k.family, k.fwmark}, i);
    } else if (auto p = ipvsProtocol(k.protocol)) {
      inet_.emplace(InetKey{k.family, *p, k.address, k.port}, i);
    }
  }
}

const ipvs::VirtualServer* ServiceIndex::findInet(Family f, uint8_t proto, const IpAddress& a,
                                                  uint16_t port) const {
  auto it = inet_.find(InetKey{f, proto, a, port});
  return it == inet_.end() ? nullptr : &table_[it->second];
}

const ipvs::Destination* ServiceIndex::findDest(const ipvs::VirtualServer& vs,
                                                const IpAddress& a, uint16_t port) {
  // Exact port first; a firewall-mark or port-0 service's destination may
  // carry port 0 while its connections use the client's destination port.
  const ipvs::Destination* loose = nullptr;
  for (const auto& d : vs.destinations) {
    if (d.address != a) continue;
    if (d.port == port) return &d;
    if (d.port == 0 && !loose) loose = &d;
  }
  return loose;
}

ServiceIndex::Match ServiceIndex::lookup(Family family, uint8_t protocol,
                                         const IpAddress& vaddr, uint16_t vport,
                                         const IpAddress& daddr, uint16_t dport,
                                         uint32_t fwmark) const {
  Match m;
  const ipvs::VirtualServer* vs = nullptr;
  if (fwmark) {
    auto it = mark_.find(MarkKey{family, fwmark});
    if (it != mark_.end()) vs = &table_[it->second];
    m.fwmark = fwmark;
  } else {
    vs = findInet(family, protocol, vaddr, vport);
    // The kernel falls back to a port-0 ("all ports") service the same way.
    if (!vs && vport != 0) vs = findInet(family, protocol, vaddr, 0);
  }
  if (!vs && !fwmark) {
    // A connection of a firewall-mark service: the service holding its real server.
    for (const auto& [key, i] : mark_) {
      if (std::get<0>(key) != family) continue;
      if (findDest(table_[i], daddr, dport)) {
        vs = &table_[i];
        m.fwmark = std::get<1>(key);
        break;
      }
    }
  }
  if (!vs) return m;
  if (const ipvs::Destination* d = findDest(*vs, daddr, dport)) {
    m.found = true;
    m.forwarding = static_cast<uint32_t>(d->forwarding) & wire::kFwdMask;
  }
  return m;
}

std::optional<wire::SyncConn> toSyncConn(const ipvs::Connection& c, const ServiceIndex& index,
                                         Skip* why, bool* resolved) {
  *resolved = false;
  auto proto = protocolNumber(c.protocol);
  bool isTemplate = c.clientPort == 0;
  if (!proto || (*proto == wire::kProtoIp && !isTemplate)) {
    *why = Skip::kProtocol;
    return std::nullopt;
  }
  Family fam = c.client.family();
  if (c.vaddr.family() != fam || c.daddr.family() != fam) {
    *why = Skip::kFamily;
    return std::nullopt;
  }
  auto state = stateNumber(*proto, isTemplate, c.state);
  if (!state) {
    *why = Skip::kState;
    return std::nullopt;
  }
  if (c.peName.empty() != c.peData.empty() || c.peName.size() > wire::kPeNameMax ||
      c.peData.size() > wire::kPeDataMax) {
    *why = Skip::kPersistence;
    return std::nullopt;
  }
  wire::SyncConn s;
  s.protocol = *proto;
  s.state = *state;
  s.caddr = c.client;
  s.vaddr = c.vaddr;
  s.daddr = c.daddr;
  s.cport = c.clientPort;
  s.vport = c.vport;
  s.dport = c.dport;
  // Zero would make the backup use its full state timeout; an entry about
  // to expire keeps one second instead.
  s.timeout = c.expires ? c.expires : 1;
  s.peName = c.peName;
  s.peData = c.peData;
  uint32_t markFromTemplate = 0;
  if (isTemplate && *proto == wire::kProtoIp) {
    const auto& b = c.vaddr.bytes();
    markFromTemplate = uint32_t(b[0]) << 24 | uint32_t(b[1]) << 16 | uint32_t(b[2]) << 8 | b[3];
  }
  auto m = index.lookup(fam, *proto, c.vaddr, c.vport, c.daddr, c.dport, markFromTemplate);
  *resolved = m.found;
  s.fwmark = m.fwmark;
  s.flags = m.forwarding;
  if (isTemplate) {
    s.flags |= wire::kFlagTemplate | wire::kFlagInactive;
  } else {
    // As the kernel keeps it: a connection is active only once established
    // (UDP never is); the backup's active/inactive counters follow.
    bool active = (*proto == wire::kProtoTcp && *state == kTcpEstablished) ||
                  (*proto == wire::kProtoSctp && *state == kSctpEstablished);
    if (!active) s.flags |= wire::kFlagInactive;
  }
  return s;
}

ConvertResult convertTable(const ipvs::ConnectionTable& table, const ServiceIndex& index) {
  ConvertResult r;
  r.malformed = table.malformed;
  r.entries.reserve(table.connections.size());
  for (const auto& c : table.connections) {
    Skip why{};
    bool resolved = false;
    auto s = toSyncConn(c, index, &why, &resolved);
    if (!s) {
      ++r.skipped[static_cast<size_t>(why)];
      continue;
    }
    if (s->isTemplate())
      ++r.templates;
    else
      ++r.connections;
    if (!resolved) ++r.unresolved;
    r.entries.push_back(std::move(*s));
  }
  return r;
}

void ageByReadTime(ipvs::ConnectionTable& table, Duration readTime) {
  size_t n = table.connections.size();
  if (n == 0 || readTime <= Duration(0)) return;
  using std::chrono::milliseconds;
  uint64_t ms = uint64_t(std::chrono::duration_cast<milliseconds>(readTime).count());
  for (size_t i = 0; i < n; ++i) {
    uint64_t ageMs = ms * (n - 1 - i) / n;
    uint32_t age = uint32_t((ageMs + 500) / 1000);
    auto& c = table.connections[i];
    c.expires = c.expires > age ? c.expires - age : 0;
  }
}

}  // namespace lvsd::sync
