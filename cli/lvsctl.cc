// lvsctl — the operator's tool.
#include <google/protobuf/util/json_util.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <ctime>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "cli/import/command.h"
#include "config/config.h"
#include "core/framing.h"
#include "proto/control.pb.h"

#ifdef LVSD_HAVE_IPVSADM
#include "cli/ipvsadm/ipvsadm.h"
#endif

using namespace lvsd;

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFail = 1;     // the daemon answered "no"
constexpr int kExitUsage = 2;    // bad command line / invalid config
constexpr int kExitNoDaemon = 3;  // cannot reach lvsd

void usage(std::ostream& out) {
  out << "usage: lvsctl [-s SOCKET] [--json] COMMAND [ARGS]\n"
         "commands:\n"
         "  status                      roles, peers, services, real servers\n"
         "  events [--since SEQ]        stream events (transitions, health, reloads)\n"
         "  reload [--plan]             validate and apply the config file (or preview)\n"
         "  dump                        full state as JSON\n"
         "  drain SERVICE|- RS          weight 0 until connections end, then remove\n"
         "  undrain SERVICE|- RS        restore a drained real server\n"
         "  weight SERVICE|- RS W       set a real server's weight at runtime\n"
         "  add-server SERVICE RS [W]   add a real server until the next reload\n"
         "  remove-server SERVICE RS    remove a real server until the next reload\n"
         "  failover [INSTANCE] [--for SECONDS]   give up MASTER (lower priority)\n"
         "  config-test FILE            validate a config file without a daemon\n"
         "  import keepalived FILE...   convert keepalived.conf (one per director) to lvsd config\n"
         "  import ipvsadm FILE|-       convert `ipvsadm -S -n` output to lvsd config\n"
         "  ipvsadm ARGS...             ipvsadm-compatible front end\n"
         "socket: -s, $LVSD_SOCKET, or /run/lvsd/lvsd.sock\n";
}

std::string toJson(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions o;
  o.add_whitespace = true;
  o.preserve_proto_field_names = true;
  o.always_print_primitive_fields = true;
  (void)google::protobuf::util::MessageToJsonString(m, &out, o);
  return out;
}

class Client {
 public:
  ~Client() {
    if (fd_ >= 0) ::close(fd_);
  }
  Status connect(const std::string& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return errnoError("socket", errno);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (path.size() >= sizeof sa.sun_path) return Error("socket path too long: " + path);
    std::memcpy(sa.sun_path, path.c_str(), path.size());
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
      int e = errno;
      std::string hint = (e == ENOENT || e == ECONNREFUSED) ? " (is lvsd running?)"
                         : e == EACCES                     ? " (permission denied: run as root)"
                                                           : "";
      return Error("cannot connect to lvsd at " + path + ": " + std::strerror(e) + hint, e);
    }
    return okStatus();
  }
  Result<control::Response> call(const control::Request& req, int timeoutMs = 30000) {
    if (auto s = send(req); !s) return Error(s.error());
    return receive(timeoutMs);
  }
  Status send(const control::Request& req) { return writeFrame(fd_, req.SerializeAsString()); }
  Result<control::Response> receive(int timeoutMs) {
    auto frame = readFrame(fd_, timeoutMs);
    if (!frame) return Error(frame.error());
    control::Response resp;
    if (!resp.ParseFromString(*frame)) return Error("malformed response from lvsd");
    return resp;
  }

 private:
  int fd_ = -1;
};

std::string ago(int64_t unixMs) {
  if (unixMs <= 0) return "never";
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  int64_t d = now - unixMs;
  std::ostringstream s;
  if (d < 10000) s << d << "ms ago";
  else if (d < 600000) s << d / 1000 << "s ago";
  else s << d / 60000 << "m ago";
  return s.str();
}

void printStatus(const control::Status& s, std::ostream& out) {
  out << "director " << s.director() << "  lvsd " << s.version() << "  ipvs " << s.ipvs_backend()
      << "\nconfig   " << s.config_file() << "  digest " << s.config_digest().substr(0, 12)
      << "  generation " << s.config_generation() << "\n";
  if (s.instance_size()) {
    out << "\nINSTANCE             STATE    PRIO  EFF   MASTER           SINCE        REASON\n";
    for (const auto& i : s.instance())
      out << std::left << std::setw(20) << i.name() << " " << std::setw(8) << i.state() << " "
          << std::setw(5) << i.priority() << " " << std::setw(5) << i.effective_priority() << " "
          << std::setw(16) << i.master() << " " << std::setw(12) << ago(i.since_unix_ms()) << " "
          << i.last_reason() << "\n";
  }
  if (s.peer_size()) {
    out << "\nPEER                 LAST HEARD   LINKS UP         CONFIG\n";
    for (const auto& p : s.peer()) {
      std::string links;
      for (const auto& l : p.links_up()) links += (links.empty() ? "" : ",") + l;
      out << std::left << std::setw(20) << p.name() << " " << std::setw(12)
          << ago(p.last_heard_unix_ms()) << " " << std::setw(16) << (links.empty() ? "-" : links)
          << " "
          << (p.config_mismatch() ? "MISMATCH " + p.config_digest().substr(0, 12)
                                  : "same")
          << "\n";
    }
  }
  for (const auto& svc : s.service()) {
    out << "\nSERVICE " << svc.name() << " (" << svc.key() << ") " << svc.scheduler()
        << (svc.quorum_ok() ? "" : "  QUORUM LOST") << (svc.sorry_active() ? "  SORRY" : "")
        << "\n  REAL SERVER                FWD    HEALTH  WEIGHT  CONF  ACTIVE  INACT  NOTE\n";
    for (const auto& rs : svc.real_server()) {
      std::string note = rs.draining() ? "draining" : "";
      if (rs.runtime_added()) note += (note.empty() ? "" : ",") + std::string("runtime");
      out << "  " << std::left << std::setw(26) << rs.address() << " " << std::setw(6)
          << rs.forwarding() << " " << std::setw(7) << (rs.up() ? "up" : "DOWN") << " "
          << std::setw(7) << rs.weight() << " " << std::setw(5) << rs.configured_weight() << " "
          << std::setw(7) << rs.active_connections() << " " << std::setw(6)
          << rs.inactive_connections() << " " << note << "\n";
    }
  }
}

void printEvent(const control::Event& e, std::ostream& out) {
  std::time_t t = e.unix_ms() / 1000;
  std::tm tm{};
  localtime_r(&t, &tm);
  out << std::put_time(&tm, "%Y-%m-%dT%H:%M:%S") << "." << std::setw(3) << std::setfill('0')
      << e.unix_ms() % 1000 << std::setfill(' ') << " #" << e.seq() << " " << e.module() << " "
      << e.kind() << " " << e.subject();
  if (!e.from().empty() || !e.to().empty()) out << " " << e.from() << " -> " << e.to();
  if (!e.reason().empty()) out << " reason=" << e.reason();
  out << std::endl;
}

int printResponse(const control::Response& r, bool json) {
  if (json) {
    std::cout << toJson(r) << "\n";
  } else {
    for (const auto& e : r.error()) std::cerr << e << "\n";
    if (r.has_text()) std::cout << r.text() << "\n";
    if (r.has_json()) std::cout << r.json() << "\n";
    if (r.has_reload()) {
      for (const auto& op : r.reload().operation()) std::cout << op << "\n";
      if (r.ok())
        std::cout << (r.reload().applied() ? "applied" : "planned (nothing changed)")
                  << ", generation " << r.reload().generation() << "\n";
    }
  }
  return r.ok() ? kExitOk : kExitFail;
}

}  // namespace

int main(int argc, char** argv) {
  std::string prog = argv[0];
  auto slash = prog.rfind('/');
  if (slash != std::string::npos) prog = prog.substr(slash + 1);
#ifdef LVSD_HAVE_IPVSADM
  if (prog == "ipvsadm") return lvsd::ipvsadm::runIpvsadm(argc, argv, std::cout, std::cerr);
#endif

  std::string socketPath = getenv("LVSD_SOCKET") ? getenv("LVSD_SOCKET") : "/run/lvsd/lvsd.sock";
  bool json = false;
  int i = 1;
  for (; i < argc; ++i) {
    std::string a = argv[i];
    if ((a == "-s" || a == "--socket") && i + 1 < argc) socketPath = argv[++i];
    else if (a == "--json") json = true;
    else if (a == "-h" || a == "--help") { usage(std::cout); return kExitOk; }
    else break;
  }
  if (i >= argc) {
    usage(std::cerr);
    return kExitUsage;
  }
  std::string cmd = argv[i++];
  std::vector<std::string> args(argv + i, argv + argc);
  // Options may also follow the command.
  std::vector<std::string> rest;
  for (size_t k = 0; k < args.size(); ++k) {
    if (args[k] == "--json") json = true;
    else if ((args[k] == "-s" || args[k] == "--socket") && k + 1 < args.size()) socketPath = args[++k];
    else rest.push_back(args[k]);
  }

  if (cmd == "ipvsadm") {
#ifdef LVSD_HAVE_IPVSADM
    std::vector<char*> av{const_cast<char*>("ipvsadm")};
    for (int k = i; k < argc; ++k) av.push_back(argv[k]);
    av.push_back(nullptr);
    return lvsd::ipvsadm::runIpvsadm(static_cast<int>(av.size() - 1), av.data(), std::cout,
                                     std::cerr);
#else
    std::cerr << "lvsctl: ipvsadm front end not built\n";
    return kExitUsage;
#endif
  }
  // Converters (cli/import): work offline, need no daemon.
  if (cmd == "import") return import::runImport(args, std::cout, std::cerr);
  if (cmd == "config-test") {
    if (rest.size() != 1) {
      std::cerr << "usage: lvsctl config-test FILE\n";
      return kExitUsage;
    }
    auto r = config::loadFile(rest[0]);
    if (!r.ok()) {
      std::cerr << r.errorText();
      return kExitUsage;
    }
    std::cout << rest[0] << ": ok (digest " << r.config->digest.substr(0, 12) << ")\n";
    return kExitOk;
  }

  control::Request req;
  auto needArgs = [&](size_t lo, size_t hi, const char* syntax) {
    if (rest.size() < lo || rest.size() > hi) {
      std::cerr << "usage: lvsctl " << syntax << "\n";
      return false;
    }
    return true;
  };
  auto parseU32 = [](const std::string& s, uint32_t& out) {
    char* end = nullptr;
    unsigned long v = std::strtoul(s.c_str(), &end, 10);
    if (s.empty() || *end || v > 0xffffffffUL) return false;
    out = static_cast<uint32_t>(v);
    return true;
  };
  std::string svcArg = rest.size() > 0 && rest[0] != "-" ? rest[0] : "";
  if (cmd == "status") {
    if (!needArgs(0, 0, "status")) return kExitUsage;
    req.mutable_status();
  } else if (cmd == "dump") {
    if (!needArgs(0, 0, "dump")) return kExitUsage;
    req.mutable_dump();
  } else if (cmd == "reload") {
    if (!needArgs(0, 1, "reload [--plan]")) return kExitUsage;
    if (!rest.empty() && rest[0] != "--plan") { std::cerr << "usage: lvsctl reload [--plan]\n"; return kExitUsage; }
    req.mutable_reload()->set_plan_only(!rest.empty());
  } else if (cmd == "events") {
    uint32_t since = 0;
    if (!rest.empty() && !(rest.size() == 2 && rest[0] == "--since" && parseU32(rest[1], since))) {
      std::cerr << "usage: lvsctl events [--since SEQ]\n";
      return kExitUsage;
    }
    req.mutable_events()->set_since_seq(since);
  } else if (cmd == "drain" || cmd == "undrain") {
    if (!needArgs(2, 2, (cmd + " SERVICE|- RS").c_str())) return kExitUsage;
    auto* r = cmd == "drain" ? req.mutable_drain() : req.mutable_undrain();
    r->set_service(svcArg);
    r->set_real_server(rest[1]);
  } else if (cmd == "weight") {
    uint32_t w = 0;
    if (!needArgs(3, 3, "weight SERVICE|- RS WEIGHT")) return kExitUsage;
    if (!parseU32(rest[2], w) || w > 65535) { std::cerr << "lvsctl: weight must be 0..65535\n"; return kExitUsage; }
    auto* r = req.mutable_set_weight();
    r->set_service(svcArg);
    r->set_real_server(rest[1]);
    r->set_weight(w);
  } else if (cmd == "add-server" || cmd == "remove-server") {
    if (!needArgs(2, cmd == "add-server" ? 3 : 2, (cmd + " SERVICE RS" + (cmd == "add-server" ? " [WEIGHT]" : "")).c_str())) return kExitUsage;
    uint32_t w = 1;
    if (rest.size() == 3 && (!parseU32(rest[2], w) || w > 65535)) { std::cerr << "lvsctl: weight must be 0..65535\n"; return kExitUsage; }
    auto* r = cmd == "add-server" ? req.mutable_add_server() : req.mutable_remove_server();
    r->set_service(rest[0]);
    r->set_real_server(rest[1]);
    r->set_weight(w);
  } else if (cmd == "failover") {
    auto* r = req.mutable_failover();
    for (size_t k = 0; k < rest.size(); ++k) {
      uint32_t secs = 0;
      if (rest[k] == "--for" && k + 1 < rest.size() && parseU32(rest[k + 1], secs)) { r->set_duration_s(secs); ++k; }
      else if (r->instance().empty() && rest[k][0] != '-') r->set_instance(rest[k]);
      else { std::cerr << "usage: lvsctl failover [INSTANCE] [--for SECONDS]\n"; return kExitUsage; }
    }
  } else {
    std::cerr << "lvsctl: unknown command '" << cmd << "'\n";
    usage(std::cerr);
    return kExitUsage;
  }

  Client client;
  if (auto s = client.connect(socketPath); !s) {
    std::cerr << "lvsctl: " << s.error().message << "\n";
    return kExitNoDaemon;
  }
  if (cmd == "events") {
    if (auto s = client.send(req); !s) { std::cerr << "lvsctl: " << s.error().message << "\n"; return kExitNoDaemon; }
    for (;;) {
      auto r = client.receive(-1);
      if (!r) { std::cerr << "lvsctl: " << r.error().message << "\n"; return kExitNoDaemon; }
      if (!r->ok()) return printResponse(*r, json);
      if (json) std::cout << toJson(r->event()) << std::endl;
      else printEvent(r->event(), std::cout);
    }
  }
  auto resp = client.call(req);
  if (!resp) {
    std::cerr << "lvsctl: " << resp.error().message << "\n";
    return kExitNoDaemon;
  }
  if (cmd == "status" && resp->ok() && !json) {
    printStatus(resp->status(), std::cout);
    return kExitOk;
  }
  return printResponse(*resp, json);
}
