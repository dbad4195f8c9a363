// ipvsadm 1.31's command-line semantics: which options each command takes,
// how addresses, ports, masks and numbers are read, and what is said when
// they are wrong. The tables and messages reproduce Debian's ipvsadm
// 1:1.31-1 (the weight accepts 0..INT_MAX there).

#include "cli/ipvsadm/command.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "cli/ipvsadm/popt.h"

namespace lvsd::ipvsadm {
namespace {

constexpr int kMaxTimeout = 86400 * 31;
constexpr int kDefaultPersistentTimeout = 6 * 60;

const char* const kCommandNames[] = {
    "add-service", "edit-service",  "delete-service", "flush",        "list",
    "add-server",  "delete-server", "edit-server",    "set",          "start-daemon",
    "stop-daemon", "restore",       "save",           "zero",
};

const char* const kOptionNames[kNumOptions] = {
    "numeric",     "connection",  "service-address", "scheduler",  "persistent",  "netmask",
    "real-server", "forwarding-method", "weight",    "u-threshold", "l-threshold",
    "mcast-interface", "timeout", "daemon",          "stats",       "rate",        "thresholds",
    "persistent-conn", "nosort",  "syncid",          "exact",       "ops",         "pe",
    "sched-flags", "mcast-group", "mcast-port",      "mcast-ttl",   "sync-maxlen", "tun-info",
    "tun-type",    "tun-port",    "tun-nocsum",      "tun-csum",    "tun-remcsum",
};

// Legal combinations of commands and options: '+' compulsory, 'x' illegal,
// '1' exclusive, ' ' optional. Columns follow OptionIndex.
const char* const kCommandsVsOptions[] = {
    /* ADD     */ "xx+   xxxxxxxxxxxxxxx   xxxxxxxxxx",
    /* EDIT    */ "xx+   xxxxxxxxxxxxxxx   xxxxxxxxxx",
    /* DEL     */ "xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    /* FLUSH   */ "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    /* LIST    */ " 11xxxxxxxxx11       xxxxxxx xxxxx",
    /* ADDSRV  */ "xx+xxx+    xxxxxxxxxxxxxxxxxx     ",
    /* DELSRV  */ "xx+xxx+xxxxxxxxxxxxxxxxxxxxxxxxxxx",
    /* EDITSRV */ "xx+xxx+    xxxxxxxxxxxxxxxxxx     ",
    /* TIMEOUT */ "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    /* STARTD  */ "xxxxxxxxxxx xxxxxxx xxxx    xxxxxx",
    /* STOPD   */ "xxxxxxxxxxxxxxxxxxx xxxxxxxxxxxxxx",
    /* RESTORE */ "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    /* SAVE    */ " xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    /* ZERO    */ "xx xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
};

const char* const kTunnelNames[] = {"ipip", "gue", "gre"};
// Tunnel types vs the options tun-port, tun-nocsum, tun-csum, tun-remcsum.
const int kTunnelOptions[] = {kOptTunPort, kOptTunNoCsum, kOptTunCsum, kOptTunRemCsum};
const char* const kTunnelsVsOptions[] = {"xxxx", "+111", "x11x"};

enum Tag {
  kTagSet = 128,
  kTagStartDaemon,
  kTagStopDaemon,
  kTagMcastInterface,
  kTagTimeout,
  kTagDaemon,
  kTagStats,
  kTagRate,
  kTagThresholds,
  kTagPersistentConn,
  kTagSort,
  kTagNoSort,
  kTagPe,
  kTagSctpService,
  kTagMcastGroup,
  kTagMcastPort,
  kTagMcastTtl,
  kTagSyncMaxlen,
  kTagTunInfo,
  kTagTunType,
  kTagTunPort,
  kTagTunNoCsum,
  kTagTunCsum,
  kTagTunRemCsum,
};

using P = PoptOption;
const PoptOption kOptions[] = {
    {"add-service", 'A', P::kNone, 'A'},
    {"edit-service", 'E', P::kNone, 'E'},
    {"delete-service", 'D', P::kNone, 'D'},
    {"clear", 'C', P::kNone, 'C'},
    {"list", 'L', P::kNone, 'L'},
    {"list", 'l', P::kNone, 'l'},
    {"zero", 'Z', P::kNone, 'Z'},
    {"add-server", 'a', P::kNone, 'a'},
    {"edit-server", 'e', P::kNone, 'e'},
    {"delete-server", 'd', P::kNone, 'd'},
    {"set", '\0', P::kNone, kTagSet},
    {"help", 'h', P::kNone, 'h'},
    {"version", 'v', P::kNone, 'v'},
    {"restore", 'R', P::kNone, 'R'},
    {"save", 'S', P::kNone, 'S'},
    {"start-daemon", '\0', P::kString, kTagStartDaemon},
    {"stop-daemon", '\0', P::kString, kTagStopDaemon},
    {"tcp-service", 't', P::kString, 't'},
    {"udp-service", 'u', P::kString, 'u'},
    {"sctp-service", '\0', P::kString, kTagSctpService},
    {"fwmark-service", 'f', P::kString, 'f'},
    {"scheduler", 's', P::kString, 's'},
    {"persistent", 'p', P::kOptional, 'p'},
    {"netmask", 'M', P::kString, 'M'},
    {"real-server", 'r', P::kString, 'r'},
    {"masquerading", 'm', P::kNone, 'm'},
    {"ipip", 'i', P::kNone, 'i'},
    {"gatewaying", 'g', P::kNone, 'g'},
    {"weight", 'w', P::kString, 'w'},
    {"u-threshold", 'x', P::kString, 'x'},
    {"l-threshold", 'y', P::kString, 'y'},
    {"numeric", 'n', P::kNone, 'n'},
    {"connection", 'c', P::kNone, 'c'},
    {"mcast-interface", '\0', P::kString, kTagMcastInterface},
    {"syncid", '\0', P::kString, 'I'},
    {"timeout", '\0', P::kNone, kTagTimeout},
    {"daemon", '\0', P::kNone, kTagDaemon},
    {"stats", '\0', P::kNone, kTagStats},
    {"rate", '\0', P::kNone, kTagRate},
    {"thresholds", '\0', P::kNone, kTagThresholds},
    {"persistent-conn", '\0', P::kNone, kTagPersistentConn},
    {"nosort", '\0', P::kNone, kTagNoSort},
    {"sort", '\0', P::kNone, kTagSort},
    {"exact", 'X', P::kNone, 'X'},
    {"ipv6", '6', P::kNone, '6'},
    {"ops", 'o', P::kNone, 'o'},
    {"pe", '\0', P::kString, kTagPe},
    {"sched-flags", 'b', P::kString, 'b'},
    {"mcast-group", '\0', P::kString, kTagMcastGroup},
    {"mcast-port", '\0', P::kString, kTagMcastPort},
    {"mcast-ttl", '\0', P::kString, kTagMcastTtl},
    {"sync-maxlen", '\0', P::kString, kTagSyncMaxlen},
    {"tun-info", '\0', P::kNone, kTagTunInfo},
    {"tun-type", '\0', P::kString, kTagTunType},
    {"tun-port", '\0', P::kString, kTagTunPort},
    {"tun-nocsum", '\0', P::kNone, kTagTunNoCsum},
    {"tun-csum", '\0', P::kNone, kTagTunCsum},
    {"tun-remcsum", '\0', P::kNone, kTagTunRemCsum},
};

enum : int { kServiceNone = 0, kServiceAddr = 1, kServicePort = 2 };

std::string format(const char* fmt, const std::string& a) {
  std::string out;
  const char* p = std::strstr(fmt, "%s");
  out.append(fmt, p ? static_cast<size_t>(p - fmt) : std::strlen(fmt));
  if (p) {
    out += a;
    out += p + 2;
  }
  return out;
}

// strtol-based, as ipvsadm's string_to_number: leading blanks and a sign are
// accepted, trailing junk is not; -1 when out of [min, max].
long stringToNumber(const std::string& s, long min, long max) {
  errno = 0;
  char* end = nullptr;
  long n = std::strtol(s.c_str(), &end, 10);
  if (*end == '\0' && end != s.c_str() && errno != ERANGE && min <= n && n <= max) return n;
  return -1;
}

bool allDigits(const std::string& s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

class Parser {
 public:
  Parser(Context& ctx, Command& ce) : ctx_(ctx), ce_(ce) {}

  int parseTimeout(const std::optional<std::string>& buf, int min, int max) {
    if (!buf) return kDefaultPersistentTimeout;
    long v = stringToNumber(*buf, min, max);
    if (v == -1) ctx_.fail(2, format("invalid timeout value `%s' specified", *buf));
    return static_cast<int>(v);
  }

  uint32_t parseFwmark(const std::string& buf) {
    errno = 0;
    char* end = nullptr;
    unsigned long l = static_cast<unsigned long>(std::strtol(buf.c_str(), &end, 10));
    if (*end != '\0' || end == buf.c_str() || errno == ERANGE || l == 0 || l > UINT_MAX) {
      ctx_.fail(2, format("invalid fwmark value `%s' specified", buf));
    }
    return static_cast<uint32_t>(l);
  }

  // 1 if a mask was read.
  int parseNetmask(const std::string& buf, uint32_t& mask) {
    std::optional<IpAddress> a = inetAton(buf);
    if (!a) a = ctx_.resolver.hostAddress(buf);
    if (!a) return 0;
    std::memcpy(&mask, a->bytes().data(), 4);
    return 1;
  }

  // ipvsadm's parse_service, on a copy of `buf`; fills af/addr/port (and the
  // IPv6 netmask) of the spec whose protocol is `protocol`.
  int parseService(const std::string& input, uint16_t protocol, uint16_t& af,
                   std::array<uint8_t, 16>& addr, uint16_t& port, uint32_t* netmask) {
    if (allDigits(input)) return kServiceNone;
    std::string buf = input;
    std::optional<std::string> portText;
    if (!buf.empty() && buf[0] == '[') {
      auto close = buf.find(']', 1);
      if (close == std::string::npos) return kServiceNone;
      if (close + 1 >= buf.size() || buf[close + 1] != ':') return kServiceNone;
      portText = buf.substr(close + 2);
      buf = buf.substr(1, close - 1);
    }
    in6_addr a6{};
    if (inet_pton(AF_INET6, buf.c_str(), &a6) > 0) {
      addr.fill(0);
      std::memcpy(addr.data(), &a6, 16);
      af = kAfInet6;
      if (netmask) *netmask = 128;
    } else {
      // Not IPv6: the port (if any) follows the last ':'; a bracketed IPv4
      // address loses its port here, as in ipvsadm.
      portText.reset();
      if (auto colon = buf.rfind(':'); colon != std::string::npos) {
        portText = buf.substr(colon + 1);
        buf.resize(colon);
      }
      std::optional<IpAddress> a = inetAton(buf);
      if (!a) a = ctx_.resolver.hostAddress(buf);
      if (!a) return kServiceNone;
      addr.fill(0);
      std::memcpy(addr.data(), a->bytes().data(), 4);
      af = kAfInet;
    }
    int result = kServiceAddr;
    if (portText) {
      result |= kServicePort;
      long n = stringToNumber(*portText, 0, 65535);
      if (n != -1) {
        port = static_cast<uint16_t>(n);
      } else if (auto p = ctx_.resolver.servicePort(*portText, protocol)) {
        port = *p;
      } else {
        return kServiceNone;
      }
    }
    return result;
  }

  uint32_t parseSchedFlags(const std::string& schedName, const std::string& arg) {
    const std::string sched = schedName.empty() ? "wlc" : schedName;
    uint32_t flags = 0;
    size_t pos = 0;
    bool any = false;
    while (pos <= arg.size()) {
      // strtok: skip empty fields.
      size_t comma = arg.find(',', pos);
      std::string flag = arg.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
      pos = comma == std::string::npos ? arg.size() + 1 : comma + 1;
      if (flag.empty()) continue;
      any = true;
      if (flag == "flag-1") {
        flags |= 0x08;
      } else if (flag == "flag-2") {
        flags |= 0x10;
      } else if (flag == "flag-3") {
        flags |= 0x20;
      } else if (flag == "sh-fallback" || flag == "sh-port") {
        flags |= flag == "sh-port" ? 0x10 : 0x08;
        if (sched != "sh") ctx_.fail(2, format("incompatible scheduler flag `%s'", flag));
      } else if (flag == "mh-fallback" || flag == "mh-port") {
        flags |= flag == "mh-port" ? 0x10 : 0x08;
        if (sched != "mh") ctx_.fail(2, format("incompatible scheduler flag `%s'", flag));
      } else {
        ctx_.fail(2, format("invalid scheduler flag `%s'", flag));
      }
    }
    // ipvsadm dereferences a NULL token here and crashes; say something instead.
    if (!any) ctx_.fail(2, format("invalid scheduler flag `%s'", arg));
    return flags;
  }

  void setCommand(int cmd) {
    if (ce_.cmd != kCmdNone) ctx_.fail(2, "multiple commands specified");
    ce_.cmd = cmd;
  }

  void setOption(int optc) {
    if (ce_.options & bit(optc)) {
      ctx_.fail(2, format("multiple '%s' options specified", kOptionNames[optc]));
    }
    ce_.options |= bit(optc);
  }

  bool run(const std::vector<std::string>& argv) {
    Popt popt(argv, kOptions);
    const std::string& program = argv.empty() ? ctx_.program : argv[0];
    std::string schedFlagsArg;
    bool haveSchedFlags = false;

    int c = popt.next();
    if (c < 0) tryHelp(program);
    switch (c) {
      case 'A': setCommand(kCmdAdd); break;
      case 'E': setCommand(kCmdEdit); break;
      case 'D': setCommand(kCmdDel); break;
      case 'a': setCommand(kCmdAddDest); break;
      case 'e': setCommand(kCmdEditDest); break;
      case 'd': setCommand(kCmdDelDest); break;
      case 'C': setCommand(kCmdFlush); break;
      case 'L':
      case 'l': setCommand(kCmdList); break;
      case 'Z': setCommand(kCmdZero); break;
      case kTagSet: setCommand(kCmdTimeout); break;
      case 'R': setCommand(kCmdRestore); break;
      case 'S': setCommand(kCmdSave); break;
      case kTagStartDaemon:
      case kTagStopDaemon: {
        bool start = c == kTagStartDaemon;
        setCommand(start ? kCmdStartDaemon : kCmdStopDaemon);
        const std::string a = popt.arg().value_or("");
        if (a == "master") {
          ce_.daemon.state = 1;
        } else if (a == "backup") {
          ce_.daemon.state = 2;
        } else {
          ctx_.fail(2, start ? "illegal start-daemon parameter specified"
                             : "illegal start_daemon specified");
        }
        break;
      }
      case 'h': ctx_.usage(0);
      case 'v': ctx_.version(0);
      default: tryHelp(program);
    }

    while ((c = popt.next()) >= 0) {
      const std::optional<std::string>& optarg = popt.arg();
      const std::string arg = optarg.value_or("");
      switch (c) {
        case 't':
        case 'u':
        case kTagSctpService: {
          setOption(kOptService);
          ce_.svc.protocol = c == 't' ? IPPROTO_TCP : c == 'u' ? IPPROTO_UDP : IPPROTO_SCTP;
          int parse = parseService(arg, ce_.svc.protocol, ce_.svc.af, ce_.svc.addr, ce_.svc.port,
                                   &ce_.svc.netmask);
          if (!(parse & kServiceAddr)) ctx_.fail(2, "illegal virtual server address[:port] specified");
          break;
        }
        case 'f':
          setOption(kOptService);
          ce_.svc.af = kAfInet;
          ce_.svc.protocol = IPPROTO_TCP;
          ce_.svc.fwmark = parseFwmark(arg);
          break;
        case 's':
          setOption(kOptScheduler);
          ce_.svc.sched = arg.substr(0, 15);
          break;
        case 'p':
          setOption(kOptPersistent);
          ce_.svc.flags |= 0x0001;
          ce_.svc.timeout = static_cast<uint32_t>(parseTimeout(optarg, 1, kMaxTimeout));
          break;
        case 'M':
          setOption(kOptNetmask);
          if (ce_.svc.af != kAfInet6) {
            if (parseNetmask(arg, ce_.svc.netmask) != 1) {
              ctx_.fail(2, "illegal virtual server persistent mask specified");
            }
          } else {
            int m = std::atoi(arg.c_str());
            ce_.svc.netmask = static_cast<uint32_t>(m);
            if (m < 1 || m > 128) ctx_.fail(2, "illegal ipv6 netmask specified");
          }
          break;
        case 'r': {
          setOption(kOptServer);
          uint16_t af = ce_.svc.af;
          std::array<uint8_t, 16> addr = ce_.svc.addr;
          uint16_t port = ce_.svc.port;
          int parse = parseService(arg, ce_.svc.protocol, af, addr, port, nullptr);
          ce_.dest.af = af;
          ce_.dest.addr = addr;
          ce_.dest.port = port;
          if (!(parse & kServiceAddr)) ctx_.fail(2, "illegal real server address[:port] specified");
          if (parse == kServiceAddr) ce_.dest.port = ce_.svc.port;  // copy vport
          break;
        }
        case 'i':
          setOption(kOptForward);
          ce_.dest.connFlags = 2;
          break;
        case 'g':
          setOption(kOptForward);
          ce_.dest.connFlags = 3;
          break;
        case 'm':
          setOption(kOptForward);
          ce_.dest.connFlags = 0;
          break;
        case 'w': {
          setOption(kOptWeight);
          long w = stringToNumber(arg, 0, INT_MAX);
          ce_.dest.weight = static_cast<int>(w);
          if (w == -1) ctx_.fail(2, "illegal weight specified");
          break;
        }
        case 'x': {
          setOption(kOptUThreshold);
          long v = stringToNumber(arg, 0, INT_MAX);
          ce_.dest.upperThreshold = static_cast<uint32_t>(v);
          if (v == -1) ctx_.fail(2, "illegal u_threshold specified");
          break;
        }
        case 'y': {
          setOption(kOptLThreshold);
          long v = stringToNumber(arg, 0, INT_MAX);
          ce_.dest.lowerThreshold = static_cast<uint32_t>(v);
          if (v == -1) ctx_.fail(2, "illegal l_threshold specified");
          break;
        }
        case 'c':
          setOption(kOptConnection);
          break;
        case 'n':
          setOption(kOptNumeric);
          ce_.format |= kFmtNumeric;
          break;
        case kTagMcastInterface:
          setOption(kOptMcast);
          ce_.daemon.interface = arg.substr(0, 15);
          break;
        case 'I': {
          setOption(kOptSyncId);
          long v = stringToNumber(arg, 0, 255);
          ce_.daemon.syncId = static_cast<int>(v);
          if (v == -1) ctx_.fail(2, "illegal syncid specified");
          break;
        }
        case kTagTimeout:
          setOption(kOptTimeout);
          break;
        case kTagDaemon:
          setOption(kOptDaemon);
          break;
        case kTagStats:
          setOption(kOptStats);
          ce_.format |= kFmtStats;
          break;
        case kTagRate:
          setOption(kOptRate);
          ce_.format |= kFmtRate;
          break;
        case kTagThresholds:
          setOption(kOptThresholds);
          ce_.format |= kFmtThresholds;
          break;
        case kTagPersistentConn:
          setOption(kOptPersistentConn);
          ce_.format |= kFmtPersistentConn;
          break;
        case kTagNoSort:
          setOption(kOptNoSort);
          ce_.format |= kFmtNoSort;
          break;
        case kTagSort:
          break;  // the default; accepted for compatibility
        case 'X':
          setOption(kOptExact);
          ce_.format |= kFmtExact;
          break;
        case '6':
          if (ce_.svc.fwmark) {
            ce_.svc.af = kAfInet6;
            ce_.svc.netmask = 128;
          } else {
            ctx_.fail(2, "-6 used before -f\n");
          }
          break;
        case 'o':
          setOption(kOptOnePacket);
          ce_.svc.flags |= 0x0004;
          break;
        case kTagPe:
          setOption(kOptPe);
          ce_.svc.pe = arg.substr(0, 16);
          break;
        case 'b':
          setOption(kOptSchedFlags);
          schedFlagsArg = arg.substr(0, 127);
          haveSchedFlags = !schedFlagsArg.empty();
          break;
        case kTagMcastGroup: {
          setOption(kOptMcastGroup);
          if (arg.find(':') != std::string::npos) {
            in6_addr a{};
            if (inet_pton(AF_INET6, arg.c_str(), &a) <= 0 || !IN6_IS_ADDR_MULTICAST(&a)) {
              ctx_.fail(2, format("invalid IPv6 mcast-group `%s'", arg));
            }
            std::memcpy(ce_.daemon.group.data(), &a, 16);
            ce_.daemon.groupAf = kAfInet6;
          } else {
            in_addr a{};
            if (inet_pton(AF_INET, arg.c_str(), &a) <= 0 || !IN_MULTICAST(ntohl(a.s_addr))) {
              ctx_.fail(2, format("invalid IPv4 mcast-group `%s'", arg));
            }
            ce_.daemon.group.fill(0);
            std::memcpy(ce_.daemon.group.data(), &a, 4);
            ce_.daemon.groupAf = kAfInet;
          }
          break;
        }
        case kTagMcastPort: {
          setOption(kOptMcastPort);
          long v = stringToNumber(arg, 1, 65535);
          if (v == -1) ctx_.fail(2, "illegal mcast-port specified");
          ce_.daemon.port = static_cast<int>(v);
          break;
        }
        case kTagMcastTtl: {
          setOption(kOptMcastTtl);
          long v = stringToNumber(arg, 1, 255);
          if (v == -1) ctx_.fail(2, "illegal mcast-ttl specified");
          ce_.daemon.ttl = static_cast<int>(v);
          break;
        }
        case kTagSyncMaxlen: {
          setOption(kOptSyncMaxlen);
          long v = stringToNumber(arg, 1, 65535 - 20 - 8);
          if (v == -1) ctx_.fail(2, "illegal sync-maxlen specified");
          ce_.daemon.maxLen = static_cast<int>(v);
          break;
        }
        case kTagTunInfo:
          setOption(kOptTunInfo);
          ce_.format |= kFmtTunInfo;
          break;
        case kTagTunType: {
          setOption(kOptTunType);
          int t = arg == "ipip" ? 0 : arg == "gue" ? 1 : arg == "gre" ? 2 : -1;
          if (t == -1) ctx_.fail(2, "illegal tunnel type specified");
          ce_.dest.tunType = static_cast<uint8_t>(t);
          break;
        }
        case kTagTunPort: {
          setOption(kOptTunPort);
          long v = stringToNumber(arg, 1, 65535);
          if (v == -1) ctx_.fail(2, "illegal tunnel port specified");
          ce_.dest.tunPort = static_cast<uint16_t>(v);
          break;
        }
        case kTagTunNoCsum:
          setOption(kOptTunNoCsum);
          break;
        case kTagTunCsum:
          setOption(kOptTunCsum);
          ce_.dest.tunFlags |= 1;
          break;
        case kTagTunRemCsum:
          setOption(kOptTunRemCsum);
          ce_.dest.tunFlags |= 2;
          break;
        default:
          ctx_.fail(2, format("invalid option `%s'", popt.badOption()));
      }
    }

    if (c < -1) {
      ctx_.err() << popt.badOption() << ": " << poptStrerror(c) << '\n';
      return false;
    }

    if (ce_.cmd == kCmdTimeout) {
      auto a = popt.leftover();
      auto b = a ? popt.leftover() : std::nullopt;
      auto d = b ? popt.leftover() : std::nullopt;
      if (!a || !b || !d) ctx_.fail(2, "--set option requires 3 timeout values");
      ce_.timeout.tcp = parseTimeout(*a, 0, kMaxTimeout);
      ce_.timeout.tcpFin = parseTimeout(*b, 0, kMaxTimeout);
      ce_.timeout.udp = parseTimeout(*d, 0, kMaxTimeout);
    }

    if (auto extra = popt.leftover()) ctx_.fail(2, "unexpected argument " + *extra);

    if (haveSchedFlags) {
      ce_.svc.flags &= ~uint32_t{0x08 | 0x10 | 0x20};
      ce_.svc.flags |= parseSchedFlags(ce_.svc.sched, schedFlagsArg);
    }
    return true;
  }

  void genericOptCheck() {
    int i = ce_.cmd - 1;
    int count = 0, last = 0;
    for (int j = 0; j < kNumOptions; ++j) {
      char rule = kCommandsVsOptions[i][j];
      if (!(ce_.options & bit(j))) {
        if (rule == '+') {
          ctx_.fail(2, std::string("You need to supply the '") + kOptionNames[j] +
                           "' option for the '" + kCommandNames[i] + "' command");
        }
        continue;
      }
      if (rule == 'x') {
        ctx_.fail(2, std::string("Illegal '") + kOptionNames[j] + "' option with the '" +
                         kCommandNames[i] + "' command");
      }
      if (rule == '1') {
        if (++count == 1) {
          last = j;
          continue;
        }
        ctx_.fail(2, std::string("The option '") + kOptionNames[j] + "' conflicts with the '" +
                         kOptionNames[last] + "' option in the '" + kCommandNames[i] + "' command");
      }
    }
  }

  void tunnelOptCheck() {
    int i = ce_.dest.tunType;
    if (i > 2) return;
    int count = 0, last = 0;
    for (int j = 0; j < 4; ++j) {
      int k = kTunnelOptions[j];
      char rule = kTunnelsVsOptions[i][j];
      if (!(ce_.options & bit(k))) {
        if (rule == '+') {
          ctx_.fail(2, std::string("You need to supply the '") + kOptionNames[k] +
                           "' option for the '" + kTunnelNames[i] + "' tunnel type");
        }
        continue;
      }
      if (rule == 'x') {
        ctx_.fail(2, std::string("Illegal '") + kOptionNames[k] + "' option with the '" +
                         kTunnelNames[i] + "' tunnel type");
      }
      if (rule == '1') {
        if (++count == 1) {
          last = k;
          continue;
        }
        ctx_.fail(2, std::string("The option '") + kOptionNames[k] + "' conflicts with the '" +
                         kOptionNames[last] + "' option in the '" + kTunnelNames[i] +
                         "' tunnel type");
      }
    }
  }

  // process_options' checks between parsing and the kernel call.
  void check() {
    genericOptCheck();
    if (ce_.cmd == kCmdAdd || ce_.cmd == kCmdEdit) {
      if (!ce_.svc.fwmark && !ce_.svc.port && !(ce_.svc.flags & 0x0001)) {
        ctx_.fail(2, "Zero port specified for non-persistent service");
      }
      if ((ce_.svc.flags & 0x0004) && !ce_.svc.fwmark && ce_.svc.protocol != IPPROTO_UDP) {
        ctx_.fail(2, "One-Packet Scheduling is only for UDP virtual services");
      }
      if (ce_.svc.sched.empty()) ce_.svc.sched = "wlc";
    }
    if (ce_.cmd == kCmdStartDaemon && ce_.daemon.interface.empty()) ce_.daemon.interface = "eth0";
    uint32_t fwd = ce_.dest.connFlags & 0x7;
    if (ce_.cmd == kCmdAddDest || ce_.cmd == kCmdEditDest) {
      // Direct routing and tunnelling cannot change the port.
      if (!ce_.svc.fwmark && (fwd == 2 || fwd == 3)) ce_.dest.port = ce_.svc.port;
      if (ce_.dest.af != ce_.svc.af && fwd != 2) {
        ctx_.fail(2, "Different address family is allowed only for tunneling servers");
      }
      const uint64_t tunOpts = bit(kOptTunType) | bit(kOptTunPort) | bit(kOptTunNoCsum) |
                               bit(kOptTunCsum) | bit(kOptTunRemCsum);
      if ((ce_.options & tunOpts) && fwd != 2) {
        ctx_.fail(2, "Tunnel options conflict with forward method");
      }
      tunnelOptCheck();
    }
  }

 private:
  [[noreturn]] void tryHelp(const std::string& program) {
    ctx_.err() << "Try `" << program << " -h' or '" << program << " --help' for more information.\n";
    throw Exit{255};
  }

  Context& ctx_;
  Command& ce_;
};

}  // namespace

bool parseCommand(const std::vector<std::string>& argv, Context& ctx, Command& out) {
  out = Command{};
  Parser p(ctx, out);
  if (!p.run(argv)) return false;
  p.check();
  return true;
}

std::optional<std::vector<std::string>> readRestoreLine(LineSource& in, const std::string& program) {
  constexpr size_t kMaxToken = 4096;
  auto space = [](int c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  std::vector<std::string> argv{program};
  int ntoken = 0;
  for (;;) {
    int c = in.get();
    if (c == EOF) break;
    if (space(c)) {
      in.unget(c);
      for (;;) {
        c = in.get();
        if (c == EOF) return std::nullopt;  // a line ending in blanks at EOF is dropped
        if (c == '\n') return argv;
        if (c == ' ' || c == '\t' || c == '\r') continue;
        in.unget(c);
        break;
      }
      continue;
    }
    std::string token(1, static_cast<char>(c));
    int tail = EOF;
    bool gotTail = false;
    for (;;) {
      if (token.size() == kMaxToken) break;  // the rest is the next token
      c = in.get();
      if (c == EOF) break;
      if (space(c)) {
        tail = c;
        gotTail = true;
        break;
      }
      token.push_back(static_cast<char>(c));
    }
    if (token != "ipvsadm") {
      ++ntoken;
      argv.push_back(token);
    }
    if (gotTail && tail == '\n') return argv;
  }
  if (ntoken == 0) return std::nullopt;
  return argv;
}

}  // namespace lvsd::ipvsadm
