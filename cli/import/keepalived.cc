// keepalived.conf → lvsd config.
//
// Each file is one director's view (keepalived has no cluster file); it is
// converted on its own into a Host (its identity, addresses, peers and
// priorities) plus the parts every director shares (instances, VIPs,
// trackers, services, checks). Hosts are then merged: shared parts must agree
// between files (the first wins, each disagreement is reported), and
// unicast peers that no imported file describes become peer directors.
//
// keepalived semantics and defaults follow keepalived.conf(5) of 2.2.x; where
// lvsd's defaults differ the converted value is written out explicitly.
#include <google/protobuf/util/message_differencer.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include "cli/import/import.h"
#include "cli/import/keepalived_parse.h"
#include "config/config.h"
#include "core/address.h"

namespace lvsd::import {

namespace {

using keepalived::Stmt;
using keepalived::Token;
using google::protobuf::util::MessageDifferencer;

// keepalived.conf(5) defaults.
constexpr uint32_t kDefaultDelayLoopMs = 60000;
constexpr uint32_t kDefaultConnectTimeoutMs = 5000;
constexpr uint32_t kDefaultPriority = 100;
constexpr uint32_t kDefaultAdvertMs = 1000;
constexpr uint32_t kKeepalivedPersistenceS = 360;  // "default 6 minutes"
constexpr uint32_t kDefaultScriptIntervalMs = 1000;
constexpr uint32_t kDefaultDownTimerAdverts = 3;
// lvsd's defaults that the converter must compare against.
constexpr uint32_t kLvsdFailoverLimitMs = 10000;
constexpr uint32_t kLvsdMaxCheckRetries = 10;

struct Where {
  std::string file;
  int line = 0;
  int column = 0;
  std::string text() const { return file + ":" + std::to_string(line); }
};

Where at(const Token& t) { return {t.file, t.line, t.column}; }

std::string joinWords(const Stmt& s, size_t from = 0) {
  std::string out;
  for (size_t i = from; i < s.words.size(); ++i) out += (i > from ? " " : "") + s.words[i].text;
  return out;
}

bool validIdentifierChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
}

std::string sanitizeIdentifier(const std::string& in) {
  std::string out;
  for (char c : in) out += validIdentifierChar(c) ? c : '_';
  if (out.empty()) out = "_";
  if (out.size() > 64) out.resize(64);
  return out;
}

const std::set<std::string>& lvsdSchedulers() {
  static const std::set<std::string> s{"rr",  "wrr", "lc", "wlc", "lblc", "lblcr", "dh",
                                       "sh",  "sed", "nq", "mh",  "fo",   "ovf"};
  return s;
}

template <typename M>
bool same(const M& a, const M& b) {
  return MessageDifferencer::Equals(a, b);
}

// ---------------------------------------------------------------------------
// One file's conversion.

struct Peer {
  std::string address;
  Token at;
};

struct HostInstance {
  std::string name;
  Token at;
  uint32_t priority = kDefaultPriority;
  bool master = false;  // "state MASTER"
  std::string link;
};

struct Host {
  std::string file;
  std::string name;
  Where nameAt;
  bool nameFromRouterId = false;
  int vrrpVersion = 0;  // 0 = unset (2 unless an instance says otherwise)
  Token versionAt;
  // Link (interface) -> this director's address on it.
  std::map<std::string, std::pair<std::string, Token>> address;
  std::map<std::string, std::vector<Peer>> peers;
  std::vector<HostInstance> instances;
  // advert interval and down timer of each instance, by instance name.
  std::map<std::string, std::pair<uint32_t, Token>> advert;
  std::optional<std::pair<uint32_t, Token>> downTimer;
  // Shared parts, with the origin of each element of each repeated field.
  config::Config shared;
  std::map<std::pair<int, int>, Where> origin;
  std::map<std::string, std::string> linkInterface;  // link name -> interface
  std::map<std::string, Token> missingSrc;           // link -> instance lacking an address
  std::map<std::string, Token> multicastAt;          // link -> instance without unicast peers
  std::map<std::string, Token> unicastAt;            // link -> instance with unicast peers
  std::map<std::string, Token> instanceAt;           // instance name -> its vrrp_instance
};

class HostConverter {
 public:
  HostConverter(Host& host, std::vector<Problem>& problems) : h_(host), problems_(problems) {}

  void convert(const std::vector<Stmt>& top) {
    // Definitions that others refer to may come after their users.
    for (const Stmt& s : top) {
      const std::string& k = s.keyword();
      if (k == "global_defs") globalDefs(s);
      else if (k == "vrrp_script") vrrpScripts_[argOr(s, 0)] = &s;
      else if (k == "track_file" || k == "vrrp_track_file") trackFiles_[argOr(s, 0)] = &s;
      else if (k == "virtual_server_group") vsGroups_[argOr(s, 0)] = &s;
      else if (k == "SSL") ssl(s);
    }
    for (const Stmt& s : top) {
      const std::string& k = s.keyword();
      if (k == "global_defs" || k == "virtual_server_group" || k == "SSL") continue;
      if (k == "vrrp_script" || k == "track_file" || k == "vrrp_track_file") {
        if (!s.block || s.argc() != 1) error(s.kw(), k + " needs a name and a { } block");
        continue;
      }
      if (k == "vrrp_instance") instance(s);
      else if (k == "vrrp_sync_group") syncGroup(s);
      else if (k == "virtual_server") virtualServer(s);
      else if (k == "static_ipaddress" || k == "static_routes" || k == "static_rules")
        unsupported(s.kw(), k + " is not converted: lvsd manages only VIPs; configure static "
                                "addresses, routes and rules in the host's network configuration");
      else if (k == "vrrp_track_process" || k == "bfd_instance" || k == "linkbeat_interfaces" ||
               k == "garp_group" || k == "interface_up_down_delays" || k == "net_namespace" ||
               k == "track_group")
        unsupported(s.kw(), k + " is not converted (no lvsd equivalent)");
      else
        unsupported(s.kw(), "unknown top-level keyword '" + k + "' ignored");
    }
    for (auto& [name, s] : vrrpScripts_)
      if (!usedScripts_.count(name)) note(s->kw(), "vrrp_script " + name + " is not tracked by any instance; not converted");
    linkServicesToInstances();
  }

 private:
  // --- reporting -----------------------------------------------------------
  void report(Problem::Severity sev, const Token& t, std::string msg) {
    problems_.push_back({sev, t.file, t.line, t.column, std::move(msg)});
  }
  void note(const Token& t, std::string msg) { report(Problem::kNote, t, std::move(msg)); }
  void unsupported(const Token& t, std::string msg) {
    report(Problem::kUnsupported, t, std::move(msg));
  }
  void error(const Token& t, std::string msg) { report(Problem::kError, t, std::move(msg)); }

  std::string argOr(const Stmt& s, size_t i) const { return i < s.argc() ? s.arg(i).text : ""; }

  // Too few arguments is an error; extra words are ignored as keepalived
  // ignores them (it reads one statement per line, so "url { path /x
  // status_code 200 }" never sets the status code).
  bool needArgs(const Stmt& s, size_t lo, size_t hi) {
    if (s.argc() > hi) {
      std::string extra;
      for (size_t i = hi; i < s.argc(); ++i) extra += (i > hi ? " " : "") + s.arg(i).text;
      note(s.arg(hi), "'" + extra + "' after " + s.keyword() +
                          " is ignored, as keepalived ignores it (one statement per line)");
    }
    if (s.argc() >= lo) return true;
    std::string want = lo == hi ? std::to_string(lo) : std::to_string(lo) + ".." + std::to_string(hi);
    error(s.kw(), s.keyword() + " takes " + want + " argument(s), got " + std::to_string(s.argc()));
    return false;
  }
  bool needBlock(const Stmt& s) {
    if (s.block) return true;
    error(s.kw(), s.keyword() + " needs a { } block");
    return false;
  }
  void noBlock(const Stmt& s) {
    if (s.block) error(s.kw(), s.keyword() + " takes no { } block; block ignored");
  }

  std::optional<uint64_t> integer(const Token& t, uint64_t lo, uint64_t hi, const std::string& what) {
    auto v = parseUnsigned(t.text, UINT64_MAX);
    if (!v || *v < lo || *v > hi) {
      error(t, what + " '" + t.text + "' is not an integer in " + std::to_string(lo) + ".." +
                   std::to_string(hi));
      return std::nullopt;
    }
    return *v;
  }
  std::optional<int64_t> signedInteger(const Token& t, int64_t lo, int64_t hi, const std::string& what) {
    std::string s = t.text;
    bool neg = !s.empty() && s[0] == '-';
    if (neg || (!s.empty() && s[0] == '+')) s.erase(0, 1);
    auto v = parseUnsigned(s, 1ull << 40);
    int64_t r = v ? (neg ? -static_cast<int64_t>(*v) : static_cast<int64_t>(*v)) : 0;
    if (!v || r < lo || r > hi) {
      error(t, what + " '" + t.text + "' is not an integer in " + std::to_string(lo) + ".." +
                   std::to_string(hi));
      return std::nullopt;
    }
    return r;
  }
  // <TIMER>: seconds with an optional fraction (microsecond resolution).
  std::optional<uint32_t> timerMs(const Token& t, const std::string& what, bool allowZero = true) {
    const std::string& s = t.text;
    size_t dot = s.find('.');
    std::string whole = s.substr(0, dot);
    std::string frac = dot == std::string::npos ? "" : s.substr(dot + 1);
    auto w = parseUnsigned(whole.empty() ? "0" : whole, 4000000);
    bool fracOk = frac.size() <= 6 && std::all_of(frac.begin(), frac.end(), ::isdigit) &&
                  !(dot != std::string::npos && frac.empty() && whole.empty());
    if (!w || !fracOk || s.empty()) {
      error(t, what + " '" + s + "' is not a time in seconds (e.g. 3 or 2.5)");
      return std::nullopt;
    }
    frac.resize(6, '0');
    uint64_t us = *w * 1000000 + std::stoull(frac);
    if (us % 1000 != 0)
      note(t, what + " " + s + " s rounded to whole milliseconds (lvsd's resolution)");
    uint64_t ms = (us + 500) / 1000;
    if (!allowZero && ms == 0) {
      error(t, what + " must be positive");
      return std::nullopt;
    }
    return static_cast<uint32_t>(ms);
  }
  std::optional<bool> boolean(const Stmt& s) {
    if (s.argc() == 0) return true;
    const std::string& v = s.arg(0).text;
    if (v == "on" || v == "true" || v == "yes") return true;
    if (v == "off" || v == "false" || v == "no") return false;
    error(s.arg(0), s.keyword() + " expects on|off|true|false|yes|no, got '" + v + "'");
    return std::nullopt;
  }
  std::optional<IpAddress> address(const Token& t, const std::string& what) {
    auto a = IpAddress::parse(t.text);
    if (!a) {
      error(t, what + ": " + a.error().message);
      return std::nullopt;
    }
    return *a;
  }

  std::string identifier(const Token& t, const std::string& what) {
    std::string id = sanitizeIdentifier(t.text);
    if (id != t.text)
      note(t, what + " '" + t.text + "' renamed '" + id + "' (lvsd names are [A-Za-z0-9_.-], at most 64)");
    return id;
  }

  template <typename M>
  int addShared(google::protobuf::RepeatedPtrField<M>* field, M msg, int fieldNumber, const Token& from) {
    *field->Add() = std::move(msg);
    int idx = field->size() - 1;
    h_.origin[{fieldNumber, idx}] = at(from);
    return idx;
  }

  // --- global_defs -----------------------------------------------------------
  void globalDefs(const Stmt& g) {
    if (!needBlock(g)) return;
    static const std::set<std::string> ignored{
        "notification_email", "notification_email_from", "smtp_server", "smtp_connect_timeout",
        "smtp_helo_name", "smtp_alert", "smtp_alert_vrrp", "smtp_alert_checker",
        "enable_snmp_vrrp", "enable_snmp_checker", "enable_snmp_rfc", "enable_snmp_rfcv2",
        "enable_snmp_rfcv3", "enable_snmp_keepalived", "snmp_socket", "enable_traps",
        "enable_dbus", "script_user", "enable_script_security", "vrrp_priority",
        "checker_priority", "bfd_priority", "vrrp_no_swap", "checker_no_swap", "bfd_no_swap",
        "vrrp_rt_priority", "checker_rt_priority", "bfd_rt_priority", "max_auto_priority",
        "min_auto_priority_delay", "vrrp_skip_check_adv_addr", "vrrp_check_unicast_src",
        "vrrp_strict", "lvs_notify_fifo", "notify_fifo", "vrrp_notify_fifo", "notify_fifo_script",
        "dynamic_interfaces", "vrrp_netlink_cmd_rcv_bufs", "vrrp_netlink_monitor_rcv_bufs",
        "lvs_netlink_cmd_rcv_bufs", "lvs_netlink_monitor_rcv_bufs", "process_names",
        "process_name", "vrrp_process_name", "checker_process_name", "bfd_process_name",
        "instance", "use_pid_dir", "linkbeat_use_polling", "vrrp_rx_bufs_policy",
        "vrrp_rx_bufs_multiplier", "vrrp_startup_delay", "vrrp_lower_prio_no_advert",
        "vrrp_higher_prio_send_advert", "random_seed", "vrrp_min_garp", "fifo_write_vrrp_states_on_reload",
        "vrrp_iptables", "vrrp_ipsets", "nftables", "nftables_priority", "nftables_ifindex",
        "nftables_counters", "vrrp_version_compat"};
    for (const Stmt& s : g.children) {
      const std::string& k = s.keyword();
      if (k == "router_id") {
        if (!needArgs(s, 1, 1)) continue;
        if (h_.nameFromRouterId) {
          h_.name = identifier(s.arg(0), "router_id");
          h_.nameAt = at(s.arg(0));
        }
      } else if (k == "vrrp_version") {
        if (!needArgs(s, 1, 1)) continue;
        if (auto v = integer(s.arg(0), 2, 3, "vrrp_version")) {
          h_.vrrpVersion = static_cast<int>(*v);
          h_.versionAt = s.arg(0);
        }
      } else if (k == "lvs_sync_daemon") {
        lvsSyncDaemon(s);
      } else if (k == "lvs_timeouts") {
        lvsTimeouts(s);
      } else if (k == "lvs_flush" || k == "lvs_flush_onstop") {
        unsupported(s.kw(), k + " is not converted: lvsd never flushes the IPVS table; it manages "
                                "the services in its config (ipvs.ownership WHOLE_TABLE also removes "
                                "others, ipvs.on_stop REMOVE removes its own on stop)");
      } else if (k == "vrrp_garp_master_repeat") {
        if (needArgs(s, 1, 1))
          if (auto v = integer(s.arg(0), 1, 100, k)) garpRepeat_ = {static_cast<uint32_t>(*v), s.kw()};
      } else if (k == "vrrp_garp_master_refresh") {
        if (needArgs(s, 1, 1))
          if (auto v = integer(s.arg(0), 0, 86400, k)) garpRefresh_ = {static_cast<uint32_t>(*v), s.kw()};
      } else if (k == "vrrp_garp_interval" || k == "vrrp_gna_interval") {
        if (needArgs(s, 1, 1))
          if (auto v = timerMs(s.arg(0), k)) garpInterval_ = {*v, s.kw()};
      } else if (k == "vrrp_garp_master_delay" || k == "vrrp_garp_master_refresh_repeat" ||
                 k == "vrrp_garp_lower_prio_delay" || k == "vrrp_garp_lower_prio_repeat" ||
                 k == "vrrp_garp_extra_if" || k == "vrrp_garp_extra_if_vmac") {
        unsupported(s.kw(), k + " is not converted: lvsd sends one burst of gratuitous ARPs / "
                                "unsolicited NAs on takeover (vip_group.announce: repeat, interval_ms, "
                                "refresh_s)");
      } else if (k == "vrrp_mcast_group4" || k == "vrrp_mcast_group6") {
        unsupported(s.kw(), k + " is not converted: lvsd's multicast VRRP uses the standard groups "
                                "224.0.0.18 / ff02::12 (or unicast with heartbeat.vrrp_unicast)");
      } else if (ignored.count(k)) {
        note(s.kw(), "global_defs " + k + " has no lvsd equivalent; ignored");
      } else {
        unsupported(s.kw(), "global_defs " + k + " is not converted");
      }
    }
  }

  void lvsSyncDaemon(const Stmt& s) {
    // lvs_sync_daemon <INTERFACE> <VRRP_INSTANCE> [id <SYNC_ID>] [maxlen <LEN>]
    //                 [port <PORT>] [ttl <TTL>] [group <IP ADDR>]
    if (s.argc() < 1) {
      error(s.kw(), "lvs_sync_daemon needs an interface");
      return;
    }
    auto* k = h_.shared.mutable_sync()->mutable_kernel();
    k->set_enabled(true);
    k->set_interface(s.arg(0).text);
    size_t i = 1;
    if (i < s.argc() && s.arg(i).text != "id" && s.arg(i).text != "maxlen" &&
        s.arg(i).text != "port" && s.arg(i).text != "ttl" && s.arg(i).text != "group") {
      note(s.arg(i), "lvs_sync_daemon instance " + s.arg(i).text +
                         ": lvsd runs the master sync daemon on the director that is MASTER "
                         "(sync.kernel.mode FOLLOW_ROLE), whichever instance made it so");
      ++i;
    }
    for (; i < s.argc(); i += 2) {
      const std::string& key = s.arg(i).text;
      if (i + 1 >= s.argc()) {
        error(s.arg(i), "lvs_sync_daemon " + key + " needs a value");
        break;
      }
      const Token& v = s.arg(i + 1);
      if (key == "id") {
        if (auto n = integer(v, 0, 255, "sync id")) k->set_sync_id(static_cast<uint32_t>(*n));
      } else if (key == "maxlen") {
        if (auto n = integer(v, 1, 65507, "maxlen")) k->set_maxlen(static_cast<uint32_t>(*n));
      } else if (key == "port") {
        if (auto n = integer(v, 1, 65535, "port")) k->set_port(static_cast<uint32_t>(*n));
      } else if (key == "ttl") {
        if (auto n = integer(v, 1, 255, "ttl")) k->set_ttl(static_cast<uint32_t>(*n));
      } else if (key == "group") {
        if (address(v, "group")) k->set_mcast_group(v.text);
      } else {
        error(s.arg(i), "unknown lvs_sync_daemon option '" + key + "'");
      }
    }
    syncAt_ = s.kw();
  }

  void lvsTimeouts(const Stmt& s) {
    auto* ipvs = h_.shared.mutable_ipvs();
    for (size_t i = 0; i < s.argc(); i += 2) {
      const std::string& key = s.arg(i).text;
      if (i + 1 >= s.argc()) {
        error(s.arg(i), "lvs_timeouts " + key + " needs a value");
        break;
      }
      auto v = integer(s.arg(i + 1), 0, 86400 * 365, "lvs_timeouts " + key);
      if (!v) continue;
      if (key == "tcp") ipvs->set_tcp_timeout_s(static_cast<uint32_t>(*v));
      else if (key == "tcpfin") ipvs->set_tcpfin_timeout_s(static_cast<uint32_t>(*v));
      else if (key == "udp") ipvs->set_udp_timeout_s(static_cast<uint32_t>(*v));
      else error(s.arg(i), "unknown lvs_timeouts key '" + key + "' (tcp, tcpfin, udp)");
    }
  }

  void ssl(const Stmt& s) {
    if (!needBlock(s)) return;
    for (const Stmt& c : s.children) {
      if (c.keyword() == "ca" && needArgs(c, 1, 1)) {
        sslCa_ = c.arg(0).text;
        sslCaAt_ = c.kw();
      } else {
        unsupported(c.kw(), "SSL " + c.keyword() +
                                " is not converted: lvsd's https checks present no client "
                                "certificate");
      }
    }
  }

  // --- trackers --------------------------------------------------------------
  // Returns the name of a tracker equal to `t` (creating it as `base`).
  std::string tracker(config::Tracker t, const std::string& base, const Token& from) {
    for (const auto& e : h_.shared.tracker()) {
      config::Tracker cmp = e;
      cmp.clear_name();
      if (same(cmp, t)) return e.name();
    }
    std::string name = base;
    for (int n = 2;; ++n) {
      bool taken = std::any_of(h_.shared.tracker().begin(), h_.shared.tracker().end(),
                               [&](const config::Tracker& e) { return e.name() == name; });
      if (!taken) break;
      name = base + "-" + std::to_string(n);
    }
    t.set_name(name);
    addShared(h_.shared.mutable_tracker(), std::move(t), config::Config::kTrackerFieldNumber, from);
    return name;
  }

  // "<ITEM> [weight W [reverse|no_reverse|noreverse]]" → weight (nullopt = not given).
  std::optional<int64_t> trackWeight(const Stmt& s, size_t from, int64_t lo, int64_t hi, bool& ok) {
    ok = true;
    std::optional<int64_t> w;
    for (size_t i = from; i < s.words.size(); ++i) {
      const Token& t = s.words[i];
      if (t.text == "weight" && i + 1 < s.words.size()) {
        w = signedInteger(s.words[++i], lo, hi, "weight");
        if (!w) ok = false;
      } else if (t.text == "reverse") {
        unsupported(t, "'reverse' tracking is not converted (lvsd trackers lower priority on failure)");
        ok = false;
      } else if (t.text == "no_reverse" || t.text == "noreverse") {
      } else {
        error(t, "unexpected '" + t.text + "' (expected weight N)");
        ok = false;
      }
    }
    return w;
  }

  void trackInterfaces(const Stmt& s, std::vector<std::string>& out) {
    if (!needBlock(s)) return;
    for (const Stmt& c : s.children) {
      bool ok;
      auto w = trackWeight(c, 1, -253, 253, ok);
      config::Tracker t;
      t.mutable_interface()->set_name(c.keyword());
      if (w) t.set_weight(static_cast<int32_t>(*w));
      std::string base = "if-" + sanitizeIdentifier(c.keyword());
      if (w && *w != 0) base += "-w" + std::to_string(*w);
      out.push_back(tracker(std::move(t), base, c.kw()));
    }
  }

  void trackScripts(const Stmt& s, std::vector<std::string>& out) {
    if (!needBlock(s)) return;
    for (const Stmt& c : s.children) {
      const std::string& name = c.keyword();
      auto it = vrrpScripts_.find(name);
      if (it == vrrpScripts_.end()) {
        error(c.kw(), "track_script " + name + ": no vrrp_script of that name");
        continue;
      }
      usedScripts_.insert(name);
      bool ok;
      auto w = trackWeight(c, 1, -253, 253, ok);
      std::optional<config::Tracker> t = scriptTracker(*it->second);
      if (!t) continue;
      if (w) t->set_weight(static_cast<int32_t>(*w));
      std::string base = sanitizeIdentifier(name);
      if (w) base += "-w" + std::to_string(*w);
      out.push_back(tracker(std::move(*t), base, it->second->kw()));
    }
  }

  std::optional<config::Tracker> scriptTracker(const Stmt& def) {
    auto cached = scriptCache_.find(&def);
    if (cached != scriptCache_.end()) return cached->second;
    std::optional<config::Tracker> result;
    if (!def.block) {
      error(def.kw(), "vrrp_script needs a { } block");
      scriptCache_[&def] = result;
      return result;
    }
    config::Tracker t;
    auto* sc = t.mutable_script();
    uint32_t interval = kDefaultScriptIntervalMs;
    std::optional<uint32_t> timeout;
    const Token* timeoutAt = nullptr;
    bool haveScript = false;
    for (const Stmt& c : def.children) {
      const std::string& k = c.keyword();
      if (k == "script") {
        if (!needArgs(c, 1, 64)) continue;
        for (const auto& a : keepalived::splitCommand(joinWords(c, 1))) sc->add_argv(a);
        haveScript = true;
        if (sc->argv_size() && sc->argv(0).front() != '/')
          unsupported(c.arg(0), "script program '" + sc->argv(0) +
                                    "' is not an absolute path: lvsd runs scripts without a shell "
                                    "or PATH; write its full path");
        shellHint(c);
      } else if (k == "interval") {
        if (needArgs(c, 1, 1))
          if (auto v = timerMs(c.arg(0), "interval", false)) interval = *v;
      } else if (k == "timeout") {
        if (needArgs(c, 1, 1))
          if ((timeout = timerMs(c.arg(0), "timeout", false))) timeoutAt = &c.arg(0);
      } else if (k == "weight") {
        // Below, once the other settings are known.
      } else if (k == "rise" || k == "fall") {
        if (!needArgs(c, 1, 1)) continue;
        if (auto v = integer(c.arg(0), 1, 1000, k)) {
          if (k == "rise") sc->set_rise(static_cast<uint32_t>(*v));
          else sc->set_fall(static_cast<uint32_t>(*v));
        }
      } else if (k == "user") {
        unsupported(c.kw(), "vrrp_script user is not converted: lvsd runs scripts as its own user");
      } else if (k == "init_fail") {
        unsupported(c.kw(), "init_fail is not converted: lvsd scripts start in the OK state");
      } else {
        unsupported(c.kw(), "vrrp_script " + k + " is not converted");
      }
    }
    // "weight W [reverse]" parsed here so that trackWeight sees the words in order.
    for (const Stmt& c : def.children) {
      if (c.keyword() != "weight") continue;
      bool ok;
      if (auto w = trackWeight(c, 0, -253, 253, ok)) t.set_weight(static_cast<int32_t>(*w));
    }
    if (!haveScript) {
      error(def.kw(), "vrrp_script " + argOr(def, 0) + " has no script");
      scriptCache_[&def] = result;
      return result;
    }
    sc->set_interval_ms(interval);
    // keepalived: a script without a timeout may run for a whole interval.
    uint32_t to = timeout.value_or(interval);
    if (to >= interval) {
      uint32_t fixed = std::max<uint32_t>(1, interval * 9 / 10);
      note(timeoutAt ? *timeoutAt : def.kw(),
           "script timeout " + std::to_string(to) + " ms is not below its interval " +
               std::to_string(interval) + " ms, which lvsd requires; using " +
               std::to_string(fixed) + " ms");
      to = fixed;
    }
    sc->set_timeout_ms(to);
    result = t;
    scriptCache_[&def] = result;
    return result;
  }

  void shellHint(const Stmt& c) {
    std::string line = joinWords(c, 1);
    if (line.find_first_of("|&;<>$`") != std::string::npos)
      unsupported(c.kw(), "'" + line + "' uses shell syntax; lvsd runs argv directly without a "
                          "shell: wrap it in a script or use [\"/bin/sh\", \"-c\", \"...\"]");
  }

  void trackFiles(const Stmt& s, std::vector<std::string>& out) {
    if (!needBlock(s)) return;
    for (const Stmt& c : s.children) {
      auto it = trackFiles_.find(c.keyword());
      if (it == trackFiles_.end()) {
        error(c.kw(), "track_file " + c.keyword() + ": no track_file block of that name");
        continue;
      }
      const Stmt& def = *it->second;
      config::Tracker t;
      std::optional<int64_t> defWeight;
      for (const Stmt& d : def.children) {
        if (d.keyword() == "file" && needArgs(d, 1, 1)) {
          t.mutable_file()->set_path(d.arg(0).text);
        } else if (d.keyword() == "weight") {
          bool ok;
          defWeight = trackWeight(d, 0, -254, 254, ok);
        } else if (d.keyword() == "init_file") {
          unsupported(d.kw(), "init_file is not converted: create the file before starting lvsd");
        } else if (d.keyword() != "file") {
          unsupported(d.kw(), "track_file " + d.keyword() + " is not converted");
        }
      }
      if (!t.has_file()) {
        error(def.kw(), "track_file " + c.keyword() + " has no file");
        continue;
      }
      bool ok;
      auto w = trackWeight(c, 1, -254, 254, ok);
      // keepalived's track_file weight defaults to 1 (the file's value is the change).
      int64_t weight = w ? *w : defWeight.value_or(1);
      t.set_weight(static_cast<int32_t>(weight));
      std::string base = "file-" + sanitizeIdentifier(c.keyword());
      if (w) base += "-w" + std::to_string(*w);
      out.push_back(tracker(std::move(t), base, def.kw()));
    }
  }

  // --- vrrp_instance ---------------------------------------------------------
  void notifyHook(const Stmt& s, google::protobuf::RepeatedPtrField<std::string>* argv) {
    if (!needArgs(s, 1, 3)) return;
    // notify_* <SCRIPT> [username [groupname]]: the script is one word,
    // quoted when it has arguments.
    for (const auto& a : keepalived::splitCommand(s.arg(0).text)) argv->Add()->assign(a);
    if (s.argc() > 1)
      unsupported(s.arg(1), s.keyword() + " user/group is not converted: lvsd runs hooks as its own user");
    if (!argv->empty() && argv->Get(0).front() != '/')
      unsupported(s.arg(0), "program '" + argv->Get(0) +
                                "' is not an absolute path: lvsd runs hooks without a shell or PATH");
    else if (s.keyword() != "notify")
      note(s.kw(), s.keyword() + ": lvsd appends INSTANCE OLD NEW REASON to the command line");
  }

  void instance(const Stmt& s) {
    if (!needBlock(s) || !needArgs(s, 1, 1)) return;
    HostInstance hi;
    hi.at = s.kw();
    hi.name = identifier(s.arg(0), "vrrp_instance");
    config::Instance in;
    in.set_name(hi.name);
    config::VipGroup vg;
    vg.set_name(hi.name);
    std::string interface;
    std::vector<std::string> tracks;
    std::optional<uint32_t> advert;
    Token advertAt = s.kw();
    int version = 0;
    bool sawUnicast = false;
    std::optional<std::pair<std::string, Token>> src;
    std::vector<Peer> peers;
    std::vector<const Stmt*> vipBlocks;
    static const std::map<std::string, std::string> unsupportedKw{
        {"use_vmac", "virtual MAC interfaces"},
        {"use_vmac_addr", "virtual MAC interfaces"},
        {"vmac_xmit_base", "virtual MAC interfaces"},
        {"use_ipvlan", "ipvlan interfaces"},
        {"dont_track_primary", "ignoring faults of the VRRP interface"},
        {"track_src_ip", "tracking the source address"},
        {"track_process", "process tracking"},
        {"track_bfd", "BFD tracking"},
        {"virtual_routes", "routes that follow the MASTER"},
        {"virtual_rules", "rules that follow the MASTER"},
        {"promote_secondaries", "promote_secondaries"},
        {"mcast_dst_ip", "other multicast groups than 224.0.0.18 / ff02::12"},
        {"notify_master_rx_lower_pri", "notify_master_rx_lower_pri"},
        {"vrf", "VRFs"},
        {"garp_master_delay", "a second gratuitous ARP burst"},
        {"garp_master_refresh_repeat", "repeated refresh bursts"},
        {"garp_lower_prio_delay", "lower-priority gratuitous ARP bursts"},
        {"garp_lower_prio_repeat", "lower-priority gratuitous ARP bursts"},
        {"garp_extra_if", "gratuitous ARPs on extra interfaces"},
        {"garp_extra_if_vmac", "gratuitous ARPs on extra interfaces"},
        {"old_unicast_checksum", "the pre-1.3.6 VRRPv3 checksum"},
        {"no_accept", "no_accept (lvsd's VIPs always accept traffic)"},
        {"unicast_fault_no_peer", "unicast_fault_no_peer"},
        {"kernel_rx_buf_size", "kernel_rx_buf_size"},
    };
    static const std::set<std::string> ignored{"smtp_alert", "debug", "notify_priority_changes",
                                               "linkbeat_use_polling", "strict_mode",
                                               "skip_check_adv_addr", "check_unicast_src",
                                               "unicast_ttl", "lower_prio_no_advert",
                                               "higher_prio_send_advert", "accept", "native_ipv6"};
    for (const Stmt& c : s.children) {
      const std::string& k = c.keyword();
      if (k == "state") {
        if (!needArgs(c, 1, 1)) continue;
        if (c.arg(0).text == "MASTER") hi.master = true;
        else if (c.arg(0).text != "BACKUP") error(c.arg(0), "state must be MASTER or BACKUP");
      } else if (k == "interface") {
        if (needArgs(c, 1, 1)) interface = c.arg(0).text;
      } else if (k == "virtual_router_id") {
        if (needArgs(c, 1, 1))
          if (auto v = integer(c.arg(0), 1, 255, k)) in.set_vrid(static_cast<uint32_t>(*v));
      } else if (k == "priority") {
        if (needArgs(c, 1, 1))
          if (auto v = integer(c.arg(0), 1, 255, k)) hi.priority = static_cast<uint32_t>(*v);
      } else if (k == "advert_int") {
        if (needArgs(c, 1, 1))
          if ((advert = timerMs(c.arg(0), k, false))) advertAt = c.arg(0);
      } else if (k == "version") {
        if (needArgs(c, 1, 1))
          if (auto v = integer(c.arg(0), 2, 3, k)) version = static_cast<int>(*v);
      } else if (k == "nopreempt") {
        in.set_preempt(false);
      } else if (k == "preempt") {
        in.clear_preempt();
      } else if (k == "preempt_delay") {
        if (needArgs(c, 1, 1))
          if (auto v = timerMs(c.arg(0), k)) in.set_preempt_delay_ms(*v);
      } else if (k == "authentication") {
        unsupported(c.kw(), "VRRP authentication is not converted: RFC 3768 removed it and lvsd's "
                            "VRRP modes carry none; after migrating both directors use heartbeat "
                            "protocol NATIVE with HMAC keys");
      } else if (k == "virtual_ipaddress" || k == "virtual_ipaddress_excluded") {
        vipBlocks.push_back(&c);
      } else if (k == "track_interface") {
        trackInterfaces(c, tracks);
      } else if (k == "track_script") {
        trackScripts(c, tracks);
      } else if (k == "track_file") {
        trackFiles(c, tracks);
      } else if (k == "unicast_src_ip" || k == "mcast_src_ip") {
        if (needArgs(c, 1, 1) && address(c.arg(0), k)) src = {c.arg(0).text, c.arg(0)};
      } else if (k == "unicast_peer") {
        sawUnicast = true;
        if (!needBlock(c)) continue;
        for (const Stmt& p : c.children) {
          if (!address(p.kw(), "unicast_peer")) continue;
          if (p.argc()) note(p.arg(0), "unicast_peer " + joinWords(p, 1) + " ignored (TTL checks)");
          peers.push_back({p.keyword(), p.kw()});
        }
      } else if (k == "notify_master") {
        notifyHook(c, in.mutable_notify()->mutable_on_master());
      } else if (k == "notify_backup") {
        notifyHook(c, in.mutable_notify()->mutable_on_backup());
      } else if (k == "notify_fault") {
        notifyHook(c, in.mutable_notify()->mutable_on_fault());
      } else if (k == "notify_stop") {
        notifyHook(c, in.mutable_notify()->mutable_on_stop());
      } else if (k == "notify") {
        notifyHook(c, in.mutable_notify()->mutable_on_change());
        unsupported(c.kw(), "notify: lvsd calls on_change hooks with arguments INSTANCE OLD NEW "
                            "REASON, not keepalived's TYPE NAME STATE PRIORITY; adapt the script");
      } else if (k == "garp_master_repeat") {
        if (needArgs(c, 1, 1))
          if (auto v = integer(c.arg(0), 1, 100, k)) vg.mutable_announce()->set_repeat(static_cast<uint32_t>(*v));
      } else if (k == "garp_master_refresh") {
        if (needArgs(c, 1, 1))
          if (auto v = integer(c.arg(0), 0, 86400, k)) vg.mutable_announce()->set_refresh_s(static_cast<uint32_t>(*v));
      } else if (k == "down_timer_adverts") {
        if (needArgs(c, 1, 1))
          if (auto v = integer(c.arg(0), 1, 100, k)) {
            if (h_.downTimer && h_.downTimer->first != *v)
              unsupported(c.arg(0), "down_timer_adverts differs between instances; lvsd has one "
                                    "heartbeat.dead_count (keeping " +
                                        std::to_string(h_.downTimer->first) + ")");
            else
              h_.downTimer = {static_cast<uint32_t>(*v), c.arg(0)};
          }
      } else if (k == "lvs_sync_daemon_interface") {
        if (needArgs(c, 1, 1)) {
          auto* kern = h_.shared.mutable_sync()->mutable_kernel();
          kern->set_enabled(true);
          kern->set_interface(c.arg(0).text);
          syncAt_ = c.kw();
        }
      } else if (auto u = unsupportedKw.find(k); u != unsupportedKw.end()) {
        unsupported(c.kw(), k + " is not converted: lvsd has no " + u->second);
      } else if (ignored.count(k)) {
        note(c.kw(), "vrrp_instance " + k + " has no lvsd equivalent; ignored");
      } else {
        unsupported(c.kw(), "vrrp_instance keyword '" + k + "' is not converted");
      }
    }
    if (!in.has_vrid()) error(s.kw(), "vrrp_instance " + hi.name + " has no virtual_router_id");
    if (interface.empty()) {
      unsupported(s.kw(), "vrrp_instance " + hi.name +
                              " has no interface; lvsd heartbeat links name their interface");
    } else {
      hi.link = sanitizeIdentifier(interface);
      h_.linkInterface[hi.link] = interface;
      in.add_link(hi.link);
    }
    // VIPs: dev defaults to the instance's interface.
    bool haveV6 = false;
    for (const Stmt* b : vipBlocks) {
      if (!needBlock(*b)) continue;
      if (b->keyword() == "virtual_ipaddress_excluded")
        note(b->kw(), "virtual_ipaddress_excluded: lvsd holds these like the other VIPs of the "
                      "instance");
      for (const Stmt& v : b->children) {
        if (auto vip = virtualAddress(v, interface)) {
          if (vip->address().find(':') != std::string::npos) haveV6 = true;
          *vg.add_vip() = std::move(*vip);
        }
      }
    }
    if (vg.vip_size() > 0) {
      if (garpRepeat_ && !vg.announce().has_repeat()) vg.mutable_announce()->set_repeat(garpRepeat_->first);
      if (garpRefresh_ && !vg.announce().has_refresh_s()) vg.mutable_announce()->set_refresh_s(garpRefresh_->first);
      if (garpInterval_) vg.mutable_announce()->set_interval_ms(std::max<uint32_t>(garpInterval_->first, 10));
      in.add_vip_group(vg.name());
      addShared(h_.shared.mutable_vip_group(), std::move(vg), config::Config::kVipGroupFieldNumber, s.kw());
    } else if (vg.has_announce()) {
      note(s.kw(), "gratuitous ARP settings of " + hi.name + " ignored: it has no VIPs");
    }
    for (const auto& t : tracks)
      if (std::find(in.track().begin(), in.track().end(), t) == in.track().end()) in.add_track(t);

    // Version: IPv6 instances always speak VRRPv3 (keepalived.conf(5), "version").
    int effective = version ? version : (h_.vrrpVersion ? h_.vrrpVersion : 2);
    if (haveV6 && effective == 2) effective = 3;
    if (instanceVersion_ && instanceVersion_->first != effective) {
      unsupported(s.kw(), "vrrp_instance " + hi.name + " speaks VRRPv" + std::to_string(effective) +
                              " but " + instanceVersion_->second + " speaks VRRPv" +
                              std::to_string(instanceVersion_->first) +
                              "; lvsd uses one heartbeat protocol for all instances");
    } else if (!instanceVersion_) {
      instanceVersion_ = {effective, hi.name};
      h_.shared.mutable_heartbeat()->set_protocol(effective == 3 ? config::Heartbeat::VRRP3
                                                                 : config::Heartbeat::VRRP2);
    }
    uint32_t adv = advert.value_or(kDefaultAdvertMs);
    if (effective == 2 && adv % 1000 != 0) {
      uint32_t r = std::max<uint32_t>(1000, (adv + 500) / 1000 * 1000);
      unsupported(advertAt, "advert_int " + std::to_string(adv) +
                                " ms: VRRPv2 carries whole seconds; using " + std::to_string(r) + " ms");
      adv = r;
    } else if (effective == 3 && adv % 10 != 0) {
      uint32_t r = std::max<uint32_t>(10, (adv + 5) / 10 * 10);
      note(advertAt, "advert_int rounded to " + std::to_string(r) + " ms (VRRPv3 carries centiseconds)");
      adv = r;
    }
    h_.advert[hi.name] = {adv, advertAt};
    h_.instanceAt.emplace(hi.name, s.kw());

    // Addresses: this director's source address and its peers on the link.
    if (!hi.link.empty()) {
      if (src) {
        auto [it, fresh] = h_.address.try_emplace(hi.link, *src);
        if (!fresh && it->second.first != src->first)
          unsupported(src->second, "instance " + hi.name + " uses source address " + src->first +
                                       " on " + interface + " but another instance uses " +
                                       it->second.first + "; lvsd has one address per director and link");
      } else if (!h_.address.count(hi.link)) {
        h_.missingSrc.emplace(hi.link, s.kw());
      }
      auto& known = h_.peers[hi.link];
      for (auto& p : peers)
        if (std::none_of(known.begin(), known.end(), [&](const Peer& k) { return k.address == p.address; }))
          known.push_back(p);
      if (!sawUnicast) h_.multicastAt.emplace(hi.link, s.kw());
      else h_.unicastAt.emplace(hi.link, s.kw());
    }
    addShared(h_.shared.mutable_instance(), std::move(in), config::Config::kInstanceFieldNumber, s.kw());
    h_.instances.push_back(std::move(hi));
  }

  std::optional<config::Vip> virtualAddress(const Stmt& v, const std::string& defaultDev) {
    config::Vip vip;
    auto p = Prefix::parse(v.keyword());
    if (!p) {
      error(v.kw(), "virtual address: " + p.error().message);
      return std::nullopt;
    }
    vip.set_address(v.keyword());
    std::string dev = defaultDev;
    static const std::set<std::string> valued{"brd", "scope", "peer", "preferred_lft", "track_group"};
    static const std::set<std::string> flags{"home", "-nodad", "mngtmpaddr", "noprefixroute",
                                             "autojoin", "use_vmac"};
    for (size_t i = 1; i < v.words.size(); ++i) {
      const Token& t = v.words[i];
      bool hasValue = i + 1 < v.words.size();
      if (t.text == "dev" && hasValue) {
        dev = v.words[++i].text;
      } else if (t.text == "label" && hasValue) {
        vip.set_label(v.words[++i].text);
      } else if (t.text == "no_track") {
        note(t, "no_track ignored: lvsd re-adds a VIP that disappears while MASTER");
      } else if (valued.count(t.text) && hasValue) {
        unsupported(t, "VIP option '" + t.text + " " + v.words[i + 1].text +
                           "' is not converted (lvsd adds VIPs with the kernel's defaults)");
        ++i;
      } else if (flags.count(t.text)) {
        unsupported(t, "VIP option '" + t.text + "' is not converted");
      } else {
        error(t, "unexpected '" + t.text + "' in virtual address");
      }
    }
    if (dev.empty()) {
      unsupported(v.kw(), "VIP " + v.keyword() + " has no dev and its instance no interface");
    } else {
      vip.set_interface(dev);
    }
    return vip;
  }

  // --- vrrp_sync_group -------------------------------------------------------
  void syncGroup(const Stmt& s) {
    if (!needBlock(s) || !needArgs(s, 1, 1)) return;
    config::SyncGroup g;
    g.set_name(identifier(s.arg(0), "vrrp_sync_group"));
    for (const Stmt& c : s.children) {
      const std::string& k = c.keyword();
      if (k == "group") {
        if (!needBlock(c)) continue;
        for (const Stmt& m : c.children) {
          g.add_instance(sanitizeIdentifier(m.keyword()));
          for (size_t i = 0; i < m.argc(); ++i) g.add_instance(sanitizeIdentifier(m.arg(i).text));
        }
      } else if (k == "smtp_alert" || k == "global_tracking" || k == "sync_group_tracking_weight" ||
                 k == "notify_priority_changes") {
        note(c.kw(), "vrrp_sync_group " + k + " has no lvsd equivalent; ignored");
      } else if (k.rfind("notify", 0) == 0) {
        unsupported(c.kw(), "vrrp_sync_group " + k + " is not converted: put the hook on each "
                            "instance (instance.notify) or in the global notify section");
      } else if (k.rfind("track_", 0) == 0) {
        unsupported(c.kw(), "vrrp_sync_group " + k + " is not converted: track from each member "
                            "instance instead (instance.track)");
      } else {
        unsupported(c.kw(), "vrrp_sync_group keyword '" + k + "' is not converted");
      }
    }
    addShared(h_.shared.mutable_sync_group(), std::move(g), config::Config::kSyncGroupFieldNumber, s.kw());
  }

  // --- virtual_server --------------------------------------------------------
  // Checker settings inherited virtual server → real server → checker.
  struct CheckDefaults {
    std::optional<uint32_t> delayLoopMs, connectTimeoutMs, delayBeforeRetryMs;
    std::optional<uint32_t> retry;
    std::optional<bool> alpha;
    std::optional<std::string> virtualhost;
    std::optional<bool> inhibit;
  };

  // Applies an inheritable checker setting; returns false when `c` is not one.
  bool inheritable(const Stmt& c, CheckDefaults& d) {
    const std::string& k = c.keyword();
    if (k == "delay_loop") {
      if (needArgs(c, 1, 1)) d.delayLoopMs = timerMs(c.arg(0), k, false);
    } else if (k == "connect_timeout") {
      if (needArgs(c, 1, 1)) d.connectTimeoutMs = timerMs(c.arg(0), k, false);
    } else if (k == "delay_before_retry") {
      if (needArgs(c, 1, 1)) d.delayBeforeRetryMs = timerMs(c.arg(0), k);
    } else if (k == "retry" || k == "nb_get_retry" || k == "nb_sock_retry") {
      if (needArgs(c, 1, 1))
        if (auto v = integer(c.arg(0), 0, 1000000, k)) d.retry = static_cast<uint32_t>(*v);
    } else if (k == "alpha") {
      d.alpha = boolean(c);
    } else if (k == "virtualhost") {
      if (needArgs(c, 1, 1)) d.virtualhost = c.arg(0).text;
    } else if (k == "inhibit_on_failure") {
      d.inhibit = boolean(c);
    } else if (k == "warmup") {
      note(c.kw(), "warmup ignored: lvsd spreads checks with check.jitter_pct");
    } else if (k == "log_all_failures" || k == "smtp_alert" || k == "snmp_name") {
      note(c.kw(), k + " has no lvsd equivalent; ignored");
    } else {
      return false;
    }
    return true;
  }

  static void inherit(CheckDefaults& child, const CheckDefaults& parent) {
    if (!child.delayLoopMs) child.delayLoopMs = parent.delayLoopMs;
    if (!child.connectTimeoutMs) child.connectTimeoutMs = parent.connectTimeoutMs;
    if (!child.delayBeforeRetryMs) child.delayBeforeRetryMs = parent.delayBeforeRetryMs;
    if (!child.retry) child.retry = parent.retry;
    if (!child.alpha) child.alpha = parent.alpha;
    if (!child.virtualhost) child.virtualhost = parent.virtualhost;
    if (!child.inhibit) child.inhibit = parent.inhibit;
  }

  // "lvs_method NAT|DR|TUN [type ipip|gue port N|gre] [nocsum|csum|remcsum]"
  bool forwarding(const Stmt& c, config::Forwarding& fwd, std::optional<config::Tunnel>& tun) {
    if (c.argc() < 1) {
      error(c.kw(), c.keyword() + " needs NAT, DR or TUN");
      return false;
    }
    const std::string& m = c.arg(0).text;
    tun.reset();
    if (m == "NAT") fwd = config::NAT;
    else if (m == "DR") fwd = config::DR;
    else if (m == "TUN") fwd = config::TUN;
    else {
      error(c.arg(0), c.keyword() + " '" + m + "' is not NAT, DR or TUN");
      return false;
    }
    if (m != "TUN") {
      if (c.argc() > 1) error(c.arg(1), "unexpected '" + c.arg(1).text + "' after " + m);
      return true;
    }
    config::Tunnel t;
    bool any = false;
    for (size_t i = 1; i < c.argc(); ++i) {
      const std::string& w = c.arg(i).text;
      if (w == "type" && i + 1 < c.argc()) {
        const std::string& ty = c.arg(++i).text;
        if (ty == "ipip") t.set_type(config::Tunnel::IPIP);
        else if (ty == "gue") t.set_type(config::Tunnel::GUE);
        else if (ty == "gre") t.set_type(config::Tunnel::GRE);
        else error(c.arg(i), "unknown tunnel type '" + ty + "'");
        any = true;
      } else if (w == "port" && i + 1 < c.argc()) {
        if (auto p = integer(c.arg(++i), 1, 65535, "tunnel port")) t.set_port(static_cast<uint32_t>(*p));
        any = true;
      } else if (w == "nocsum" || w == "csum" || w == "remcsum") {
        t.set_csum(w == "nocsum" ? config::Tunnel::NOCSUM
                   : w == "csum" ? config::Tunnel::CSUM
                                 : config::Tunnel::REMCSUM);
        any = true;
      } else {
        error(c.arg(i), "unexpected '" + w + "' in lvs_method TUN");
      }
    }
    if (any && !(t.type() == config::Tunnel::IPIP && !t.has_port() && !t.has_csum() && t.has_type()))
      tun = t;
    return true;
  }

  std::optional<std::string> endpoint(const Token& ip, const Token* port, uint16_t defaultPort,
                                      const std::string& what) {
    auto a = address(ip, what);
    if (!a) return std::nullopt;
    uint16_t p = defaultPort;
    if (port) {
      auto v = integer(*port, 0, 65535, what + " port");
      if (!v) return std::nullopt;
      p = static_cast<uint16_t>(*v);
    }
    return Endpoint(*a, p).toString();
  }

  // A virtual service key: an address (and port) or a firewall mark.
  struct Key {
    std::optional<IpAddress> ip;
    uint16_t port = 0;
    bool hasPort = false;
    std::optional<uint32_t> fwmark;
    std::optional<config::AddressFamily> family;
    Token at;
  };

  void virtualServer(const Stmt& s) {
    if (!needBlock(s)) return;
    if (s.argc() < 1) {
      error(s.kw(), "virtual_server needs an address, 'fwmark N' or 'group NAME'");
      return;
    }
    // Keys this block defines: one, or one per virtual_server_group entry.
    std::vector<Key> keys;
    const std::string& first = s.arg(0).text;
    if (first == "fwmark") {
      if (!needArgs(s, 2, 2)) return;
      auto m = integer(s.arg(1), 1, 0xffffffffu, "fwmark");
      if (!m) return;
      keys.push_back({std::nullopt, 0, false, static_cast<uint32_t>(*m), std::nullopt, s.arg(1)});
    } else if (first == "group") {
      if (!needArgs(s, 2, 2)) return;
      auto it = vsGroups_.find(s.arg(1).text);
      if (it == vsGroups_.end()) {
        error(s.arg(1), "no virtual_server_group named '" + s.arg(1).text + "'");
        return;
      }
      keys = groupKeys(*it->second);
      if (keys.empty()) return;
    } else {
      if (!needArgs(s, 1, 2)) return;
      auto a = address(s.arg(0), "virtual_server");
      if (!a) return;
      Key k{*a, 0, false, std::nullopt, std::nullopt, s.arg(0)};
      if (s.argc() >= 2) {
        auto p = integer(s.arg(1), 0, 65535, "virtual_server port");
        if (!p) return;
        k.port = static_cast<uint16_t>(*p);
        k.hasPort = true;
      }
      keys.push_back(k);
    }

    config::VirtualService vs;
    CheckDefaults defaults;
    config::Forwarding fwd = config::NAT;  // keepalived's default
    std::optional<config::Tunnel> tunnel;
    bool haveMethod = false, haveProtocol = false, haveSched = false;
    std::optional<uint32_t> persistence;
    const Token* granularityAt = nullptr;
    std::vector<const Stmt*> realServers;
    const Stmt* sorry = nullptr;
    config::Forwarding sorryFwd = config::NAT;
    bool haveSorryFwd = false;
    std::optional<config::Tunnel> sorryTun;
    std::optional<config::AddressFamily> ipFamily;
    for (const Stmt& c : s.children) {
      const std::string& k = c.keyword();
      if (inheritable(c, defaults)) continue;
      if (k == "real_server") {
        realServers.push_back(&c);
      } else if (k == "lvs_sched" || k == "lb_algo") {
        if (!needArgs(c, 1, 1)) continue;
        if (!lvsdSchedulers().count(c.arg(0).text)) {
          unsupported(c.arg(0), "scheduler '" + c.arg(0).text + "' is not supported by lvsd");
          continue;
        }
        vs.set_scheduler(c.arg(0).text);
        haveSched = true;
      } else if (k == "lvs_method" || k == "lb_kind") {
        haveMethod = forwarding(c, fwd, tunnel) || haveMethod;
      } else if (k == "protocol") {
        if (!needArgs(c, 1, 1)) continue;
        const std::string& p = c.arg(0).text;
        if (p == "TCP") vs.set_protocol(config::TCP);
        else if (p == "UDP") vs.set_protocol(config::UDP);
        else if (p == "SCTP") vs.set_protocol(config::SCTP);
        else {
          error(c.arg(0), "protocol must be TCP, UDP or SCTP");
          continue;
        }
        haveProtocol = true;
      } else if (k == "persistence_timeout") {
        if (!needArgs(c, 0, 1)) continue;
        if (c.argc() == 0) persistence = kKeepalivedPersistenceS;
        else if (auto v = integer(c.arg(0), 1, 0x7fffffff, k)) persistence = static_cast<uint32_t>(*v);
      } else if (k == "persistence_granularity") {
        if (needArgs(c, 1, 1)) {
          vs.mutable_persistence()->set_netmask(c.arg(0).text);
          granularityAt = &c.kw();
        }
      } else if (k == "persistence_engine") {
        if (needArgs(c, 1, 1)) vs.mutable_persistence()->set_engine(c.arg(0).text);
      } else if (k == "ops") {
        vs.set_one_packet(true);
      } else if (k == "sh-port" || k == "sh-fallback" || k == "mh-port" || k == "mh-fallback" ||
                 k == "flag-1" || k == "flag-2" || k == "flag-3") {
        schedFlags_.push_back(&c);
      } else if (k == "quorum") {
        if (needArgs(c, 1, 1))
          if (auto v = integer(c.arg(0), 0, 0xffffffffu, k)) vs.mutable_quorum()->set_min_weight(static_cast<uint32_t>(*v));
      } else if (k == "hysteresis") {
        if (needArgs(c, 1, 1))
          if (auto v = integer(c.arg(0), 0, 0xffffffffu, k)) vs.mutable_quorum()->set_hysteresis(static_cast<uint32_t>(*v));
      } else if (k == "quorum_up" || k == "quorum_down") {
        unsupported(c.kw(), k + " is not converted: lvsd has no quorum hooks (a quorum tracker can "
                                "lower an instance's priority instead)");
      } else if (k == "ip_family") {
        if (!needArgs(c, 1, 1)) continue;
        if (c.arg(0).text == "inet") ipFamily = config::INET;
        else if (c.arg(0).text == "inet6") ipFamily = config::INET6;
        else error(c.arg(0), "ip_family must be inet or inet6");
      } else if (k == "sorry_server") {
        sorry = &c;
      } else if (k == "sorry_server_lvs_method") {
        haveSorryFwd = forwarding(c, sorryFwd, sorryTun);
        if (sorryTun) unsupported(c.kw(), "sorry server tunnel options are not converted");
      } else if (k == "sorry_server_inhibit") {
        unsupported(c.kw(), "sorry_server_inhibit is not converted");
      } else if (k == "ha_suspend") {
        unsupported(c.kw(), "ha_suspend is not converted: lvsd checks real servers on every director");
      } else if (k == "omega") {
        note(c.kw(), "omega ignored: lvsd runs no quorum or real-server hooks on stop");
      } else {
        unsupported(c.kw(), "virtual_server keyword '" + k + "' is not converted");
      }
    }
    if (!haveSched) {
      vs.set_scheduler("wlc");  // keepalived's default, also lvsd's; written for clarity
    }
    if (persistence) {
      vs.mutable_persistence()->set_timeout_s(*persistence);
    } else if (vs.has_persistence()) {
      unsupported(granularityAt ? *granularityAt : s.kw(),
                  "persistence_granularity/engine without persistence_timeout: the service is not persistent");
      vs.clear_persistence();
    }
    vs.set_forwarding(fwd);
    if (tunnel) *vs.mutable_tunnel() = *tunnel;
    if (!haveMethod) note(s.kw(), "no lvs_method: keepalived's default NAT written explicitly");

    // Scheduler flags: flag-1/2 mean fallback/port for sh and mh.
    for (const Stmt* f : schedFlags_) {
      std::string k = f->keyword();
      const std::string& sched = vs.scheduler();
      if (k == "flag-1" && (sched == "sh" || sched == "mh")) k = sched + "-fallback";
      if (k == "flag-2" && (sched == "sh" || sched == "mh")) k = sched + "-port";
      if (k == "sh-fallback") vs.add_sched_flag(config::SH_FALLBACK);
      else if (k == "sh-port") vs.add_sched_flag(config::SH_PORT);
      else if (k == "mh-fallback") vs.add_sched_flag(config::MH_FALLBACK);
      else if (k == "mh-port") vs.add_sched_flag(config::MH_PORT);
      else unsupported(f->kw(), f->keyword() + " has no meaning for scheduler " + sched + " in lvsd");
    }
    schedFlags_.clear();

    if (defaults.inhibit.value_or(false)) vs.set_on_down(config::VirtualService::INHIBIT);

    // Real servers (ports default per key, so they are converted per key).
    bool firstKey = true;
    for (const Key& key : keys) {
      config::VirtualService one = vs;
      if (key.fwmark) {
        one.set_fwmark(*key.fwmark);
        one.clear_protocol();
        if (haveProtocol && firstKey)
          note(s.kw(), "protocol ignored for a firewall-mark service (as keepalived does)");
        auto fam = key.family ? key.family : ipFamily;
        if (fam && *fam == config::INET6) one.set_family(config::INET6);
      } else {
        if (!haveProtocol) {
          one.set_protocol(config::UDP);
          if (firstKey)
            note(s.kw(), "no protocol: keepalived 2.2 defaults to UDP (it logs \"no protocol set - "
                         "defaulting to UDP\"); written explicitly");
        } else {
          one.set_protocol(vs.protocol());
        }
        if (!key.hasPort && !persistence)
          error(key.at, "virtual server without a port must be persistent (keepalived refuses it)");
        one.set_address(Endpoint(*key.ip, key.port).toString());
      }
      uint16_t defaultRsPort = key.fwmark ? 0 : key.port;
      for (const Stmt* rs : realServers)
        realServer(*rs, one, defaults, defaultRsPort, firstKey);
      hoistChecks(one);
      if (sorry) {
        const Stmt& c = *sorry;
        if (needArgs(c, 1, 2))
          if (auto ep = endpoint(c.arg(0), c.argc() > 1 ? &c.arg(1) : nullptr, defaultRsPort, "sorry_server")) {
            one.mutable_sorry_server()->set_address(*ep);
            if (haveSorryFwd) one.mutable_sorry_server()->set_forwarding(sorryFwd);
          }
      }
      addShared(h_.shared.mutable_virtual_service(), std::move(one),
                config::Config::kVirtualServiceFieldNumber, key.at);
      firstKey = false;
    }
  }

  std::vector<Key> groupKeys(const Stmt& g) {
    std::vector<Key> keys;
    if (!g.block) {
      error(g.kw(), "virtual_server_group needs a { } block");
      return keys;
    }
    constexpr size_t kMaxRange = 256;
    for (const Stmt& e : g.children) {
      const std::string& w = e.keyword();
      if (w == "fwmark") {
        if (!needArgs(e, 1, 2)) continue;
        auto m = integer(e.arg(0), 1, 0xffffffffu, "fwmark");
        if (!m) continue;
        Key k{std::nullopt, 0, false, static_cast<uint32_t>(*m), std::nullopt, e.kw()};
        if (e.argc() >= 2) {
          if (e.arg(1).text == "inet6") k.family = config::INET6;
          else if (e.arg(1).text == "inet") k.family = config::INET;
          else error(e.arg(1), "expected inet or inet6");
        }
        keys.push_back(k);
        continue;
      }
      if (!needArgs(e, 0, 1)) continue;
      std::optional<uint16_t> port;
      if (e.argc() >= 1) {
        auto p = integer(e.arg(0), 0, 65535, "port");
        if (!p) continue;
        port = static_cast<uint16_t>(*p);
      }
      // IP, IP-LAST (last octet or a whole address), or IP/LEN.
      std::vector<IpAddress> addrs;
      size_t dash = w.find('-');
      size_t slash = w.find('/');
      auto first = IpAddress::parse(w.substr(0, std::min(dash, slash)));
      if (!first) {
        error(e.kw(), "virtual_server_group entry: " + first.error().message);
        continue;
      }
      if (dash == std::string::npos && slash == std::string::npos) {
        addrs.push_back(*first);
      } else if (!first->isV4()) {
        unsupported(e.kw(), "IPv6 address ranges in virtual_server_group are not converted; list the addresses");
        continue;
      } else {
        uint32_t lo = first->v4HostOrder(), hi = lo;
        if (slash != std::string::npos) {
          auto len = parseUnsigned(w.substr(slash + 1), 32);
          if (!len || *len == 0) {
            error(e.kw(), "bad prefix length in '" + w + "'");
            continue;
          }
          uint32_t mask = *len == 32 ? 0xffffffffu : ~(0xffffffffu >> *len);
          lo &= mask;
          hi = lo | ~mask;
        } else {
          std::string last = w.substr(dash + 1);
          if (last.find('.') != std::string::npos) {
            auto l = IpAddress::parse(last);
            if (!l || !l->isV4()) {
              error(e.kw(), "bad range end in '" + w + "'");
              continue;
            }
            hi = l->v4HostOrder();
          } else {
            auto o = parseUnsigned(last, 255);
            if (!o) {
              error(e.kw(), "bad range end in '" + w + "'");
              continue;
            }
            hi = (lo & 0xffffff00u) | static_cast<uint32_t>(*o);
          }
          if (hi < lo) {
            error(e.kw(), "range '" + w + "' ends before it starts");
            continue;
          }
        }
        if (hi - lo + 1 > kMaxRange) {
          unsupported(e.kw(), "range '" + w + "' has " + std::to_string(uint64_t{hi} - lo + 1) +
                                  " addresses; at most " + std::to_string(kMaxRange) +
                                  " are expanded into services");
          continue;
        }
        for (uint64_t a = lo; a <= hi; ++a) addrs.push_back(IpAddress::v4(static_cast<uint32_t>(a)));
      }
      for (const auto& a : addrs) keys.push_back({a, port.value_or(0), port.has_value(), std::nullopt, std::nullopt, e.kw()});
    }
    if (!keys.empty())
      note(g.kw(), "virtual_server_group " + argOr(g, 0) + " expanded into " +
                       std::to_string(keys.size()) + " virtual services with the same real servers");
    return keys;
  }

  void realServer(const Stmt& rs, config::VirtualService& vs, const CheckDefaults& vsd,
                  uint16_t defaultPort, bool reportProblems) {
    size_t mark = problems_.size();
    realServerImpl(rs, vs, vsd, defaultPort);
    // Group keys repeat the same real servers; report their problems once.
    if (!reportProblems) problems_.resize(mark);
  }

  void realServerImpl(const Stmt& rs, config::VirtualService& vs, const CheckDefaults& vsd,
                      uint16_t defaultPort) {
    if (!needArgs(rs, 1, 2)) return;
    auto ep = endpoint(rs.arg(0), rs.argc() > 1 ? &rs.arg(1) : nullptr, defaultPort, "real_server");
    if (!ep) return;
    config::RealServer r;
    r.set_address(*ep);
    CheckDefaults d;
    std::vector<const Stmt*> checkers;
    config::Forwarding fwd = vs.forwarding();
    std::optional<config::Tunnel> tun;
    bool haveFwd = false;
    for (const Stmt& c : rs.children) {
      const std::string& k = c.keyword();
      if (inheritable(c, d)) continue;
      if (k == "weight") {
        if (needArgs(c, 1, 1))
          if (auto v = integer(c.arg(0), 0, 2147483647, k)) {
            if (*v != 1) r.set_weight(static_cast<uint32_t>(*v));  // 1 is both tools' default
            else r.clear_weight();
          }
      } else if (k == "lvs_method" || k == "lb_kind") {
        haveFwd = forwarding(c, fwd, tun);
      } else if (k == "uthreshold") {
        if (needArgs(c, 1, 1))
          if (auto v = integer(c.arg(0), 0, 0xffffffffu, k)) r.set_upper_threshold(static_cast<uint32_t>(*v));
      } else if (k == "lthreshold") {
        if (needArgs(c, 1, 1))
          if (auto v = integer(c.arg(0), 0, 0xffffffffu, k)) r.set_lower_threshold(static_cast<uint32_t>(*v));
      } else if (k == "notify_up" || k == "notify_down") {
        unsupported(c.kw(), k + " is not converted: lvsd reports real-server health as events "
                                "(lvsctl events) and metrics instead of running scripts");
      } else if (k == "HTTP_GET" || k == "SSL_GET" || k == "TCP_CHECK" || k == "MISC_CHECK" ||
                 k == "DNS_CHECK" || k == "UDP_CHECK" || k == "PING_CHECK" || k == "SMTP_CHECK" ||
                 k == "BFD_CHECK" || k == "FILE_CHECK") {
        checkers.push_back(&c);
      } else {
        unsupported(c.kw(), "real_server keyword '" + k + "' is not converted");
      }
    }
    inherit(d, vsd);
    if (haveFwd && (fwd != vs.forwarding() || tun)) {
      r.set_forwarding(fwd);
      if (tun) *r.mutable_tunnel() = *tun;
    }
    bool inhibit = d.inhibit.value_or(false);
    if (inhibit != (vs.on_down() == config::VirtualService::INHIBIT))
      unsupported(rs.kw(), std::string("inhibit_on_failure ") + (inhibit ? "on" : "off") +
                               " for this real server only: lvsd sets it per service (on_down)");
    for (const Stmt* c : checkers)
      for (auto& ch : checker(*c, d)) *r.add_inline_check() = std::move(ch);
    *vs.add_real_server() = std::move(r);
  }

  // --- checkers ------------------------------------------------------------------
  std::vector<config::Check> checker(const Stmt& c, CheckDefaults d) {
    const std::string& kind = c.keyword();
    std::vector<config::Check> out;
    if (kind == "BFD_CHECK" || kind == "FILE_CHECK") {
      unsupported(c.kw(), kind + " is not converted (no lvsd equivalent); the real server has no "
                                 "check from it");
      return out;
    }
    std::optional<std::string> connectIp;
    std::optional<uint32_t> connectPort;
    std::vector<const Stmt*> urls;
    std::optional<uint32_t> miscTimeout;
    config::Check base;
    bool sni = false;
    for (const Stmt& o : c.children) {
      const std::string& k = o.keyword();
      if (inheritable(o, d)) continue;
      if (k == "connect_ip") {
        if (needArgs(o, 1, 1) && address(o.arg(0), k)) connectIp = o.arg(0).text;
      } else if (k == "connect_port") {
        if (needArgs(o, 1, 1))
          if (auto v = integer(o.arg(0), 1, 65535, k)) connectPort = static_cast<uint32_t>(*v);
      } else if (k == "bindto" || k == "bind_port" || k == "bind_if" || k == "fwmark") {
        unsupported(o.kw(), k + " is not converted: lvsd probes from the director's default "
                                "source address and route");
      } else if ((kind == "HTTP_GET" || kind == "SSL_GET") && k == "url") {
        urls.push_back(&o);
      } else if ((kind == "HTTP_GET" || kind == "SSL_GET") &&
                 (k == "http_protocol" || k == "fast_recovery")) {
        note(o.kw(), k + " ignored (lvsd sends HTTP/1.1 with Connection: close and checks every "
                         "URL each round)");
      } else if (kind == "SSL_GET" && k == "enable_sni") {
        sni = true;
      } else if (kind == "MISC_CHECK" && k == "misc_path") {
        if (!needArgs(o, 1, 64)) continue;
        auto* e = base.mutable_exec();
        e->clear_argv();
        for (const auto& a : keepalived::splitCommand(joinWords(o, 1))) e->add_argv(a);
        if (e->argv_size() && e->argv(0).front() != '/')
          unsupported(o.arg(0), "misc_path program '" + e->argv(0) +
                                    "' is not an absolute path: lvsd runs it without a shell or PATH");
        shellHint(o);
      } else if (kind == "MISC_CHECK" && k == "misc_timeout") {
        if (needArgs(o, 1, 1)) miscTimeout = timerMs(o.arg(0), k, false);
      } else if (kind == "MISC_CHECK" && k == "misc_dynamic") {
        base.mutable_exec()->set_dynamic_weight(true);
      } else if (kind == "MISC_CHECK" && k == "user") {
        unsupported(o.kw(), "MISC_CHECK user is not converted: lvsd runs checks as its own user");
      } else if (kind == "DNS_CHECK" && k == "type") {
        if (needArgs(o, 1, 1)) base.mutable_dns()->set_type(o.arg(0).text);
      } else if (kind == "DNS_CHECK" && k == "name") {
        if (needArgs(o, 1, 1)) base.mutable_dns()->set_query(o.arg(0).text);
      } else if (kind == "UDP_CHECK" && k == "payload") {
        if (auto hex = hexString(o, false)) base.mutable_udp()->set_send_hex(*hex);
      } else if (kind == "UDP_CHECK" && k == "require_reply") {
        if (auto re = replyRegex(o)) base.mutable_udp()->set_expect_regex(*re);
      } else if (kind == "UDP_CHECK" && (k == "min_reply_length" || k == "max_reply_length")) {
        unsupported(o.kw(), k + " is not converted (lvsd matches the reply with expect_regex)");
      } else if (kind == "SMTP_CHECK" && k == "helo_name") {
      } else {
        unsupported(o.kw(), kind + " keyword '" + k + "' is not converted");
      }
    }
    // Timing: keepalived fails a real server after one failed round (with
    // `retry` extra attempts) and restores it after one good one.
    uint32_t interval = d.delayLoopMs.value_or(kDefaultDelayLoopMs);
    uint32_t timeout = d.connectTimeoutMs.value_or(kDefaultConnectTimeoutMs);
    uint32_t retryDefault = 1, retryDelay = 1000;
    if (kind == "HTTP_GET" || kind == "SSL_GET") retryDelay = 3000;
    if (kind == "DNS_CHECK") {
      retryDefault = 3;
      retryDelay = interval;
    }
    if (kind == "MISC_CHECK") {
      retryDefault = 0;
      // A script may run for the whole interval unless misc_timeout says less.
      timeout = miscTimeout.value_or(interval);
      if (!base.exec().argv_size()) {
        error(c.kw(), "MISC_CHECK without misc_path");
        return out;
      }
    }
    uint32_t retries = d.retry.value_or(retryDefault);
    if (retries > kLvsdMaxCheckRetries) {
      unsupported(c.kw(), "retry " + std::to_string(retries) + " exceeds lvsd's maximum of " +
                              std::to_string(kLvsdMaxCheckRetries) + "; using " +
                              std::to_string(kLvsdMaxCheckRetries));
      retries = kLvsdMaxCheckRetries;
    }
    if (timeout >= interval) {
      uint32_t fixed = std::max<uint32_t>(1, interval * 9 / 10);
      note(c.kw(), kind + " timeout " + std::to_string(timeout) + " ms is not below delay_loop " +
                       std::to_string(interval) + " ms, which lvsd requires; using " +
                       std::to_string(fixed) + " ms");
      timeout = fixed;
    }
    base.set_interval_ms(interval);
    base.set_timeout_ms(timeout);
    base.set_retries(retries);
    if (retries > 0) base.set_retry_delay_ms(d.delayBeforeRetryMs.value_or(retryDelay));
    base.set_rise(1);
    base.set_fall(1);
    base.set_initial(d.alpha.value_or(false) ? config::Check::DOWN : config::Check::UP);
    if (connectIp || connectPort) {
      std::string target;
      if (connectIp) {
        auto a = IpAddress::parse(*connectIp);
        target = a ? a->toUrlHost() : *connectIp;
      }
      target += connectPort ? ":" + std::to_string(*connectPort) : (connectIp ? "" : ":");
      base.set_target(target);
    }

    if (kind == "TCP_CHECK") {
      base.mutable_tcp();
      out.push_back(base);
    } else if (kind == "PING_CHECK") {
      base.mutable_ping();
      out.push_back(base);
    } else if (kind == "SMTP_CHECK") {
      unsupported(c.kw(), "SMTP_CHECK converted to a TCP connect check (lvsd has no SMTP probe)");
      base.mutable_tcp();
      out.push_back(base);
    } else if (kind == "MISC_CHECK" || kind == "UDP_CHECK") {
      if (kind == "UDP_CHECK") base.mutable_udp();
      out.push_back(base);
    } else if (kind == "DNS_CHECK") {
      auto* dns = base.mutable_dns();
      if (!dns->has_type()) dns->set_type("SOA");  // keepalived's default
      if (!dns->has_query()) dns->set_query(".");  // keepalived's default
      if (dns->query() == ".")
        unsupported(c.kw(), "DNS_CHECK queries the root ('.'), which lvsd's dns probe does not "
                            "accept; set name to a zone the server answers for");
      out.push_back(base);
    } else {  // HTTP_GET, SSL_GET
      bool https = kind == "SSL_GET";
      if (urls.empty()) error(c.kw(), kind + " has no url block");
      if (https && sslCa_) note(*sslCaAt_, "SSL ca used as ca_file of https checks (the certificate is still not verified, as with keepalived)");
      for (const Stmt* u : urls) {
        config::Check ch = base;
        config::HttpProbe* p = https ? ch.mutable_https() : ch.mutable_http();
        // keepalived opens a new connection for every check, so a server
        // that stops accepting connections fails it; keep that.
        p->set_reuse_connection(false);
        std::optional<std::string> vhost = d.virtualhost;
        if (!url(*u, *p, vhost)) continue;
        if (vhost) p->set_host(*vhost);
        if (https && sni) {
          if (vhost) p->set_sni(*vhost);
          else note(c.kw(), "enable_sni without a virtualhost: lvsd sends no SNI");
        }
        if (https && sslCa_) p->set_ca_file(*sslCa_);
        out.push_back(std::move(ch));
      }
    }
    return out;
  }

  bool url(const Stmt& u, config::HttpProbe& p, std::optional<std::string>& vhost) {
    if (!needBlock(u)) return false;
    bool ok = true, havePath = false;
    for (const Stmt& o : u.children) {
      const std::string& k = o.keyword();
      if (k == "path") {
        if (needArgs(o, 1, 1)) {
          p.set_path(o.arg(0).text);
          havePath = true;
        }
      } else if (k == "status_code") {
        if (!needArgs(o, 1, 64)) continue;
        for (size_t i = 0; i < o.argc(); ++i) p.add_status(o.arg(i).text);
      } else if (k == "virtualhost") {
        if (needArgs(o, 1, 1)) vhost = o.arg(0).text;
      } else if (k == "regex") {
        if (needArgs(o, 1, 1)) {
          p.set_body_regex(o.arg(0).text);
          note(o.kw(), "regex is PCRE2 in keepalived and ECMAScript in lvsd; check the pattern");
        }
      } else if (k == "digest") {
        unsupported(o.kw(), "digest (MD5 of the body) is not converted: lvsd compares SHA-256 "
                            "(body_sha256); compute it with: curl -s URL | sha256sum");
        ok = true;
      } else if (k == "regex_no_match" || k == "regex_options" || k == "regex_stack" ||
                 k == "regex_min_offset" || k == "regex_max_offset") {
        unsupported(o.kw(), k + " is not converted");
      } else {
        unsupported(o.kw(), "url keyword '" + k + "' is not converted");
      }
    }
    if (!havePath) {
      error(u.kw(), "url without path");
      return false;
    }
    return ok;
  }

  // keepalived's free-format hex: words split into byte pairs from the left,
  // a trailing odd digit is a byte of its own ("Ab12f 3" = AB 12 0F 03).
  std::optional<std::string> hexString(const Stmt& o, bool allowX) {
    std::string out;
    for (size_t i = 0; i < o.argc(); ++i) {
      const std::string& w = o.arg(i).text;
      for (char ch : w) {
        bool x = allowX && (ch == 'x' || ch == 'X');
        if (!std::isxdigit(static_cast<unsigned char>(ch)) && !x) {
          error(o.arg(i), "'" + w + "' is not hex");
          return std::nullopt;
        }
      }
      for (size_t j = 0; j < w.size(); j += 2) {
        if (j + 1 < w.size()) out += w.substr(j, 2);
        else out += std::string("0") + w[j];
      }
    }
    std::transform(out.begin(), out.end(), out.begin(), ::toupper);
    return out;
  }

  // require_reply [HEX]: a reply must come; with HEX, it must start with
  // those bytes (X = any nibble).
  std::optional<std::string> replyRegex(const Stmt& o) {
    // Matches any reply, with either search or full-match semantics.
    const std::string anything = "[\\s\\S]*";
    if (o.argc() == 0) return anything;
    auto hex = hexString(o, true);
    if (!hex) return std::nullopt;
    std::string re = "^";
    for (size_t i = 0; i < hex->size(); i += 2) {
      std::string byte = hex->substr(i, 2);
      if (byte == "XX") {
        re += "[\\s\\S]";
      } else if (byte.find('X') != std::string::npos) {
        unsupported(o.kw(), "require_reply with a single wildcard nibble is not converted");
        return std::nullopt;
      } else {
        re += "\\x" + byte;
      }
    }
    return re + anything;
  }

  // If every real server carries the same checks, they become the service's.
  static void hoistChecks(config::VirtualService& vs) {
    if (vs.real_server_size() == 0 || vs.real_server(0).inline_check_size() == 0) return;
    const auto& first = vs.real_server(0).inline_check();
    for (const auto& r : vs.real_server()) {
      if (r.inline_check_size() != first.size()) return;
      for (int i = 0; i < first.size(); ++i)
        if (!same(r.inline_check(i), first.Get(i))) return;
    }
    *vs.mutable_inline_check() = first;
    for (auto& r : *vs.mutable_real_server()) r.clear_inline_check();
  }

  // A service whose address is one of an instance's VIPs belongs to it.
  void linkServicesToInstances() {
    std::map<IpAddress, std::string> owner;
    for (const auto& in : h_.shared.instance())
      for (const auto& g : in.vip_group())
        for (const auto& vg : h_.shared.vip_group())
          if (vg.name() == g)
            for (const auto& v : vg.vip())
              if (auto p = Prefix::parse(v.address())) owner.emplace(p->address(), in.name());
    for (auto& vs : *h_.shared.mutable_virtual_service()) {
      if (!vs.has_address()) continue;
      auto ep = Endpoint::parse(vs.address());
      if (!ep) continue;
      auto it = owner.find(ep->address());
      if (it != owner.end()) vs.set_instance(it->second);
    }
  }

 private:
  std::optional<Token> syncAt_;
  Host& h_;
  std::vector<Problem>& problems_;
  std::map<std::string, const Stmt*> vrrpScripts_, trackFiles_, vsGroups_;
  std::set<std::string> usedScripts_;
  std::map<const Stmt*, std::optional<config::Tracker>> scriptCache_;
  std::optional<std::string> sslCa_;
  std::optional<Token> sslCaAt_;
  std::optional<std::pair<uint32_t, Token>> garpRepeat_, garpRefresh_, garpInterval_;
  std::optional<std::pair<int, std::string>> instanceVersion_;
  std::vector<const Stmt*> schedFlags_;
};

// ---------------------------------------------------------------------------
// Merging the hosts into one cluster config.

class Merger {
 public:
  Merger(std::vector<Host>& hosts, ImportResult& r) : hosts_(hosts), r_(r) {}

  void run() {
    uniqueNames();
    mergeShared();
    bool vrrp = std::any_of(hosts_.begin(), hosts_.end(),
                            [](const Host& h) { return !h.instances.empty(); });
    std::vector<std::string> links = linkOrder();
    // Directors: one per file, then peers that no file describes.
    for (const Host& h : hosts_) {
      auto* d = r_.config.add_director();
      d->set_name(h.name);
      for (const auto& l : links) {
        auto it = h.address.find(l);
        if (it != h.address.end()) {
          auto* la = d->add_address();
          la->set_link(l);
          la->set_address(it->second.first);
        } else if (auto m = h.missingSrc.find(l); m != h.missingSrc.end()) {
          unsupported(m->second, "director " + h.name + " has no address on " + l +
                                     ": keepalived uses the interface's primary address, lvsd needs "
                                     "it spelled out; add unicast_src_ip, or an address { link: \"" +
                                     l + "\" address: \"...\" } to director " + h.name);
        } else if (vrrp) {
          problem(Problem::kUnsupported, h.file, 0, 0,
                  "director " + h.name + " has no vrrp_instance on interface " + l +
                      "; lvsd needs every director on every heartbeat link");
        }
      }
    }
    if (vrrp) {
      peers(links);
      heartbeat(links);
      priorities();
    }
    for (const auto& [key, where] : origin_) r_.origin[key] = where.text();
  }

 private:
  void problem(Problem::Severity sev, const std::string& file, int line, int col, std::string msg) {
    r_.problems.push_back({sev, file, line, col, std::move(msg)});
  }
  void unsupported(const Token& t, std::string msg) {
    problem(Problem::kUnsupported, t.file, t.line, t.column, std::move(msg));
  }
  void note(const Token& t, std::string msg) {
    problem(Problem::kNote, t.file, t.line, t.column, std::move(msg));
  }

  void uniqueNames() {
    std::set<std::string> seen;
    for (Host& h : hosts_) {
      std::string base = h.name;
      for (int n = 2; !seen.insert(h.name).second; ++n) h.name = base + "-" + std::to_string(n);
      if (h.name != base)
        problem(Problem::kNote, h.nameAt.file, h.nameAt.line, h.nameAt.column,
                "director name " + base + " is already taken by another file; this one is " + h.name);
    }
  }

  std::vector<std::string> linkOrder() {
    std::vector<std::string> links;
    for (const Host& h : hosts_)
      for (const HostInstance& in : h.instances)
        if (!in.link.empty() && std::find(links.begin(), links.end(), in.link) == links.end())
          links.push_back(in.link);
    return links;
  }

  // Elements every director shares: the first file's definition wins.
  template <typename M, typename KeyOf>
  void mergeField(int fieldNumber, google::protobuf::RepeatedPtrField<M>* (config::Config::*mut)(),
                  const google::protobuf::RepeatedPtrField<M>& (config::Config::*get)() const,
                  KeyOf keyOf, const char* what) {
    std::map<std::string, int> index;
    for (Host& h : hosts_) {
      const auto& items = (h.shared.*get)();
      for (int i = 0; i < items.size(); ++i) {
        std::string key = keyOf(items[i]);
        Where from = h.origin[{fieldNumber, i}];
        auto it = index.find(key);
        if (it == index.end()) {
          auto* field = (r_.config.*mut)();
          *field->Add() = items[i];
          int idx = field->size() - 1;
          index[key] = idx;
          origin_[{fieldNumber, idx}] = from;
          if (&h != &hosts_.front() && hosts_.size() > 1)
            problem(Problem::kNote, from.file, from.line, from.column,
                    std::string(what) + " " + key + " appears only in some files; lvsd applies it on every director");
          continue;
        }
        const M& kept = (r_.config.*get)()[it->second];
        if (!same(kept, items[i])) {
          Where k = origin_[{fieldNumber, it->second}];
          problem(Problem::kUnsupported, from.file, from.line, from.column,
                  std::string(what) + " " + key + " differs from its definition at " + k.text() +
                      ", which is kept: lvsd directors share one definition");
        }
      }
    }
  }

  void mergeShared() {
    auto byName = [](const auto& m) { return m.name(); };
    using C = config::Config;
    mergeField(C::kInstanceFieldNumber, &C::mutable_instance, &C::instance, byName, "vrrp_instance");
    mergeField(C::kSyncGroupFieldNumber, &C::mutable_sync_group, &C::sync_group, byName, "vrrp_sync_group");
    mergeField(C::kVipGroupFieldNumber, &C::mutable_vip_group, &C::vip_group, byName, "VIP set of instance");
    mergeField(C::kTrackerFieldNumber, &C::mutable_tracker, &C::tracker, byName, "tracker");
    mergeField(C::kVirtualServiceFieldNumber, &C::mutable_virtual_service, &C::virtual_service,
               [](const config::VirtualService& vs) { return config::serviceKey(vs); }, "virtual_server");
    // Singular sections: sync and ipvs settings.
    const Host* syncFrom = nullptr;
    const Host* ipvsFrom = nullptr;
    for (const Host& h : hosts_) {
      if (h.shared.has_sync()) {
        if (!syncFrom) {
          syncFrom = &h;
          *r_.config.mutable_sync() = h.shared.sync();
        } else if (!same(h.shared.sync(), syncFrom->shared.sync())) {
          problem(Problem::kUnsupported, h.file, 0, 0,
                  "lvs_sync_daemon settings differ from " + syncFrom->file + "'s, which are kept");
        }
      }
      if (h.shared.has_ipvs()) {
        if (!ipvsFrom) {
          ipvsFrom = &h;
          *r_.config.mutable_ipvs() = h.shared.ipvs();
        } else if (!same(h.shared.ipvs(), ipvsFrom->shared.ipvs())) {
          problem(Problem::kUnsupported, h.file, 0, 0,
                  "lvs_timeouts differ from " + ipvsFrom->file + "'s, which are kept");
        }
      }
    }
  }

  // Unicast peers: another imported file's address, or a director of its own.
  void peers(const std::vector<std::string>& links) {
    // link -> address -> director name, for the imported files.
    std::map<std::string, std::map<std::string, std::string>> owner;
    for (const Host& h : hosts_)
      for (const auto& [l, a] : h.address) owner[l][canonical(a.first)] = h.name;
    // Addresses nobody imported, per link, in order of appearance.
    std::map<std::string, std::vector<Peer>> unknown;
    std::map<std::string, std::string> listedBy;  // peer address -> director that listed it
    for (const Host& h : hosts_) {
      for (const auto& [l, list] : h.peers) {
        for (const Peer& p : list) {
          auto it = owner[l].find(canonical(p.address));
          if (it != owner[l].end()) {
            if (it->second == h.name)
              note(p.at, "unicast_peer " + p.address + " is this director's own address; ignored");
            continue;
          }
          auto& u = unknown[l];
          if (std::none_of(u.begin(), u.end(), [&](const Peer& q) { return canonical(q.address) == canonical(p.address); })) {
            u.push_back(p);
            listedBy[canonical(p.address)] = h.name;
          }
        }
      }
      // Multicast instances: the peers are whoever else was imported.
      for (const auto& [l, t] : h.multicastAt) {
        if (hosts_.size() == 1 && (h.peers.count(l) == 0 || h.peers.at(l).empty()))
          unsupported(t, "instance uses multicast, so this file does not name its peers; lvsd's "
                         "config lists every director with its address: add unicast_peer, or "
                         "import every director's keepalived.conf together "
                         "(lvsctl import keepalived A.conf B.conf)");
      }
    }
    if (unknown.empty()) return;
    // Pair the unknown addresses of several links by position.
    size_t count = unknown.begin()->second.size();
    bool aligned = unknown.size() == links.size() &&
                   std::all_of(unknown.begin(), unknown.end(),
                               [&](const auto& e) { return e.second.size() == count; });
    if (!aligned) {
      const Peer& p = unknown.begin()->second.front();
      unsupported(p.at, "cannot tell which unicast_peer addresses on different interfaces belong to "
                        "the same director; each becomes a director of its own (fix the addresses)");
    }
    size_t n = aligned ? count : 0;
    std::vector<std::pair<std::string, std::vector<std::pair<std::string, Peer>>>> made;
    if (aligned) {
      for (size_t j = 0; j < n; ++j) {
        std::vector<std::pair<std::string, Peer>> addrs;
        for (const auto& l : links) addrs.push_back({l, unknown[l][j]});
        made.push_back({"peer-" + sanitizeIdentifier(addrs.front().second.address), addrs});
      }
    } else {
      for (const auto& [l, list] : unknown)
        for (const Peer& p : list) made.push_back({"peer-" + sanitizeIdentifier(p.address), {{l, p}}});
    }
    for (auto& [name, addrs] : made) {
      auto* d = r_.config.add_director();
      d->set_name(name);
      for (const auto& [l, p] : addrs) {
        auto* la = d->add_address();
        la->set_link(l);
        la->set_address(p.address);
      }
      peerNames_.push_back({name, listedBy[canonical(addrs.front().second.address)], addrs.front().second.at});
    }
  }

  static std::string canonical(const std::string& a) {
    auto ip = IpAddress::parse(a);
    return ip ? ip->toString() : a;
  }

  void heartbeat(const std::vector<std::string>& links) {
    auto* hb = r_.config.mutable_heartbeat();
    std::optional<config::Heartbeat::Protocol> proto;
    for (const Host& h : hosts_) {
      if (!h.shared.has_heartbeat()) continue;
      auto p = h.shared.heartbeat().protocol();
      if (!proto) proto = p;
      else if (*proto != p)
        problem(Problem::kUnsupported, h.file, 0, 0,
                "this file speaks " + config::Heartbeat::Protocol_Name(p) + " but another " +
                    config::Heartbeat::Protocol_Name(*proto) + "; lvsd directors share one protocol");
    }
    hb->set_protocol(proto.value_or(config::Heartbeat::VRRP2));
    // keepalived's unicast_peer is lvsd's vrrp_unicast; one setting for all.
    const Token* uni = nullptr;
    const Token* multi = nullptr;
    for (const Host& h : hosts_) {
      if (!h.unicastAt.empty() && !uni) uni = &h.unicastAt.begin()->second;
      if (!h.multicastAt.empty() && !multi) multi = &h.multicastAt.begin()->second;
    }
    if (uni) hb->set_vrrp_unicast(true);
    if (uni && multi)
      unsupported(*multi, "this instance uses multicast but another (" + uni->file + ":" +
                              std::to_string(uni->line) +
                              ") unicast_peer; lvsd's heartbeat.vrrp_unicast applies to all: unicast kept");
    for (const auto& l : links) {
      auto* link = hb->add_link();
      link->set_name(l);
      for (const Host& h : hosts_)
        if (auto it = h.linkInterface.find(l); it != h.linkInterface.end()) {
          link->set_interface(it->second);
          break;
        }
    }
    // Advertisement interval: the first instance's is the default.
    std::map<std::string, std::pair<uint32_t, Token>> advert;
    for (const Host& h : hosts_)
      for (const auto& [name, a] : h.advert) {
        auto [it, fresh] = advert.emplace(name, a);
        if (!fresh && it->second.first != a.first)
          unsupported(a.second, "advert_int of " + name + " differs between files (" +
                                    std::to_string(it->second.first) + " ms kept)");
      }
    uint32_t base = kDefaultAdvertMs;
    if (!r_.config.instance().empty()) base = advert[r_.config.instance(0).name()].first;
    if (base != hb->interval_ms()) hb->set_interval_ms(base);
    uint32_t dead = kDefaultDownTimerAdverts;
    for (const Host& h : hosts_)
      if (h.downTimer) dead = h.downTimer->first;
    if (dead != hb->dead_count()) hb->set_dead_count(dead);
    uint64_t worst = 0, worstInterval = 0;
    for (auto& in : *r_.config.mutable_instance()) {
      uint32_t a = advert.count(in.name()) ? advert[in.name()].first : base;
      if (a != base) in.set_interval_ms(a);
      if (uint64_t{a} * dead > worst) {
        worst = uint64_t{a} * dead;
        worstInterval = a;
      }
    }
    if (worst >= kLvsdFailoverLimitMs) {
      hb->set_failover_limit_ms(static_cast<uint32_t>(worst + worstInterval));
      problem(Problem::kNote, hosts_.front().file, 0, 0,
              "failure detection takes " + std::to_string(worst) +
                  " ms (advert_int × down timer); heartbeat.failover_limit_ms set to " +
                  std::to_string(worst + worstInterval) + " so lvsd accepts it");
    }
  }

  static uint32_t guessPeer(uint32_t mine, bool master) {
    // keepalived's advice: the MASTER 50 above the others.
    if (master) return mine > 51 ? std::min<uint32_t>(mine - 50, 254) : 1;
    return std::min<uint32_t>(mine + 50, 254);
  }

  void priorities() {
    // director -> instance -> priority
    std::map<std::string, std::map<std::string, uint32_t>> prio;
    for (const Host& h : hosts_)
      for (const HostInstance& in : h.instances) prio[h.name][in.name] = in.priority;
    for (const auto& [peer, listedBy, at] : peerNames_) {
      const Host* from = nullptr;
      for (const Host& h : hosts_)
        if (h.name == listedBy) from = &h;
      if (!from) continue;
      std::string detail;
      for (const HostInstance& in : from->instances) {
        uint32_t g = guessPeer(in.priority, in.master);
        prio[peer][in.name] = g;
        detail += (detail.empty() ? "" : ", ") + in.name + "=" + std::to_string(g);
      }
      note(at, "priority of " + peer + " is not in " + from->file + "; assumed " + detail +
                   " (50 below a MASTER, 50 above a BACKUP); import the peer's keepalived.conf "
                   "as well to use its real priorities");
    }
    // Each director's default is its priority in the first instance it runs;
    // instances override where a director differs.
    for (auto& d : *r_.config.mutable_director()) {
      const auto& mine = prio[d.name()];
      uint32_t def = kDefaultPriority;
      for (const auto& in : r_.config.instance())
        if (auto it = mine.find(in.name()); it != mine.end()) {
          def = it->second;
          break;
        }
      if (def != kDefaultPriority) d.set_priority(def);
    }
    for (auto& in : *r_.config.mutable_instance()) {
      std::map<uint32_t, std::string> byValue;
      for (const auto& d : r_.config.director()) {
        auto it = prio[d.name()].find(in.name());
        if (it == prio[d.name()].end()) {
          for (const Host& h : hosts_)
            if (h.name == d.name() && !h.instances.empty())
              problem(Problem::kUnsupported, h.file, 0, 0,
                      "this file has no vrrp_instance " + in.name() + "; lvsd runs every instance on "
                      "every director (this one gets its default priority " +
                          std::to_string(d.priority()) + ")");
          continue;
        }
        if (it->second != d.priority()) {
          auto* p = in.add_priority();
          p->set_director(d.name());
          p->set_value(it->second);
        }
        auto [b, fresh] = byValue.emplace(it->second, d.name());
        if (!fresh && hosts_.size() > 1)
          problem(Problem::kNote, hosts_.front().file, 0, 0,
                  "instance " + in.name() + ": " + b->second + " and " + d.name() +
                      " have the same priority " + std::to_string(it->second) +
                      "; the election falls back to comparing addresses");
      }
    }
  }

  std::vector<Host>& hosts_;
  ImportResult& r_;
  std::map<std::pair<int, int>, Where> origin_;
  std::vector<std::tuple<std::string, std::string, Token>> peerNames_;  // name, listed by, where
};

}  // namespace

ImportResult importKeepalived(const std::vector<std::string>& files, const KeepalivedOptions& opts,
                              SourceReader& reader) {
  ImportResult r;
  std::vector<Host> hosts(files.size());
  for (size_t i = 0; i < files.size(); ++i) {
    Host& h = hosts[i];
    h.file = files[i];
    h.nameAt = {files[i], 0, 0};
    bool single = files.size() == 1;
    if (single && !opts.name.empty()) {
      h.name = opts.name;
    } else {
      h.nameFromRouterId = true;
      h.name = single ? opts.fallbackName : "director" + std::to_string(i + 1);
    }
    size_t before = r.problems.size();
    auto tree = keepalived::parseFile(files[i], reader, r.problems);
    bool unreadable = tree.empty() && r.problems.size() > before &&
                      r.problems[before].severity == Problem::kError && r.problems[before].line == 0;
    if (unreadable) continue;
    HostConverter(h, r.problems).convert(tree);
    if (h.nameFromRouterId && h.nameAt.line == 0)
      r.problems.push_back({Problem::kNote, files[i], 0, 0,
                            "no router_id: this director is named " + h.name +
                                " (lvsd finds itself by --name or the host name)"});
  }
  Merger(hosts, r).run();
  // Report in reading order: the given files first, then included ones.
  std::map<std::string, size_t> rank;
  for (size_t i = 0; i < files.size(); ++i) rank.emplace(files[i], i);
  for (const auto& p : r.problems) rank.emplace(p.file, rank.size());
  std::stable_sort(r.problems.begin(), r.problems.end(), [&](const Problem& a, const Problem& b) {
    return std::tie(rank[a.file], a.line, a.column) < std::tie(rank[b.file], b.line, b.column);
  });
  r.header.push_back("lvsd configuration converted from keepalived by `lvsctl import keepalived`.");
  for (const Host& h : hosts) r.header.push_back("director " + h.name + ": " + h.file);
  return r;
}

}  // namespace lvsd::import
