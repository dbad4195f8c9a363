// lvs-agent: reports a real server's load to lvsd (dynamic weights) and to
// HAProxy's agent-check. docs/dynamic-weights.md documents it; `--help`
// prints the command line.
//
// Privileges: the agent needs none. Started as root it binds its port, then
// drops to --user (default "nobody") with no supplementary groups, and
// refuses to run if that fails or if root could be regained. It never runs
// another program.
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "core/address.h"
#include "core/log.h"
#include "feedback/agent_protocol.h"
#include "feedback/agent_server.h"

namespace {

using namespace lvsd;
using namespace lvsd::feedback;

enum Exit { kOk = 0, kUsage = 1, kListen = 2, kPrivileges = 3, kLogging = 4, kSampling = 5 };

const char* kUsageText =
    "usage: lvs-agent [options]\n"
    "Reports this real server's load to lvsd (binary protocol) and to HAProxy\n"
    "agent-check (text: \"up ready 75%\", \"drain\", \"down\") on one TCP port.\n"
    "\n"
    "  --listen ADDR          address to listen on (default :: = all, IPv4 and IPv6)\n"
    "  --port N               TCP port (default 7411)\n"
    "  --samples N            readings per window, the first dropped (default 5)\n"
    "  --interval-ms MS       time between readings (default 5000)\n"
    "                         (the paper's scheme: 5 readings 5 s apart, mean of the last 4)\n"
    "  --history N            interval samples kept; the longest window a client\n"
    "                         may ask for (default 120)\n"
    "  --keep-first           also average the first reading (rates since boot)\n"
    "  --memory-share F       text protocol capacity = F x MemAvailable/MemTotal\n"
    "                         + (1-F) x CPU idle (default 0.7)\n"
    "  --state-file PATH      operator state: \"ready\", \"drain\" or \"down [reason]\";\n"
    "                         re-read every interval; missing = ready\n"
    "  --greeting-ms MS       wait this long for a request before answering text\n"
    "                         (default 300)\n"
    "  --timeout-ms MS        close any connection after this long (default 2000)\n"
    "  --max-connections N    concurrent connections (default 64; more are closed)\n"
    "  --user NAME|UID:GID    user to run as when started as root (default nobody)\n"
    "  --proc DIR             proc file system to read (default /proc)\n"
    "  --cgroup DIR           report this cgroup v2's memory and CPU (a container,\n"
    "                         or a real server sharing a kernel), e.g. /sys/fs/cgroup/web\n"
    "  --no-swapped-scan      do not scan /proc/PID/stat for `w` (reported as 0)\n"
    "  --once                 sample one window, print the report and exit\n"
    "  --log-level LEVEL      trace debug info warn error (default info)\n"
    "  --help\n";

struct Args {
  AgentOptions agent;
  AgentServerOptions server;
  std::string user = "nobody";
  std::string proc = "/proc";
  std::string cgroup;
  bool swappedScan = true;
  bool once = false;
  std::string logLevel = "info";
};

Result<uint64_t> num(const std::string& v, uint64_t lo, uint64_t hi, const std::string& opt) {
  auto n = parseUnsigned(v, hi);
  if (!n || *n < lo)
    return Error(opt + ": want an integer " + std::to_string(lo) + ".." + std::to_string(hi) +
                 ", got '" + v + "'");
  return *n;
}

Result<Args> parseArgs(int argc, char** argv) {
  Args a;
  std::vector<std::string> args(argv + 1, argv + argc);
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& opt = args[i];
    auto value = [&]() -> Result<std::string> {
      if (i + 1 >= args.size()) return Error(opt + ": missing value");
      return args[++i];
    };
    auto number = [&](uint64_t lo, uint64_t hi) -> Result<uint64_t> {
      auto v = value();
      if (!v) return v.error();
      return num(*v, lo, hi, opt);
    };
#define NUM(dst, lo, hi)                 \
  do {                                   \
    auto n = number(lo, hi);             \
    if (!n) return n.error();            \
    dst = static_cast<decltype(dst)>(*n); \
  } while (0)
#define STR(dst)              \
  do {                        \
    auto v = value();         \
    if (!v) return v.error(); \
    dst = *v;                 \
  } while (0)
    if (opt == "--listen") STR(a.server.listen);
    else if (opt == "--port") NUM(a.server.port, 0, 65535);
    else if (opt == "--samples") NUM(a.agent.samples, 1, 1000);
    else if (opt == "--interval-ms") NUM(a.agent.intervalMs, 100, 3600000);
    else if (opt == "--history") NUM(a.agent.historySamples, 1, 100000);
    else if (opt == "--keep-first") a.agent.keepFirst = true;
    else if (opt == "--memory-share") {
      auto v = value();
      if (!v) return v.error();
      char* end = nullptr;
      double f = std::strtod(v->c_str(), &end);
      if (v->empty() || *end || !(f >= 0 && f <= 1))
        return Error("--memory-share: want a number 0..1, got '" + *v + "'");
      a.agent.memoryShare = f;
    } else if (opt == "--state-file") STR(a.server.stateFile);
    else if (opt == "--greeting-ms") {
      uint64_t ms = 0;
      NUM(ms, 1, 60000);
      a.server.greetingWait = std::chrono::milliseconds(ms);
    } else if (opt == "--timeout-ms") {
      uint64_t ms = 0;
      NUM(ms, 10, 600000);
      a.server.connectionTimeout = std::chrono::milliseconds(ms);
    } else if (opt == "--max-connections") NUM(a.server.maxConnections, 1, 100000);
    else if (opt == "--user") STR(a.user);
    else if (opt == "--proc") STR(a.proc);
    else if (opt == "--cgroup") STR(a.cgroup);
    else if (opt == "--no-swapped-scan") a.swappedScan = false;
    else if (opt == "--once") a.once = true;
    else if (opt == "--log-level") STR(a.logLevel);
    else return Error("unknown option '" + opt + "' (see --help)");
#undef NUM
#undef STR
  }
  size_t window = samplesFor(a.agent.samples, a.agent.intervalMs, a.agent.intervalMs);
  if (window > a.agent.historySamples)
    return Error("--history " + std::to_string(a.agent.historySamples) +
                 " is shorter than the default window of " + std::to_string(window) + " samples");
  if (a.server.greetingWait >= a.server.connectionTimeout)
    return Error("--greeting-ms must be shorter than --timeout-ms");
  return a;
}

// Started as root: drop to `user` (a name, or UID:GID for systems without
// a user database) for good. Not root: nothing to do.
Status dropPrivileges(const std::string& user) {
  if (::geteuid() != 0) return okStatus();
  uid_t uid = 0;
  gid_t gid = 0;
  size_t colon = user.find(':');
  if (colon != std::string::npos) {
    auto u = parseUnsigned(std::string_view(user).substr(0, colon), 0xfffffffeu);
    auto g = parseUnsigned(std::string_view(user).substr(colon + 1), 0xfffffffeu);
    if (!u || !g) return Error("--user " + user + ": want NAME or UID:GID");
    uid = static_cast<uid_t>(*u);
    gid = static_cast<gid_t>(*g);
  } else {
    errno = 0;
    struct passwd* pw = ::getpwnam(user.c_str());
    if (!pw) return Error("user '" + user + "' not found (use --user UID:GID)", errno);
    uid = pw->pw_uid;
    gid = pw->pw_gid;
  }
  if (uid == 0) return Error("refusing to run as root (--user " + user + ")");
  if (::setgroups(0, nullptr) != 0) return errnoError("setgroups", errno);
  if (::setgid(gid) != 0) return errnoError("setgid", errno);
  if (::setuid(uid) != 0) return errnoError("setuid", errno);
  if (::setuid(0) == 0 || ::geteuid() == 0) return Error("could regain root after dropping it");
  return okStatus();
}

void printReport(const agent::AgentReport& r) {
  std::printf("state=%s valid=%d window=%u samples/%u ms reason=%s\n",
              agent::ServerState_Name(r.state()).c_str(), r.valid() ? 1 : 0, r.window_samples(),
              r.window_ms(), r.reason().c_str());
  std::printf("r=%.2f b=%.2f w=%.2f free=%.0f so=%.1f id=%.1f avail=%.0f si=%.1f wa=%.1f\n",
              r.run_queue(), r.blocked(), r.swapped(), r.free_kb(), r.swap_out_kb_s(),
              r.cpu_idle_pct(), r.mem_available_kb(), r.swap_in_kb_s(), r.cpu_iowait_pct());
  std::printf("load=%.2f,%.2f,%.2f total=%llu kB cpus=%u capacity=%u%%\n", r.load1(), r.load5(),
              r.load15(), static_cast<unsigned long long>(r.mem_total_kb()), r.cpus(),
              r.capacity_pct());
  std::printf("text: %s", formatTextAnswer(r).c_str());
}

std::string hostName() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "";
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      std::fputs(kUsageText, stdout);
      return kOk;
    }
  auto args = parseArgs(argc, argv);
  if (!args) {
    std::fprintf(stderr, "lvs-agent: %s\n", args.error().message.c_str());
    return kUsage;
  }
  if (auto s = setupLogging(args->logLevel, LogFormat::kText); !s) {
    std::fprintf(stderr, "lvs-agent: %s\n", s.error().message.c_str());
    return kLogging;
  }
  auto log = logger("agent");
  std::signal(SIGPIPE, SIG_IGN);

  boost::asio::io_context io;
  double pageKb = static_cast<double>(::sysconf(_SC_PAGESIZE)) / 1024.0;
  AgentCore core(args->agent, pageKb, hostName());
  ProcReader proc(args->proc, args->swappedScan, args->cgroup);
  AgentServer server(io, SystemClock::instance(), core, proc, args->server);

  if (!args->once) {
    if (auto s = server.listen(); !s) {
      log->critical("{}", s.error().message);
      return kListen;
    }
  }
  if (auto s = dropPrivileges(args->user); !s) {
    log->critical("dropping privileges: {}", s.error().message);
    return kPrivileges;
  }

  if (args->once) {
    // The paper's window: `samples` readings `interval` apart.
    const auto& o = args->agent;
    auto first = proc.read(SystemClock::instance().now());
    if (!first) {
      log->critical("{}", first.error().message);
      return kSampling;
    }
    core.addReading(*first);
    uint32_t readings = o.samples - 1;  // after the first
    boost::asio::steady_timer t(io);
    std::function<void(uint32_t)> next = [&](uint32_t left) {
      if (left == 0) return;
      t.expires_after(std::chrono::milliseconds(o.intervalMs));
      t.async_wait([&, left](const boost::system::error_code& ec) {
        if (ec) return;
        auto r = proc.read(SystemClock::instance().now());
        if (r) core.addReading(*r);
        next(left - 1);
      });
    };
    next(std::max<uint32_t>(readings, 1));
    io.run();
    printReport(core.report(nullptr, SystemClock::instance().now()));
    return kOk;
  }

  boost::asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    log->info("{}: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    server.stop();
    io.stop();
  });
  server.start();
  log->info("listening on port {} (uid {}), window {} x {} ms, first dropped: {}", server.port(),
            ::getuid(), args->agent.samples, args->agent.intervalMs, !args->agent.keepFirst);
  io.run();
  const auto& c = server.counters();
  log->info("stopped: connections={} binary={} text={} malformed={} oversized={} slow={} rejected={}",
            c.connections, c.binaryAnswers, c.textAnswers, c.malformed, c.oversized, c.slow,
            c.rejected);
  return kOk;
}
