#include "cli/ipvsadm/format.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "cli/ipvsadm/command.h"

namespace lvsd::ipvsadm {
namespace {

std::string printf_(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string printf_(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char small[256];
  int n = std::vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) return {};
  if (static_cast<size_t>(n) < sizeof small) return std::string(small, static_cast<size_t>(n));
  std::string out(static_cast<size_t>(n) + 1, '\0');
  va_start(ap, fmt);
  std::vsnprintf(out.data(), out.size(), fmt, ap);
  va_end(ap);
  out.resize(static_cast<size_t>(n));
  return out;
}

// glibc prints "(null)" for a null %s; ipvsadm relies on it for unknown
// forwarding methods.
constexpr const char* kNull = "(null)";

// What ipvsadm's libipvs keeps of a service: fwmark services have protocol
// 0 and an all-zero address.
struct SvcView {
  uint16_t af;
  uint16_t protocol;
  std::array<uint8_t, 16> addr{};
  uint16_t port;
  uint32_t fwmark;
};

SvcView view(const ipvs::Service& s) {
  SvcView v{};
  v.af = s.key.family == Family::kV6 ? kAfInet6 : kAfInet;
  v.fwmark = s.key.fwmark;
  if (!s.key.isFwmark()) {
    v.protocol = static_cast<uint16_t>(s.key.protocol);
    std::memcpy(v.addr.data(), s.key.address.bytes().data(), s.key.address.size());
    v.port = s.key.port;
  }
  return v;
}

uint32_t word(const std::array<uint8_t, 16>& a, int i) {
  uint32_t w;
  std::memcpy(&w, a.data() + 4 * i, 4);
  return ntohl(w);
}

std::array<uint8_t, 16> bytesOf(const IpAddress& a) {
  std::array<uint8_t, 16> b{};
  std::memcpy(b.data(), a.bytes().data(), a.size());
  return b;
}

// ipvsadm's comparators: differences of unsigned values read as int.
int cmpServices(const ipvs::ServiceEntry& x, const ipvs::ServiceEntry& y) {
  SvcView a = view(x.service), b = view(y.service);
  int r = static_cast<int>(a.fwmark - b.fwmark);
  if (r) return r;
  r = a.af - b.af;
  if (r) return r;
  r = a.protocol - b.protocol;
  if (r) return r;
  if (a.af == kAfInet6) {
    for (int i = 0; !r && i < 4; ++i) r = static_cast<int>(word(a.addr, i) - word(b.addr, i));
  } else {
    r = static_cast<int>(word(a.addr, 0) - word(b.addr, 0));
  }
  if (r) return r;
  return a.port - b.port;
}

int cmpDests(const ipvs::DestinationEntry& x, const ipvs::DestinationEntry& y) {
  auto a = bytesOf(x.dest.address), b = bytesOf(y.dest.address);
  int r = 0;
  if (x.dest.address.isV6()) {
    for (int i = 0; !r && i < 4; ++i) r = static_cast<int>(word(a, i) - word(b, i));
  } else {
    r = static_cast<int>(word(a, 0) - word(b, 0));
  }
  if (r) return r;
  return x.dest.port - y.dest.port;
}

// glibc 2.36 qsort (msort.c): top-down merge sort, left half n/2, ties to the
// left. The comparators above are not transitive, so only the same algorithm
// gives the same order.
template <typename T, typename Cmp>
void msort(std::vector<T>& v, size_t lo, size_t n, std::vector<T>& tmp, Cmp cmp) {
  if (n <= 1) return;
  size_t n1 = n / 2, n2 = n - n1;
  msort(v, lo, n1, tmp, cmp);
  msort(v, lo + n1, n2, tmp, cmp);
  size_t i = lo, j = lo + n1, end1 = lo + n1, end2 = lo + n;
  tmp.clear();
  while (i < end1 && j < end2) {
    if (cmp(v[i], v[j]) <= 0) {
      tmp.push_back(v[i++]);
    } else {
      tmp.push_back(v[j++]);
    }
  }
  while (i < end1) tmp.push_back(v[i++]);
  for (size_t k = 0; k < tmp.size(); ++k) v[lo + k] = tmp[k];
}

template <typename T, typename Cmp>
void glibcSort(std::vector<T>& v, Cmp cmp) {
  std::vector<T> tmp;
  tmp.reserve(v.size());
  msort(v, 0, v.size(), tmp, cmp);
}

const char* protocolTitle(uint16_t p) {
  switch (p) {
    case IPPROTO_TCP:
      return "TCP";
    case IPPROTO_UDP:
      return "UDP";
    case IPPROTO_SCTP:
      return "SCTP";
    default:
      return "?";
  }
}

const char* protocolOption(uint16_t p) {
  switch (p) {
    case IPPROTO_TCP:
      return "-t";
    case IPPROTO_UDP:
      return "-u";
    case IPPROTO_SCTP:
      return "--sctp-service";
    default:
      return "--xxx-service";
  }
}

// addrport_to_anyname: at most 59 characters (a 60-byte buffer).
std::string addrPort(uint16_t af, const std::array<uint8_t, 16>& addr, uint16_t port,
                     uint16_t proto, unsigned format, const NameResolver& resolver) {
  char text[INET6_ADDRSTRLEN];
  inet_ntop(af == kAfInet6 ? AF_INET6 : AF_INET, addr.data(), text, sizeof text);
  std::string host = text, service = std::to_string(port);
  if (!(format & kFmtNumeric)) {
    IpAddress a = IpAddress::fromBytes(af == kAfInet6 ? Family::kV6 : Family::kV4, addr.data());
    if (auto h = resolver.hostName(a)) host = *h;
    if (auto s = resolver.serviceName(port, proto)) service = *s;
  }
  std::string out = af == kAfInet ? host + ":" + service : "[" + host + "]:" + service;
  if (out.size() > 59) out.resize(59);
  return out;
}

std::string schedFlags(const ipvs::Service& s) {
  std::string f;
  if (s.scheduler == "sh") {
    if (s.flags & ipvs::kSvcShFallback) f += "sh-fallback,";
    if (s.flags & ipvs::kSvcShPort) f += "sh-port,";
  } else if (s.scheduler == "mh") {
    if (s.flags & ipvs::kSvcMhFallback) f += "mh-fallback,";
    if (s.flags & ipvs::kSvcMhPort) f += "mh-port,";
  } else {
    if (s.flags & ipvs::kSvcSched1) f += "flag-1,";
    if (s.flags & ipvs::kSvcSched2) f += "flag-2,";
    if (s.flags & ipvs::kSvcSched3) f += "flag-3,";
  }
  if (!f.empty()) f.pop_back();
  return f;
}

std::string ntoa(uint32_t hostOrderMask) {
  in_addr a{htonl(hostOrderMask)};
  return inet_ntoa(a);
}

const char* fwdName(ipvs::Forwarding f) {
  switch (static_cast<uint32_t>(f) & 7) {
    case 0:
      return "Masq";
    case 1:
      return "Local";
    case 2:
      return "Tunnel";
    case 3:
      return "Route";
    default:
      return kNull;
  }
}

const char* fwdSwitch(ipvs::Forwarding f) {
  switch (static_cast<uint32_t>(f) & 7) {
    case 0:
      return "-m";
    case 2:
      return "-i";
    case 1:
    case 3:
      return "-g";
    default:
      return kNull;
  }
}

const char* const kTunNames[] = {"ipip", "gue", "gre"};
const char* const kTunFlags[] = {"-c", "+c", "r+c"};
const char* const kTunFlagOptions[] = {"--tun-nocsum", "--tun-csum", "--tun-remcsum"};

const char* tunFlag(const char* const* table, uint16_t flags) { return flags < 3 ? table[flags] : kNull; }

std::string tunInfo(const ipvs::Destination& d) {
  if (d.forwarding != ipvs::Forwarding::kTunnel) return "n/a";
  switch (d.tunnel.type) {
    case ipvs::TunnelType::kIpip:
      return "ipip";
    case ipvs::TunnelType::kGue:
      return printf_("gue:%d:%s", d.tunnel.port, tunFlag(kTunFlags, d.tunnel.flags)).substr(0, 15);
    case ipvs::TunnelType::kGre:
      return printf_("gre:%s", tunFlag(kTunFlags, d.tunnel.flags)).substr(0, 15);
  }
  return "n/a";
}

// ipvsadm reads a destination's 64-bit counters through 32-bit getters, all
// but the byte counts: keep the low 32 bits as it does.
ipvs::Stats destStatsAsIpvsadmSeesThem(ipvs::Stats s) {
  auto low = [](uint64_t& v) { v &= 0xffffffffu; };
  low(s.conns);
  low(s.inPackets);
  low(s.outPackets);
  low(s.cps);
  low(s.inPps);
  low(s.outPps);
  low(s.inBps);
  low(s.outBps);
  return s;
}

}  // namespace

std::string largeNumber(uint64_t i, unsigned format) {
  auto n = static_cast<unsigned long long>(i);
  if (format & kFmtExact) {
    int len = static_cast<int>(std::to_string(n).size());
    return printf_("%*llu", len <= 8 ? 9 : len + 1, n);
  }
  if (n < 100000000ULL) return printf_("%9llu", n);
  if (n < 1000000000ULL) return printf_("%8lluK", n / 1000);
  if (n < 100000000000ULL) return printf_("%8lluM", n / 1000000);
  if (n < 100000000000000ULL) return printf_("%8lluG", n / 1000000000ULL);
  return printf_("%8lluT", n / 1000000000000ULL);
}

std::string versionHeader(const ipvs::Info& info) {
  return printf_("IP Virtual Server version %d.%d.%d (size=%d)\n", (info.version >> 16) & 0xff,
                 (info.version >> 8) & 0xff, info.version & 0xff, static_cast<int>(info.connTableSize));
}

std::string title(unsigned format) {
  if (format & kFmtStats) {
    return printf_("%-33s %8s %8s %8s %8s %8s\n  -> RemoteAddress:Port\n", "Prot LocalAddress:Port",
                   "Conns", "InPkts", "OutPkts", "InBytes", "OutBytes");
  }
  if (format & kFmtRate) {
    return printf_("%-33s %8s %8s %8s %8s %8s\n  -> RemoteAddress:Port\n", "Prot LocalAddress:Port",
                   "CPS", "InPPS", "OutPPS", "InBPS", "OutBPS");
  }
  if (format & kFmtThresholds) {
    return printf_("%-33s %-10s %-10s %-10s %-10s\n  -> RemoteAddress:Port\n",
                   "Prot LocalAddress:Port", "Uthreshold", "Lthreshold", "ActiveConn", "InActConn");
  }
  if (format & kFmtPersistentConn) {
    return printf_("%-33s %-9s %-11s %-10s %-10s\n  -> RemoteAddress:Port\n",
                   "Prot LocalAddress:Port", "Weight", "PersistConn", "ActiveConn", "InActConn");
  }
  if (format & kFmtTunInfo) {
    return "Prot LocalAddress:Port Scheduler Flags\n"
           "  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n";
  }
  if (!(format & kFmtRule)) {
    return "Prot LocalAddress:Port Scheduler Flags\n"
           "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n";
  }
  return {};
}

void sortServices(std::vector<ipvs::ServiceEntry>& services) { glibcSort(services, cmpServices); }
void sortDestinations(std::vector<ipvs::DestinationEntry>& dests) { glibcSort(dests, cmpDests); }

std::string serviceBlock(const ipvs::ServiceEntry& se, std::vector<ipvs::DestinationEntry> dests,
                         unsigned format, const NameResolver& resolver) {
  const ipvs::Service& s = se.service;
  const SvcView v = view(s);
  const bool rule = format & kFmtRule;
  const bool v6 = v.af == kAfInet6;
  std::string name;
  if (v.fwmark) {
    int mark = static_cast<int>(v.fwmark);  // ipvsadm 1.31 prints it with %d
    if (rule) {
      name = v6 ? printf_("-f %d -6", mark) : printf_("-f %d", mark);
    } else {
      name = v6 ? printf_("FWM  %d IPv6", mark) : printf_("FWM  %d", mark);
    }
  } else {
    std::string vname = addrPort(v.af, v.addr, v.port, v.protocol, format, resolver);
    if (rule) {
      name = std::string(protocolOption(v.protocol)) + " " + vname;
    } else {
      name = printf_("%-4s %s", protocolTitle(v.protocol), vname.c_str());
      if (!v6 && name.size() > 33) name.resize(33);
    }
  }

  std::string out;
  if (rule) {
    out += printf_("-A %s -s %s", name.c_str(), s.scheduler.c_str());
    if (s.flags & ipvs::kSvcPersistent) {
      out += printf_(" -p %u", s.timeout);
      if (!v6 && s.netmask != 0xffffffff) out += " -M " + ntoa(s.netmask);
      if (v6 && s.netmask != 128) out += printf_(" -M %i", static_cast<int>(s.netmask));
    }
    if (!s.pe.empty()) out += " --pe " + s.pe;
    if (s.flags & ipvs::kSvcOnePacket) out += " -o";
    if (s.flags & ipvs::kSvcSchedMask) out += " -b " + schedFlags(s);
  } else if (format & (kFmtStats | kFmtRate)) {
    out += printf_("%-33s", name.c_str());
    const ipvs::Stats& st = se.stats;
    if (format & kFmtStats) {
      for (uint64_t n : {st.conns, st.inPackets, st.outPackets, st.inBytes, st.outBytes}) {
        out += largeNumber(n, format);
      }
    } else {
      for (uint64_t n : {st.cps, st.inPps, st.outPps, st.inBps, st.outBps}) out += largeNumber(n, format);
    }
  } else {
    out += name + " " + s.scheduler;
    if (s.flags & ipvs::kSvcSchedMask) out += " (" + schedFlags(s) + ")";
    if (s.flags & ipvs::kSvcPersistent) {
      out += printf_(" persistent %u", s.timeout);
      if (!v6 && s.netmask != 0xffffffff) out += " mask " + ntoa(s.netmask);
      if (v6 && s.netmask != 128) out += printf_(" mask %i", static_cast<int>(s.netmask));
      if (!s.pe.empty()) out += " pe " + s.pe;
    }
    if (s.flags & ipvs::kSvcOnePacket) out += " ops";
  }
  out += "\n";

  if (!(format & kFmtNoSort)) sortDestinations(dests);
  for (const auto& e : dests) {
    const ipvs::Destination& d = e.dest;
    const uint16_t daf = d.address.isV6() ? kAfInet6 : kAfInet;
    std::string dname = addrPort(daf, bytesOf(d.address), d.port, v.protocol, format, resolver);
    if (!rule && daf != kAfInet6 && dname.size() > 28) dname.resize(28);
    const int weight = static_cast<int>(d.weight);
    if (rule) {
      std::string head = printf_("-a %s -r %s %s -w %d", name.c_str(), dname.c_str(),
                                 fwdSwitch(d.forwarding), weight);
      if (d.forwarding == ipvs::Forwarding::kTunnel) {
        switch (d.tunnel.type) {
          case ipvs::TunnelType::kGre:
            head += printf_(" --tun-type %s %s", kTunNames[2], tunFlag(kTunFlagOptions, d.tunnel.flags));
            break;
          case ipvs::TunnelType::kGue:
            head += printf_(" --tun-type %s --tun-port %d %s", kTunNames[1], d.tunnel.port,
                            tunFlag(kTunFlagOptions, d.tunnel.flags));
            break;
          case ipvs::TunnelType::kIpip:
            head += printf_(" --tun-type %s", kTunNames[0]);
            break;
        }
      }
      out += head + "\n";
      continue;
    }
    const ipvs::Stats st = destStatsAsIpvsadmSeesThem(e.stats);
    if (format & kFmtStats) {
      out += printf_("  -> %-28s", dname.c_str());
      for (uint64_t n : {st.conns, st.inPackets, st.outPackets, st.inBytes, st.outBytes}) {
        out += largeNumber(n, format);
      }
      out += "\n";
    } else if (format & kFmtRate) {
      out += printf_("  -> %-28s %8llu %8llu %8llu", dname.c_str(),
                     static_cast<unsigned long long>(st.cps), static_cast<unsigned long long>(st.inPps),
                     static_cast<unsigned long long>(st.outPps));
      out += largeNumber(st.inBps, format) + largeNumber(st.outBps, format) + "\n";
    } else if (format & kFmtThresholds) {
      out += printf_("  -> %-28s %-10u %-10u %-10u %-10u\n", dname.c_str(), d.upperThreshold,
                     d.lowerThreshold, e.activeConns, e.inactiveConns);
    } else if (format & kFmtPersistentConn) {
      out += printf_("  -> %-28s %-9u %-11u %-10u %-10u\n", dname.c_str(), d.weight, e.persistentConns,
                     e.activeConns, e.inactiveConns);
    } else if (format & kFmtTunInfo) {
      out += printf_("  -> %-28s %-7s %-13s %-6d %-10u %-10u\n", dname.c_str(), fwdName(d.forwarding),
                     tunInfo(d).c_str(), weight, e.activeConns, e.inactiveConns);
    } else {
      out += printf_("  -> %-28s %-7s %-6d %-10u %-10u\n", dname.c_str(), fwdName(d.forwarding), weight,
                     e.activeConns, e.inactiveConns);
    }
  }
  return out;
}

std::string connectionsHeader(unsigned format) {
  std::string out = "IPVS connection entries\n";
  if (format & kFmtPersistentConn) {
    out += printf_("pro expire %-11s %-18s %-18s %-18s %-16s %s\n", "state", "source", "virtual",
                   "destination", "pe name", "pe_data");
  } else {
    out += printf_("pro expire %-11s %-18s %-18s %s\n", "state", "source", "virtual", "destination");
  }
  return out;
}

std::string connectionLine(const ipvs::Connection& c, unsigned format, const NameResolver& resolver) {
  uint16_t proto = c.protocol == "TCP" ? IPPROTO_TCP
                   : c.protocol == "UDP" ? IPPROTO_UDP
                   : c.protocol == "SCTP" ? IPPROTO_SCTP
                                          : 0;
  // The virtual address is read in the client's family, as ipvsadm does.
  uint16_t af = c.client.isV6() ? kAfInet6 : kAfInet;
  uint16_t daf = c.daddr.isV6() ? kAfInet6 : kAfInet;
  std::string cname = addrPort(af, bytesOf(c.client), c.clientPort, proto, format, resolver);
  std::string vname = addrPort(af, bytesOf(c.vaddr), c.vport, proto, format, resolver);
  std::string dname = addrPort(daf, bytesOf(c.daddr), c.dport, proto, format, resolver);
  std::string expire = printf_("%02d:%02d", static_cast<int>(c.expires / 60), static_cast<int>(c.expires % 60));
  if ((format & kFmtPersistentConn) && !c.peName.empty() && !c.peData.empty()) {
    return printf_("%-3s %-6s %-11s %-18s %-18s %-16s %-18s %s\n", c.protocol.c_str(), expire.c_str(),
                   c.state.c_str(), cname.c_str(), vname.c_str(), dname.c_str(), c.peName.c_str(),
                   c.peData.c_str());
  }
  return printf_("%-3s %-6s %-11s %-18s %-18s %s\n", c.protocol.c_str(), expire.c_str(), c.state.c_str(),
                 cname.c_str(), vname.c_str(), dname.c_str());
}

std::string timeoutLine(const ipvs::Timeouts& t) {
  return printf_("Timeout (tcp tcpfin udp): %d %d %d\n", static_cast<int>(t.tcp), static_cast<int>(t.tcpFin),
                 static_cast<int>(t.udp));
}

std::string daemonLines(const std::vector<ipvs::SyncDaemon>& daemons) {
  // libipvs keeps two slots: the first daemon reported, and the last of the others.
  std::vector<const ipvs::SyncDaemon*> slots;
  for (const auto& d : daemons) {
    if (slots.size() < 2) {
      slots.push_back(&d);
    } else {
      slots[1] = &d;
    }
  }
  std::string out;
  for (const ipvs::SyncDaemon* d : slots) {
    auto state = static_cast<uint32_t>(d->state);
    const char* type = (state & 1) ? "master" : (state & 2) ? "backup" : nullptr;
    if (!type) continue;
    out += printf_("%s sync daemon (mcast=%s, syncid=%d", type, d->interface.c_str(),
                   static_cast<int>(d->syncId));
    if (d->maxLen) out += printf_(", maxlen=%u", static_cast<unsigned>(d->maxLen));
    if (d->group) out += ", group=" + d->group->toString();
    if (d->port) out += printf_(", port=%u", static_cast<unsigned>(d->port));
    if (d->ttl) out += printf_(", ttl=%u", static_cast<unsigned>(d->ttl));
    out += ")\n";
  }
  return out;
}

}  // namespace lvsd::ipvsadm
