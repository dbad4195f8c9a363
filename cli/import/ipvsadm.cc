// `ipvsadm -S` output (or a script of ipvsadm commands) → lvsd config.
//
// Commands apply in order, as `ipvsadm -R` would apply them, so a script
// that adds, edits and deletes ends up as the table it would leave behind.
// Option spelling and defaults follow ipvsadm(8) 1.31: forwarding -g, weight
// 1, scheduler wlc, persistence 300 s, real server port = service port
// (0 for firewall-mark services).
#include <algorithm>
#include <map>
#include <optional>

#include "cli/import/import.h"
#include "config/config.h"
#include "core/address.h"

namespace lvsd::import {

namespace {

constexpr uint32_t kIpvsadmPersistenceS = 300;

struct Word {
  std::string text;
  int column = 0;
};

// Port names `ipvsadm -S` prints without -n (from /etc/services; a fixed
// table so the result does not depend on the importing host).
const std::map<std::string, uint16_t>& portNames() {
  static const std::map<std::string, uint16_t> m{
      {"ftp", 21},       {"ssh", 22},        {"telnet", 23},     {"smtp", 25},
      {"domain", 53},    {"http", 80},       {"www", 80},        {"pop3", 110},
      {"ntp", 123},      {"imap2", 143},     {"imap", 143},      {"snmp", 161},
      {"ldap", 389},     {"https", 443},     {"submissions", 465}, {"syslog", 514},
      {"submission", 587}, {"ldaps", 636},   {"imaps", 993},     {"pop3s", 995},
      {"mysql", 3306},   {"postgresql", 5432}, {"http-alt", 8080}, {"sip", 5060},
      {"sip-tls", 5061}, {"rtsp", 554},      {"kerberos", 88},   {"radius", 1812},
      {"openvpn", 1194}, {"redis", 6379},    {"memcache", 11211}};
  return m;
}

struct Service {
  config::VirtualService vs;
  int line = 0;
  bool deleted = false;
  // Per real server: was its forwarding given, and which.
  std::vector<config::Forwarding> fwd;
  std::vector<std::optional<config::Tunnel>> tunnel;
};

class Converter {
 public:
  Converter(const std::string& file, ImportResult& r) : file_(file), r_(r) {}

  void line(int lineNo, std::string_view raw) {
    line_ = lineNo;
    std::vector<Word> w = split(raw);
    if (w.empty()) return;
    // "ipvsadm -A ...", "/sbin/ipvsadm -A ...", or bare "-A ..." (-S output).
    const std::string& first = w[0].text;
    if (first == "ipvsadm" || (first.size() > 8 && first.compare(first.size() - 8, 8, "/ipvsadm") == 0))
      w.erase(w.begin());
    if (w.empty()) {
      note(1, "ipvsadm without arguments lists the table; ignored");
      return;
    }
    if (w[0].text.empty() || w[0].text[0] != '-') {
      error(w[0].column, "'" + w[0].text + "' is not an ipvsadm command (expected -A, -a, -E, -e, -D, -d, -C, ...)");
      return;
    }
    expand(w);
    command(w);
  }

  void finish() {
    std::vector<config::VirtualService> out;
    for (auto& s : services_) {
      if (s.deleted) continue;
      finishForwarding(s);
      *r_.config.add_virtual_service() = s.vs;
      r_.origin[{config::Config::kVirtualServiceFieldNumber, r_.config.virtual_service_size() - 1}] =
          file_ + ":" + std::to_string(s.line);
    }
  }

 private:
  void report(Problem::Severity s, int col, std::string msg) {
    r_.problems.push_back({s, file_, line_, col, std::move(msg)});
  }
  void error(int col, std::string msg) { report(Problem::kError, col, std::move(msg)); }
  void note(int col, std::string msg) { report(Problem::kNote, col, std::move(msg)); }
  void unsupported(int col, std::string msg) { report(Problem::kUnsupported, col, std::move(msg)); }

  static std::vector<Word> split(std::string_view raw) {
    std::vector<Word> out;
    size_t i = 0;
    while (i < raw.size()) {
      if (raw[i] == ' ' || raw[i] == '\t' || raw[i] == '\r') {
        ++i;
        continue;
      }
      if (raw[i] == '#') break;  // comment to the end of the line
      size_t start = i;
      while (i < raw.size() && raw[i] != ' ' && raw[i] != '\t' && raw[i] != '\r') ++i;
      out.push_back({std::string(raw.substr(start, i - start)), static_cast<int>(start) + 1});
    }
    return out;
  }

  // "--opt=value" → "--opt" "value"; "-Ln" → "-L" "-n" (option clusters
  // of flags that take no argument).
  static void expand(std::vector<Word>& w) {
    std::vector<Word> out;
    for (const Word& x : w) {
      const std::string& t = x.text;
      if (t.rfind("--", 0) == 0 && t.find('=') != std::string::npos) {
        size_t eq = t.find('=');
        out.push_back({t.substr(0, eq), x.column});
        out.push_back({t.substr(eq + 1), x.column + static_cast<int>(eq) + 1});
      } else if (t.size() > 2 && t[0] == '-' && t[1] != '-' &&
                 t.find_first_not_of("LlSZCncn6", 1) == std::string::npos) {
        for (size_t k = 1; k < t.size(); ++k)
          out.push_back({std::string("-") + t[k], x.column + static_cast<int>(k) - 1});
      } else {
        out.push_back(x);
      }
    }
    w = std::move(out);
  }

  std::optional<uint64_t> number(const Word& w, uint64_t lo, uint64_t hi, const std::string& what) {
    auto v = parseUnsigned(w.text, UINT64_MAX);
    if (!v || *v < lo || *v > hi) {
      error(w.column, what + " '" + w.text + "' is not a number in " + std::to_string(lo) + ".." +
                          std::to_string(hi));
      return std::nullopt;
    }
    return *v;
  }

  // host[:port] with a numeric host (IPv6 in brackets) and a numeric or
  // well-known port.
  std::optional<Endpoint> endpoint(const Word& w, const std::string& what) {
    const std::string& t = w.text;
    std::string host, port;
    if (!t.empty() && t[0] == '[') {
      size_t close = t.find(']');
      if (close == std::string::npos) {
        error(w.column, what + " '" + t + "': missing ']'");
        return std::nullopt;
      }
      host = t.substr(1, close - 1);
      if (close + 1 < t.size()) {
        if (t[close + 1] != ':') {
          error(w.column, what + " '" + t + "': expected ':' after ']'");
          return std::nullopt;
        }
        port = t.substr(close + 2);
      }
    } else {
      size_t colon = t.find(':');
      if (colon != std::string::npos && t.find(':', colon + 1) != std::string::npos) {
        error(w.column, what + " '" + t + "': write IPv6 addresses in brackets ([2001:db8::1]:80)");
        return std::nullopt;
      }
      host = t.substr(0, colon);
      if (colon != std::string::npos) port = t.substr(colon + 1);
    }
    auto a = IpAddress::parse(host);
    if (!a) {
      bool name = !host.empty() && std::isalpha(static_cast<unsigned char>(host[0]));
      error(w.column, what + " '" + host + "' is not an IP address" +
                          (name ? " (host names are not resolved: save with `ipvsadm -S -n`)" : ""));
      return std::nullopt;
    }
    uint16_t p = 0;
    if (!port.empty()) {
      if (std::isdigit(static_cast<unsigned char>(port[0]))) {
        auto v = parseUnsigned(port, 65535);
        if (!v) {
          error(w.column, what + " port '" + port + "' is not 0..65535");
          return std::nullopt;
        }
        p = static_cast<uint16_t>(*v);
      } else if (auto it = portNames().find(port); it != portNames().end()) {
        p = it->second;
      } else {
        error(w.column, what + " port name '" + port + "' is unknown (save with `ipvsadm -S -n`)");
        return std::nullopt;
      }
    }
    return Endpoint(*a, p);
  }

  struct Parsed {
    char cmd = 0;  // A E D C a e d, or 0
    int cmdCol = 0;
    std::optional<config::Protocol> proto;
    std::optional<Endpoint> svc;
    std::optional<uint32_t> fwmark;
    bool ipv6 = false;
    std::optional<std::string> sched;
    std::optional<uint32_t> persistent;
    std::optional<std::string> netmask;
    std::optional<std::string> pe;
    std::vector<std::pair<std::string, int>> flags;
    bool ops = false;
    std::optional<Endpoint> rs;
    std::optional<config::Forwarding> fwd;
    std::optional<uint32_t> weight, upper, lower;
    std::optional<config::Tunnel> tunnel;
    int tunnelCol = 0;
  };

  bool setCmd(Parsed& p, char c, const Word& w) {
    if (p.cmd) {
      std::string hint = (c == 'R' && p.cmd == 'a') || (c == 'R' && p.cmd == 'e')
                             ? " (a real server is given with lower-case -r)"
                             : "";
      error(w.column, "'" + w.text + "' conflicts with -" + std::string(1, p.cmd) + hint);
      return false;
    }
    p.cmd = c;
    p.cmdCol = w.column;
    return true;
  }

  void command(const std::vector<Word>& w) {
    Parsed p;
    auto tun = [&](int col) -> config::Tunnel& {
      if (!p.tunnel) {
        p.tunnel = config::Tunnel();
        p.tunnelCol = col;
      }
      return *p.tunnel;
    };
    for (size_t i = 0; i < w.size(); ++i) {
      const std::string& o = w[i].text;
      int col = w[i].column;
      auto value = [&](const char* what) -> const Word* {
        if (i + 1 >= w.size()) {
          error(col, o + " needs " + what);
          return nullptr;
        }
        return &w[++i];
      };
      if (o == "-A" || o == "--add-service") { if (!setCmd(p, 'A', w[i])) return; }
      else if (o == "-E" || o == "--edit-service") { if (!setCmd(p, 'E', w[i])) return; }
      else if (o == "-D" || o == "--delete-service") { if (!setCmd(p, 'D', w[i])) return; }
      else if (o == "-C" || o == "--clear") { if (!setCmd(p, 'C', w[i])) return; }
      else if (o == "-a" || o == "--add-server") { if (!setCmd(p, 'a', w[i])) return; }
      else if (o == "-e" || o == "--edit-server") { if (!setCmd(p, 'e', w[i])) return; }
      else if (o == "-d" || o == "--delete-server") { if (!setCmd(p, 'd', w[i])) return; }
      else if (o == "-R" || o == "--restore") {
        if (!setCmd(p, 'R', w[i])) return;
        unsupported(col, "-R reads rules from standard input; import the rules file itself");
        return;
      } else if (o == "-L" || o == "-l" || o == "--list" || o == "-S" || o == "--save" ||
                 o == "-Z" || o == "--zero" || o == "-h" || o == "--help" || o == "-v" ||
                 o == "--version") {
        note(col, "'" + o + "' changes nothing in the table; line ignored");
        return;
      } else if (o == "--set") {
        timeouts(w, i);
        return;
      } else if (o == "--start-daemon") {
        daemon(w, i);
        return;
      } else if (o == "--stop-daemon") {
        note(col, "--stop-daemon ignored (lvsd runs the sync daemon from sync.kernel)");
        return;
      } else if (o == "-t" || o == "--tcp-service" || o == "-u" || o == "--udp-service" ||
                 o == "--sctp-service") {
        const Word* v = value("an address");
        if (!v) return;
        if (p.svc || p.fwmark) {
          error(col, "more than one virtual service on one line");
          return;
        }
        p.proto = (o == "-t" || o == "--tcp-service") ? config::TCP
                  : (o == "-u" || o == "--udp-service") ? config::UDP
                                                        : config::SCTP;
        p.svc = endpoint(*v, "service address");
        if (!p.svc) return;
      } else if (o == "-f" || o == "--fwmark-service") {
        const Word* v = value("a mark");
        if (!v) return;
        auto m = number(*v, 1, 0xffffffffu, "firewall mark");
        if (!m) return;
        p.fwmark = static_cast<uint32_t>(*m);
      } else if (o == "-6" || o == "--ipv6") {
        p.ipv6 = true;
      } else if (o == "-s" || o == "--scheduler") {
        const Word* v = value("a scheduler");
        if (!v) return;
        static const std::vector<std::string> known{"rr", "wrr", "lc",  "wlc", "lblc", "lblcr", "dh",
                                                    "sh", "sed", "nq",  "mh",  "fo",   "ovf"};
        if (std::find(known.begin(), known.end(), v->text) == known.end()) {
          unsupported(v->column, "scheduler '" + v->text + "' is not supported by lvsd");
          return;
        }
        p.sched = v->text;
      } else if (o == "-p" || o == "--persistent") {
        // The timeout is optional: only a following number belongs to -p.
        p.persistent = kIpvsadmPersistenceS;
        if (i + 1 < w.size() && !w[i + 1].text.empty() && std::isdigit(static_cast<unsigned char>(w[i + 1].text[0]))) {
          auto t = number(w[++i], 1, 0x7fffffff, "persistence timeout");
          if (!t) return;
          p.persistent = static_cast<uint32_t>(*t);
        }
      } else if (o == "-M" || o == "--netmask") {
        const Word* v = value("a netmask");
        if (!v) return;
        p.netmask = v->text;
      } else if (o == "--pe" || o == "pe") {
        // `ipvsadm -S` of some versions prints "pe sip" without dashes.
        const Word* v = value("a persistence engine");
        if (!v) return;
        p.pe = v->text;
      } else if (o == "-b" || o == "--sched-flags") {
        const Word* v = value("scheduler flags");
        if (!v) return;
        size_t start = 0;
        while (start <= v->text.size()) {
          size_t comma = v->text.find(',', start);
          if (comma == std::string::npos) comma = v->text.size();
          p.flags.push_back({v->text.substr(start, comma - start), v->column + static_cast<int>(start)});
          start = comma + 1;
        }
      } else if (o == "-o" || o == "--ops" || o == "ops") {
        p.ops = true;
      } else if (o == "-r" || o == "--real-server") {
        const Word* v = value("an address");
        if (!v) return;
        p.rs = endpoint(*v, "real server");
        if (!p.rs) return;
      } else if (o == "-g" || o == "--gatewaying") {
        p.fwd = config::DR;
      } else if (o == "-m" || o == "--masquerading") {
        p.fwd = config::NAT;
      } else if (o == "-i" || o == "--ipip") {
        p.fwd = config::TUN;
      } else if (o == "-w" || o == "--weight") {
        const Word* v = value("a weight");
        if (!v) return;
        auto n = number(*v, 0, 65535, "weight");
        if (!n) return;
        p.weight = static_cast<uint32_t>(*n);
      } else if (o == "-x" || o == "--u-threshold") {
        const Word* v = value("a number");
        if (!v) return;
        auto n = number(*v, 0, 0xffffffffu, "upper threshold");
        if (!n) return;
        p.upper = static_cast<uint32_t>(*n);
      } else if (o == "-y" || o == "--l-threshold") {
        const Word* v = value("a number");
        if (!v) return;
        auto n = number(*v, 0, 0xffffffffu, "lower threshold");
        if (!n) return;
        p.lower = static_cast<uint32_t>(*n);
      } else if (o == "--tun-type") {
        const Word* v = value("ipip, gue or gre");
        if (!v) return;
        if (v->text == "ipip") tun(col).set_type(config::Tunnel::IPIP);
        else if (v->text == "gue") tun(col).set_type(config::Tunnel::GUE);
        else if (v->text == "gre") tun(col).set_type(config::Tunnel::GRE);
        else {
          error(v->column, "tunnel type '" + v->text + "' is not ipip, gue or gre");
          return;
        }
      } else if (o == "--tun-port") {
        const Word* v = value("a port");
        if (!v) return;
        auto n = number(*v, 1, 65535, "tunnel port");
        if (!n) return;
        tun(col).set_port(static_cast<uint32_t>(*n));
      } else if (o == "--tun-nocsum") {
        tun(col).set_csum(config::Tunnel::NOCSUM);
      } else if (o == "--tun-csum") {
        tun(col).set_csum(config::Tunnel::CSUM);
      } else if (o == "--tun-remcsum") {
        tun(col).set_csum(config::Tunnel::REMCSUM);
      } else if (o == "-n" || o == "--numeric" || o == "-c" || o == "--connection" ||
                 o == "--exact" || o == "--stats" || o == "--rate" || o == "--thresholds" ||
                 o == "--persistent-conn" || o == "--sort" || o == "--nosort" || o == "--tun-info") {
        // Listing options; harmless with -S.
      } else {
        error(col, "unknown option '" + o + "'");
        return;
      }
    }
    apply(p, w);
  }

  Service* find(const Parsed& p) {
    for (auto& s : services_) {
      if (s.deleted) continue;
      if (p.fwmark) {
        if (s.vs.has_fwmark() && s.vs.fwmark() == *p.fwmark &&
            (s.vs.family() == config::INET6) == p.ipv6)
          return &s;
      } else if (!s.vs.has_fwmark() && s.vs.protocol() == *p.proto &&
                 s.vs.address() == p.svc->toString()) {
        return &s;
      }
    }
    return nullptr;
  }

  std::string svcText(const Parsed& p) {
    if (p.fwmark) return "fwmark " + std::to_string(*p.fwmark) + (p.ipv6 ? " (IPv6)" : "");
    return config::Protocol_Name(*p.proto) + " " + p.svc->toString();
  }

  void apply(const Parsed& p, const std::vector<Word>& w) {
    if (!p.cmd) {
      error(w[0].column, "no command (-A, -E, -D, -C, -a, -e, -d)");
      return;
    }
    if (p.cmd == 'C') {
      for (auto& s : services_) s.deleted = true;
      return;
    }
    if (!p.svc && !p.fwmark) {
      error(p.cmdCol, "-" + std::string(1, p.cmd) + " needs a virtual service (-t, -u, --sctp-service or -f)");
      return;
    }
    if (p.svc && p.ipv6) note(p.cmdCol, "-6 applies only to firewall-mark services; ignored");
    bool serviceCmd = p.cmd == 'A' || p.cmd == 'E' || p.cmd == 'D';
    if (serviceCmd && (p.rs || p.fwd || p.weight || p.upper || p.lower || p.tunnel)) {
      error(p.cmdCol, "real-server options with a service command (-" + std::string(1, p.cmd) + ")");
      return;
    }
    if (!serviceCmd && (p.sched || p.persistent || p.netmask || p.pe || !p.flags.empty() || p.ops)) {
      error(p.cmdCol, "service options with a real-server command (-" + std::string(1, p.cmd) + ")");
      return;
    }
    Service* s = find(p);
    switch (p.cmd) {
      case 'A':
        if (s) {
          error(p.cmdCol, "service " + svcText(p) + " already exists (added at line " + std::to_string(s->line) + ")");
          return;
        }
        services_.emplace_back();
        s = &services_.back();
        s->line = line_;
        if (p.fwmark) {
          s->vs.set_fwmark(*p.fwmark);
          if (p.ipv6) s->vs.set_family(config::INET6);
        } else {
          s->vs.set_protocol(*p.proto);
          s->vs.set_address(p.svc->toString());
          if (p.svc->port() == 0 && !p.persistent)
            error(p.cmdCol, "service port 0 is only valid for persistent services");
        }
        s->vs.set_scheduler(p.sched.value_or("wlc"));
        serviceOptions(*s, p);
        return;
      case 'E':
        if (!s) {
          error(p.cmdCol, "no service " + svcText(p) + " to edit");
          return;
        }
        if (p.sched) s->vs.set_scheduler(*p.sched);
        serviceOptions(*s, p);
        return;
      case 'D':
        if (!s) {
          error(p.cmdCol, "no service " + svcText(p) + " to delete");
          return;
        }
        s->deleted = true;
        return;
      default:
        break;
    }
    if (!p.rs) {
      error(p.cmdCol, "-" + std::string(1, p.cmd) + " needs a real server (-r)");
      return;
    }
    if (!s) {
      error(p.cmdCol, "no service " + svcText(p) + " (add it with -A first)");
      return;
    }
    // Normal services lend their port to real servers given without one.
    Endpoint rs = *p.rs;
    if (rs.port() == 0 && !p.fwmark) rs = Endpoint(rs.address(), p.svc->port());
    std::string addr = rs.address().isV6() && rs.port() == 0 ? rs.address().toUrlHost()
                       : rs.port() == 0                      ? rs.address().toString()
                                                             : rs.toString();
    auto& list = *s->vs.mutable_real_server();
    auto it = std::find_if(list.begin(), list.end(), [&](const config::RealServer& r) { return r.address() == addr; });
    size_t idx = static_cast<size_t>(it - list.begin());
    if (p.cmd == 'a') {
      if (it != list.end()) {
        error(p.cmdCol, "real server " + addr + " is already in " + svcText(p));
        return;
      }
      auto* r = s->vs.add_real_server();
      r->set_address(addr);
      s->fwd.push_back(p.fwd.value_or(config::DR));
      s->tunnel.push_back(std::nullopt);
      idx = list.size() - 1;
    } else if (it == list.end()) {
      error(p.cmdCol, "real server " + addr + " is not in " + svcText(p));
      return;
    } else if (p.cmd == 'd') {
      list.erase(it);
      s->fwd.erase(s->fwd.begin() + static_cast<long>(idx));
      s->tunnel.erase(s->tunnel.begin() + static_cast<long>(idx));
      return;
    }
    config::RealServer& r = list[static_cast<int>(idx)];
    if (p.cmd == 'e' && p.fwd) s->fwd[idx] = *p.fwd;
    if (p.weight && *p.weight != 1) r.set_weight(*p.weight);
    else if (p.weight) r.clear_weight();
    if (p.upper) r.set_upper_threshold(*p.upper);
    if (p.lower) r.set_lower_threshold(*p.lower);
    if (p.tunnel) {
      if (s->fwd[idx] != config::TUN) {
        error(p.tunnelCol, "tunnel options need -i (ipip forwarding)");
        return;
      }
      if (p.tunnel->type() == config::Tunnel::GUE && !p.tunnel->has_port()) {
        error(p.tunnelCol, "--tun-type gue needs --tun-port");
        return;
      }
      // Default ipip/nocsum spelled out (as -S prints it) is no tunnel option.
      config::Tunnel t = *p.tunnel;
      if (t.has_csum() && t.csum() == config::Tunnel::NOCSUM) t.clear_csum();
      if (t.has_type() && t.type() == config::Tunnel::IPIP) t.clear_type();
      if (t.ByteSizeLong() > 0) s->tunnel[idx] = *p.tunnel;
      else s->tunnel[idx].reset();
    }
  }

  void serviceOptions(Service& s, const Parsed& p) {
    if (p.persistent) s.vs.mutable_persistence()->set_timeout_s(*p.persistent);
    if (p.netmask || p.pe) {
      if (!s.vs.has_persistence()) {
        error(p.cmdCol, "-M/--pe need a persistent service (-p)");
        return;
      }
      if (p.netmask) {
        bool v6 = s.vs.family() == config::INET6 ||
                  (s.vs.has_address() && s.vs.address().front() == '[');
        // Host granularity is the default; keep the file minimal.
        if (!((v6 && *p.netmask == "128") || (!v6 && *p.netmask == "255.255.255.255")))
          s.vs.mutable_persistence()->set_netmask(*p.netmask);
      }
      if (p.pe) s.vs.mutable_persistence()->set_engine(*p.pe);
    }
    if (p.ops) s.vs.set_one_packet(true);
    if (!p.flags.empty()) s.vs.clear_sched_flag();
    for (const auto& [f, col] : p.flags) {
      std::string flag = f;
      const std::string& sched = s.vs.scheduler();
      if (flag == "flag-1" && (sched == "sh" || sched == "mh")) flag = sched + "-fallback";
      if (flag == "flag-2" && (sched == "sh" || sched == "mh")) flag = sched + "-port";
      if (flag == "sh-fallback") s.vs.add_sched_flag(config::SH_FALLBACK);
      else if (flag == "sh-port") s.vs.add_sched_flag(config::SH_PORT);
      else if (flag == "mh-fallback") s.vs.add_sched_flag(config::MH_FALLBACK);
      else if (flag == "mh-port") s.vs.add_sched_flag(config::MH_PORT);
      else if (flag == "flag-1" || flag == "flag-2" || flag == "flag-3")
        unsupported(col, "scheduler flag " + flag + " has no meaning for " + sched + " in lvsd");
      else
        error(col, "unknown scheduler flag '" + flag + "'");
    }
  }

  // The service's forwarding is its real servers' most common one; real
  // servers that differ say so themselves.
  static void finishForwarding(Service& s) {
    std::map<config::Forwarding, int> count;
    for (auto f : s.fwd) ++count[f];
    config::Forwarding common = config::DR;
    int best = 0;
    for (auto f : s.fwd)
      if (count[f] > best) {
        best = count[f];
        common = f;
      }
    s.vs.set_forwarding(common);
    // A tunnel shared by every TUN real server belongs to the service.
    std::optional<config::Tunnel> shared;
    bool allSame = common == config::TUN && !s.fwd.empty();
    for (size_t i = 0; i < s.fwd.size() && allSame; ++i) {
      if (!s.tunnel[i]) allSame = false;
      else if (!shared) shared = s.tunnel[i];
      else if (shared->SerializeAsString() != s.tunnel[i]->SerializeAsString()) allSame = false;
    }
    if (allSame && shared) *s.vs.mutable_tunnel() = *shared;
    for (size_t i = 0; i < s.fwd.size(); ++i) {
      auto* r = s.vs.mutable_real_server(static_cast<int>(i));
      if (s.fwd[i] != common) r->set_forwarding(s.fwd[i]);
      if (s.tunnel[i] && !(allSame && shared)) *r->mutable_tunnel() = *s.tunnel[i];
    }
  }

  void timeouts(const std::vector<Word>& w, size_t i) {
    if (w.size() != i + 4) {
      error(w[i].column, "--set needs three values: tcp tcpfin udp");
      return;
    }
    auto* ipvs = r_.config.mutable_ipvs();
    auto tcp = number(w[i + 1], 0, 0x7fffffff, "tcp timeout");
    auto fin = number(w[i + 2], 0, 0x7fffffff, "tcpfin timeout");
    auto udp = number(w[i + 3], 0, 0x7fffffff, "udp timeout");
    if (tcp && *tcp) ipvs->set_tcp_timeout_s(static_cast<uint32_t>(*tcp));
    if (fin && *fin) ipvs->set_tcpfin_timeout_s(static_cast<uint32_t>(*fin));
    if (udp && *udp) ipvs->set_udp_timeout_s(static_cast<uint32_t>(*udp));
  }

  void daemon(const std::vector<Word>& w, size_t i) {
    if (i + 1 >= w.size() || (w[i + 1].text != "master" && w[i + 1].text != "backup")) {
      error(w[i].column, "--start-daemon needs master or backup");
      return;
    }
    auto* k = r_.config.mutable_sync()->mutable_kernel();
    k->set_enabled(true);
    note(w[i + 1].column, "--start-daemon " + w[i + 1].text +
                              ": lvsd starts the master daemon on the MASTER director and the "
                              "backup daemon on the others (sync.kernel.mode FOLLOW_ROLE)");
    for (size_t j = i + 2; j < w.size(); ++j) {
      const std::string& o = w[j].text;
      if (j + 1 >= w.size()) {
        error(w[j].column, o + " needs a value");
        return;
      }
      const Word& v = w[++j];
      if (o == "--mcast-interface") k->set_interface(v.text);
      else if (o == "--syncid") {
        if (auto n = number(v, 0, 255, "syncid")) k->set_sync_id(static_cast<uint32_t>(*n));
      } else if (o == "--sync-maxlen") {
        if (auto n = number(v, 1, 65507, "sync-maxlen")) k->set_maxlen(static_cast<uint32_t>(*n));
      } else if (o == "--mcast-group") {
        if (IpAddress::parse(v.text)) k->set_mcast_group(v.text);
        else error(v.column, "mcast-group '" + v.text + "' is not an address");
      } else if (o == "--mcast-port") {
        if (auto n = number(v, 1, 65535, "mcast-port")) k->set_port(static_cast<uint32_t>(*n));
      } else if (o == "--mcast-ttl") {
        if (auto n = number(v, 1, 255, "mcast-ttl")) k->set_ttl(static_cast<uint32_t>(*n));
      } else {
        error(w[j - 1].column, "unknown daemon option '" + o + "'");
      }
    }
    if (!k->has_interface()) error(w[i].column, "--start-daemon needs --mcast-interface for lvsd");
  }

  std::string file_;
  ImportResult& r_;
  int line_ = 0;
  std::vector<Service> services_;
};

}  // namespace

ImportResult importIpvsadm(std::string_view text, const std::string& file, const IpvsadmOptions& opts) {
  ImportResult r;
  r.config.add_director()->set_name(opts.name);
  Converter c(file, r);
  int lineNo = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    c.line(++lineNo, text.substr(pos, end - pos));
    pos = end + 1;
  }
  c.finish();
  r.header.push_back("lvsd configuration converted from ipvsadm rules by `lvsctl import ipvsadm`.");
  r.header.push_back("source: " + file + "; one director (" + opts.name +
                     "), no heartbeat: add the other directors, instances and VIPs for a cluster.");
  r.header.push_back("ipvsadm rules carry no health checks: every real server is up until you add checks.");
  return r;
}

}  // namespace lvsd::import
