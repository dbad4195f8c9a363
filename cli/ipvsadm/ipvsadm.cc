// runIpvsadm: ipvsadm 1.31's main() and process_options() over lvsd's
// IpvsBackend.

#include "cli/ipvsadm/ipvsadm.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/ipvsadm/command.h"
#include "cli/ipvsadm/format.h"
#include "cli/ipvsadm/resolver.h"

extern char** environ;

namespace lvsd::ipvsadm {
namespace {

// Which libipvs call failed: ipvs_strerror words some errnos per call.
enum class Call {
  kOther,
  kAddService,
  kEditService,
  kDelService,
  kZero,
  kAddDest,
  kEditDest,
  kDelDest,
  kStartDaemon,
  kStopDaemon,
  kGetServices,
  kGetDests,
  kGetService,
};

std::string ipvsStrerror(Call call, int err) {
  struct Entry {
    Call call;
    int err;
    const char* message;
  };
  static const Entry kTable[] = {
      {Call::kAddService, EEXIST, "Service already exists"},
      {Call::kAddService, ENOENT, "Scheduler or persistence engine not found"},
      {Call::kEditService, ESRCH, "No such service"},
      {Call::kEditService, ENOENT, "Scheduler or persistence engine not found"},
      {Call::kDelService, ESRCH, "No such service"},
      {Call::kZero, ESRCH, "No such service"},
      {Call::kAddDest, ESRCH, "Service not defined"},
      {Call::kAddDest, EEXIST, "Destination already exists"},
      {Call::kEditDest, ESRCH, "Service not defined"},
      {Call::kEditDest, ENOENT, "No such destination"},
      {Call::kDelDest, ESRCH, "Service not defined"},
      {Call::kDelDest, ENOENT, "No such destination"},
      {Call::kStartDaemon, EEXIST, "Daemon has already run"},
      {Call::kStopDaemon, ESRCH, "No daemon is running"},
      {Call::kGetServices, ESRCH, "No such service"},
      {Call::kGetDests, ESRCH, "No such service"},
      {Call::kGetService, ESRCH, "No such service"},
      {Call::kOther, EPERM, "Permission denied (you must be root)"},
      {Call::kOther, EINVAL, "Invalid operation.  Possibly wrong module version, address not unicast, ..."},
      {Call::kOther, ENOPROTOOPT, "Protocol not available"},
      {Call::kOther, ENOMEM, "Memory allocation problem"},
      {Call::kOther, EOPNOTSUPP, "Operation not supported with IPv6"},
      {Call::kOther, EAFNOSUPPORT, "Operation not supported with specified address family"},
      {Call::kOther, EMSGSIZE, "Module is wrong version"},
  };
  for (const auto& e : kTable) {
    if ((e.call == Call::kOther || e.call == call) && e.err == err) return e.message;
  }
  return std::strerror(err);
}

int errnoOf(const Error& e) { return e.code ? e.code : EINVAL; }

void defaultLoadModule() {
  // As ipvsadm: try to load ip_vs once; its diagnostics go to our stderr.
  const char* argv[] = {"/sbin/modprobe", "--", "ip_vs", nullptr};
  pid_t pid;
  if (posix_spawn(&pid, argv[0], nullptr, nullptr, const_cast<char**>(argv), environ) != 0) return;
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

class StreamSource final : public LineSource {
 public:
  explicit StreamSource(std::istream& in) : in_(in) {}
  int get() override {
    if (pushed_ != EOF) {
      int c = pushed_;
      pushed_ = EOF;
      return c;
    }
    int c = in_.get();
    return c == std::char_traits<char>::eof() ? EOF : static_cast<unsigned char>(c);
  }
  void unget(int c) override { pushed_ = c; }

 private:
  std::istream& in_;
  int pushed_ = EOF;
};

IpAddress addressOf(uint16_t af, const std::array<uint8_t, 16>& addr) {
  return IpAddress::fromBytes(af == kAfInet6 ? Family::kV6 : Family::kV4, addr.data());
}

ipvs::ServiceKey keyOf(const ServiceSpec& s) {
  Family f = s.af == kAfInet6 ? Family::kV6 : Family::kV4;
  if (s.fwmark) return ipvs::ServiceKey::mark(s.fwmark, f);
  return ipvs::ServiceKey::inet(static_cast<ipvs::Protocol>(s.protocol),
                                Endpoint(addressOf(s.af, s.addr), s.port));
}

ipvs::Service serviceOf(const ServiceSpec& s) {
  ipvs::Service out;
  out.key = keyOf(s);
  out.scheduler = s.sched;
  out.flags = s.flags;
  out.timeout = s.timeout;
  out.netmask = s.af == kAfInet6 ? s.netmask : ntohl(s.netmask);
  out.pe = s.pe;
  return out;
}

ipvs::Destination destinationOf(const DestSpec& d) {
  ipvs::Destination out;
  out.address = addressOf(d.af, d.addr);
  out.port = d.port;
  out.forwarding = static_cast<ipvs::Forwarding>(d.connFlags & 0x7);
  out.weight = static_cast<uint32_t>(d.weight);
  out.upperThreshold = d.upperThreshold;
  out.lowerThreshold = d.lowerThreshold;
  out.tunnel.type = static_cast<ipvs::TunnelType>(d.tunType);
  out.tunnel.port = d.tunPort;
  out.tunnel.flags = d.tunFlags;
  return out;
}

class Session {
 public:
  Session(Context& ctx, Environment& env, ipvs::IpvsBackend& backend, const ipvs::Info& info)
      : ctx_(ctx), env_(env), backend_(backend), info_(info) {}

  void listAll(unsigned format) {
    if (!(format & kFmtRule)) ctx_.out() << versionHeader(info_);
    auto services = backend_.services();
    if (!services) failList(Call::kGetServices, services.error());
    if (!(format & kFmtNoSort)) sortServices(*services);
    ctx_.out() << title(format);
    for (const auto& se : *services) printService(se, format);
  }

  // Returns the line's result: 0, -1, or kPending when batched (-R).
  int process(const std::vector<std::string>& argv, bool readingStdin) {
    Command ce;
    if (!parseCommand(argv, ctx_, ce)) return -1;
    const bool batchable = ce.cmd == kCmdAdd || ce.cmd == kCmdEdit || ce.cmd == kCmdDel ||
                           ce.cmd == kCmdAddDest || ce.cmd == kCmdEditDest || ce.cmd == kCmdDelDest;
    // Anything else sees the kernel after the batched lines before it.
    if (!(readingStdin && batchable)) settle();
    switch (ce.cmd) {
      case kCmdList:
        if (((ce.options & (bit(kOptConnection) | bit(kOptTimeout) | bit(kOptDaemon))) &&
             (ce.options & (bit(kOptStats) | bit(kOptRate) | bit(kOptThresholds)))) ||
            ((ce.options & (bit(kOptTimeout) | bit(kOptDaemon))) &&
             (ce.options & bit(kOptPersistentConn)))) {
          ctx_.fail(2, "options conflicts in the list command");
        }
        if (ce.options & bit(kOptConnection)) {
          listConnections(ce.format);
        } else if (ce.options & bit(kOptService)) {
          listService(ce.svc, ce.format);
        } else if (ce.options & bit(kOptTimeout)) {
          auto t = backend_.timeouts();
          if (!t) throw Exit{1};
          ctx_.out() << timeoutLine(*t);
        } else if (ce.options & bit(kOptDaemon)) {
          auto d = backend_.syncDaemons();
          if (!d) throw Exit{1};
          ctx_.out() << daemonLines(*d);
        } else {
          listAll(ce.format);
        }
        return 0;
      case kCmdRestore:
        return restore(argv, readingStdin);
      case kCmdSave:
        listAll(ce.format | kFmtRule);
        return 0;
      case kCmdFlush:
        return report(Call::kOther, backend_.flush());
      case kCmdZero: {
        ipvs::ServiceKey key = keyOf(ce.svc);
        bool one = ce.svc.fwmark || ce.svc.port ||
                   std::any_of(ce.svc.addr.begin(), ce.svc.addr.end(), [](uint8_t b) { return b; });
        return report(Call::kZero, backend_.zero(one ? &key : nullptr));
      }
      case kCmdTimeout: {
        ipvs::Timeouts t{static_cast<uint32_t>(ce.timeout.tcp), static_cast<uint32_t>(ce.timeout.tcpFin),
                         static_cast<uint32_t>(ce.timeout.udp)};
        return report(Call::kOther, backend_.setTimeouts(t));
      }
      case kCmdStartDaemon: {
        ipvs::SyncDaemon d;
        d.state = static_cast<ipvs::SyncState>(ce.daemon.state);
        d.interface = ce.daemon.interface;
        d.syncId = static_cast<uint32_t>(ce.daemon.syncId);
        d.maxLen = static_cast<uint16_t>(ce.daemon.maxLen);
        d.port = static_cast<uint16_t>(ce.daemon.port);
        d.ttl = static_cast<uint8_t>(ce.daemon.ttl);
        if (ce.daemon.groupAf) d.group = addressOf(ce.daemon.groupAf, ce.daemon.group);
        return report(Call::kStartDaemon, backend_.startSyncDaemon(d));
      }
      case kCmdStopDaemon:
        return report(Call::kStopDaemon,
                      backend_.stopSyncDaemon(static_cast<ipvs::SyncState>(ce.daemon.state)));
      default:
        break;
    }
    // Service and destination changes.
    ipvs::Op op;
    Call call = Call::kOther;
    switch (ce.cmd) {
      case kCmdAdd:
        op.kind = ipvs::OpKind::kAddService;
        call = Call::kAddService;
        break;
      case kCmdEdit:
        op.kind = ipvs::OpKind::kEditService;
        call = Call::kEditService;
        break;
      case kCmdDel:
        op.kind = ipvs::OpKind::kDeleteService;
        call = Call::kDelService;
        break;
      case kCmdAddDest:
        op.kind = ipvs::OpKind::kAddDestination;
        call = Call::kAddDest;
        break;
      case kCmdEditDest:
        op.kind = ipvs::OpKind::kEditDestination;
        call = Call::kEditDest;
        break;
      case kCmdDelDest:
        op.kind = ipvs::OpKind::kDeleteDestination;
        call = Call::kDelDest;
        break;
      default:
        return 0;
    }
    op.service = serviceOf(ce.svc);
    if (op.isDestination()) op.dest = destinationOf(ce.dest);
    if (readingStdin) {
      pendingOps_.push_back(op);
      pendingCalls_.push_back(call);
      ctx_.beforeOutput = [this] { settle(); };
      return kPending;
    }
    ipvs::Op ops[] = {op};
    ipvs::BatchResult r = backend_.apply(ops);
    if (r.ok()) return 0;
    ctx_.err() << ipvsStrerror(call, errnoOf(r.errors.front().error)) << '\n';
    return -1;
  }

  // Sends batched -R changes; prints their errors in order.
  void settle() {
    if (pendingOps_.empty()) return;
    ctx_.beforeOutput = nullptr;
    std::vector<ipvs::Op> ops = std::move(pendingOps_);
    std::vector<Call> calls = std::move(pendingCalls_);
    pendingOps_.clear();
    pendingCalls_.clear();
    ipvs::BatchResult r = backend_.apply(ops);
    bool lastFailed = false;
    for (const auto& e : r.errors) {
      ctx_.err() << ipvsStrerror(calls[e.index], errnoOf(e.error)) << '\n';
      if (e.index + 1 == ops.size()) lastFailed = true;
    }
    lastBatchResult_ = lastFailed ? -1 : 0;
  }

 private:
  static constexpr int kPending = 1;

  [[noreturn]] void failList(Call call, const Error& e) {
    ctx_.err() << ipvsStrerror(call, errnoOf(e)) << '\n';
    throw Exit{1};
  }

  int report(Call call, const Status& s) {
    if (s.ok()) return 0;
    ctx_.err() << ipvsStrerror(call, errnoOf(s.error())) << '\n';
    return -1;
  }

  void printService(const ipvs::ServiceEntry& se, unsigned format) {
    auto dests = backend_.destinations(se.service.key);
    if (!dests) failList(Call::kGetDests, dests.error());
    ctx_.out() << serviceBlock(se, std::move(*dests), format, ctx_.resolver);
  }

  void listService(const ServiceSpec& svc, unsigned format) {
    auto se = backend_.service(keyOf(svc));
    if (!se) failList(Call::kGetService, se.error());
    ctx_.out() << title(format);
    printService(*se, format);
  }

  void listConnections(unsigned format) {
    std::ifstream f(env_.connFile);
    if (!f) {
      ctx_.err() << "cannot open file " << env_.connFile << '\n';
      throw Exit{1};
    }
    std::ostringstream ss;
    ss << f.rdbuf();
    std::string text = ss.str();
    if (text.empty()) {
      ctx_.err() << "unexpected input from " << env_.connFile << '\n';
      throw Exit{1};
    }
    ctx_.out() << connectionsHeader(format);
    ipvs::ConnectionTable t = ipvs::parseConnections(text);
    std::string out;
    for (const auto& c : t.connections) out += connectionLine(c, format, ctx_.resolver);
    ctx_.out() << out;
  }

  int restore(const std::vector<std::string>& argv, bool readingStdin) {
    const std::string& program = argv.empty() ? ctx_.program : argv[0];
    if (readingStdin) {
      ctx_.err() << "Try `" << program << " -h' or '" << program
                 << " --help' for more information.\n";
      throw Exit{255};
    }
    std::istream& in = env_.in ? *env_.in : std::cin;
    StreamSource src(in);
    int result = 0;
    bool lastPending = false;
    while (auto line = readRestoreLine(src, program)) {
      if (line->size() <= 1) continue;
      int r = process(*line, true);
      lastPending = r == kPending;
      if (!lastPending) result = r;
    }
    settle();
    if (lastPending) result = lastBatchResult_;
    return result;
  }

  Context& ctx_;
  Environment& env_;
  ipvs::IpvsBackend& backend_;
  ipvs::Info info_;
  std::vector<ipvs::Op> pendingOps_;
  std::vector<Call> pendingCalls_;
  int lastBatchResult_ = 0;
};

const char* kUsageCommands =
    "Commands:\n"
    "Either long or short options are allowed.\n"
    "  --add-service     -A        add virtual service with options\n"
    "  --edit-service    -E        edit virtual service with options\n"
    "  --delete-service  -D        delete virtual service\n"
    "  --clear           -C        clear the whole table\n"
    "  --restore         -R        restore rules from stdin\n"
    "  --save            -S        save rules to stdout\n"
    "  --add-server      -a        add real server with options\n"
    "  --edit-server     -e        edit real server with options\n"
    "  --delete-server   -d        delete real server\n"
    "  --list            -L|-l     list the table\n"
    "  --zero            -Z        zero counters in a service or all services\n"
    "  --set tcp tcpfin udp        set connection timeout values\n"
    "  --start-daemon              start connection sync daemon\n"
    "  --stop-daemon               stop connection sync daemon\n"
    "  --help            -h        display this help message\n\n"
    "virtual-service:\n"
    "  --tcp-service|-t  service-address   service-address is host[:port]\n"
    "  --udp-service|-u  service-address   service-address is host[:port]\n"
    "  --sctp-service    service-address   service-address is host[:port]\n"
    "  --fwmark-service|-f fwmark          fwmark is an integer greater than zero\n"
    "\n"
    "Options:\n"
    "  --ipv6         -6                   fwmark entry uses IPv6\n"
    "  --scheduler    -s scheduler         one of rr|wrr|lc|wlc|lblc|lblcr|dh|sh|sed|nq|fo|ovf|mh,\n"
    "                                      the default scheduler is wlc.\n"
    "  --pe            engine              alternate persistence engine may be sip,\n"
    "                                      not set by default.\n"
    "  --persistent   -p [timeout]         persistent service\n"
    "  --netmask      -M netmask           persistent granularity mask\n"
    "  --real-server  -r server-address    server-address is host (and port)\n"
    "  --gatewaying   -g                   gatewaying (direct routing) (default)\n"
    "  --ipip         -i                   ipip encapsulation (tunneling)\n"
    "  --masquerading -m                   masquerading (NAT)\n"
    "  --tun-type      type                one of ipip|gue|gre,\n"
    "                                      the default tunnel type is ipip.\n"
    "  --tun-port      port                tunnel destination port\n"
    "  --tun-nocsum                        tunnel encapsulation without checksum\n"
    "  --tun-csum                          tunnel encapsulation with checksum\n"
    "  --tun-remcsum                       tunnel encapsulation with remote checksum\n"
    "  --weight       -w weight            capacity of real server\n"
    "  --u-threshold  -x uthreshold        upper threshold of connections\n"
    "  --l-threshold  -y lthreshold        lower threshold of connections\n"
    "  --connection   -c                   output of current IPVS connections\n"
    "  --timeout                           output of timeout (tcp tcpfin udp)\n"
    "  --daemon                            output of daemon information\n"
    "  --stats                             output of statistics information\n"
    "  --rate                              output of rate information\n"
    "  --exact                             expand numbers (display exact values)\n"
    "  --thresholds                        output of thresholds information\n"
    "  --persistent-conn                   output of persistent connection info\n"
    "  --tun-info                          output of tunnel information\n"
    "  --nosort                            disable sorting output of service/server entries\n"
    "  --sort                              does nothing, for backwards compatibility\n"
    "  --ops          -o                   one-packet scheduling\n"
    "  --numeric      -n                   numeric output of addresses and ports\n"
    "  --sched-flags  -b flags             scheduler flags (comma-separated)\n"
    "Daemon Options:\n"
    "  --syncid sid                        syncid for connection sync (default=255)\n"
    "  --sync-maxlen length                Max sync message length (default=1472)\n"
    "  --mcast-interface interface         multicast interface for connection sync\n"
    "  --mcast-group address               IPv4/IPv6 group (default=224.0.0.81)\n"
    "  --mcast-port port                   UDP port (default=8848)\n"
    "  --mcast-ttl ttl                     Multicast TTL (default=1)\n";

constexpr const char* kVersion = "ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)\n";

}  // namespace

void Context::tryHelp(int code) {
  err() << "Try `" << program << " -h' or '" << program << " --help' for more information.\n";
  throw Exit{code};
}

void Context::version(int code) {
  (code ? err() : out()) << kVersion;
  throw Exit{code};
}

void Context::usage(int code) {
  std::ostream& s = code ? err() : out();
  const std::string& p = program;
  s << kVersion << "Usage:\n"
    << "  " << p << " -A|E virtual-service [-s scheduler] [-p [timeout]] [-M netmask] [--pe persistence_engine] [-b sched-flags]\n"
    << "  " << p << " -D virtual-service\n"
    << "  " << p << " -C\n"
    << "  " << p << " -R\n"
    << "  " << p << " -S [-n]\n"
    << "  " << p << " -a|e virtual-service -r server-address [options]\n"
    << "  " << p << " -d virtual-service -r server-address\n"
    << "  " << p << " -L|l [virtual-service] [options]\n"
    << "  " << p << " -Z [virtual-service]\n"
    << "  " << p << " --set tcp tcpfin udp\n"
    << "  " << p << " --start-daemon {master|backup} [daemon-options]\n"
    << "  " << p << " --stop-daemon {master|backup}\n"
    << "  " << p << " -h\n\n"
    << kUsageCommands;
  throw Exit{code};
}

int runIpvsadm(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
               Environment& env) {
  const NameResolver& resolver = env.resolver ? *env.resolver : systemResolver();
  std::string program = args.empty() ? "ipvsadm" : args[0];
  Context ctx(out, err, resolver, program);
  try {
    auto open = env.openBackend ? env.openBackend
                                : [] { return ipvs::makeNetlinkBackend(); };
    std::unique_ptr<ipvs::IpvsBackend> backend;
    Result<ipvs::Info> info = Error("not initialised");
    auto init = [&]() -> int {
      auto b = open();
      if (!b) {
        // libipvs falls back to the old sockopt interface, which reports
        // ENOPROTOOPT when there is no IPVS at all.
        int e = b.error().code;
        return e == ENOENT || e == 0 ? ENOPROTOOPT : e;
      }
      backend = std::move(*b);
      info = backend->info();
      return info.ok() ? 0 : errnoOf(info.error());
    };
    if (int e = init(); e != 0) {
      if (env.loadModule) {
        env.loadModule();
      } else {
        defaultLoadModule();
      }
      if ((e = init()) != 0) {
        err << "Can't initialize ipvs: " << ipvsStrerror(Call::kOther, e)
            << "\nAre you sure that IP Virtual Server is built in the kernel or as module?\n";
        return 2;
      }
    }
    Session session(ctx, env, *backend, *info);
    if (args.size() <= 1) {
      session.listAll(0);
      return 0;
    }
    int r = session.process(args, false);
    session.settle();
    return r == 0 ? 0 : 255;
  } catch (const Exit& e) {
    return e.code & 0xff;
  }
}

int runIpvsadm(int argc, char** argv, std::ostream& out, std::ostream& err) {
  std::vector<std::string> args(argv, argv + argc);
  Environment env;
  int rc = runIpvsadm(args, out, err, env);
  out.flush();
  return rc;
}

}  // namespace lvsd::ipvsadm
