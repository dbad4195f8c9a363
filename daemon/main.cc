// lvsd — the director daemon.
//   lvsd -f FILE [--config-test] [--plan] [--foreground] [--name NAME] [--socket PATH]
//        [--log-level LEVEL] [--log-format text|json] [--dry-run]
#include <fcntl.h>
#include <getopt.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "config/config.h"
#include "core/log.h"
#include "daemon/daemon.h"
#include "daemon/plan_preview.h"
#include "ipvs/ipvs.h"

using namespace lvsd;
using daemon::ExitCode;

namespace {

void usage(std::ostream& out) {
  out << "usage: lvsd [-f FILE] [-t|--config-test] [--foreground] [-n|--name NAME] [-s PATH]\n"
         "            [--log-level trace|debug|info|warn|error] [--log-format text|json]\n"
         "            [--dry-run]\n"
         "  -f, --config FILE   configuration (default /etc/lvsd/lvsd.conf)\n"
         "  -t, --config-test   validate FILE, print every error, exit 0 (valid) or 2\n"
         "  --plan              print the IPVS operations lvsd would apply to the kernel's\n"
         "                      table (every real server healthy) and exit; with --dry-run,\n"
         "                      against an empty table\n"
         "  --foreground        do not detach; log to stderr (for systemd and tests)\n"
         "  -n, --name NAME     this director's name in the config (default: host name)\n"
         "  -s, --socket PATH   control socket (default: config control.socket)\n"
         "  --dry-run           log planned IPVS operations instead of applying them\n";
}

// Detaches from the terminal: the classic double fork, stdio to /dev/null.
bool detach() {
  pid_t pid = fork();
  if (pid < 0) return false;
  if (pid > 0) _exit(0);
  setsid();
  pid = fork();
  if (pid < 0) return false;
  if (pid > 0) _exit(0);
  if (chdir("/") != 0) return false;
  int fd = open("/dev/null", O_RDWR);
  if (fd >= 0) {
    dup2(fd, 0);
    dup2(fd, 1);
    dup2(fd, 2);
    if (fd > 2) close(fd);
  }
  return true;
}

// lvsd --plan: the operations against the kernel's table (or, with
// --dry-run, an empty one), then exit. Reads only; changes nothing.
int printPlan(const lvsd::config::Config& cfg, bool dryRun) {
  ipvs::Table kernel;
  if (!dryRun) {
    auto backend = ipvs::makeNetlinkBackend();
    Result<ipvs::Table> table = backend ? ipvs::readTable(**backend)
                                        : Result<ipvs::Table>(std::move(backend).takeError());
    if (!table) {
      std::cerr << "lvsd: --plan: cannot read the kernel's IPVS table: " << table.error().message
                << " (add --dry-run to plan against an empty table)\n";
      return daemon::ExitCode::kExitStart;
    }
    kernel = std::move(*table);
  }
  auto ops = daemon::previewPlan(cfg, kernel);
  if (!ops) {
    std::cerr << "lvsd: --plan: " << ops.error().message << "\n";
    return daemon::ExitCode::kExitConfig;
  }
  std::cout << daemon::renderPreview(*ops, cfg, kernel);
  return daemon::ExitCode::kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  std::string configPath = "/etc/lvsd/lvsd.conf";
  std::string name;
  std::string socket;
  std::string level = "info";
  std::string format = "text";
  bool configTest = false, foreground = false, dryRun = false, planOnly = false;

  enum { kLogLevel = 1000, kLogFormat, kForeground, kDryRun, kPlan };
  static const option longopts[] = {
      {"config", required_argument, nullptr, 'f'},
      {"config-test", no_argument, nullptr, 't'},
      {"name", required_argument, nullptr, 'n'},
      {"socket", required_argument, nullptr, 's'},
      {"foreground", no_argument, nullptr, kForeground},
      {"log-level", required_argument, nullptr, kLogLevel},
      {"log-format", required_argument, nullptr, kLogFormat},
      {"dry-run", no_argument, nullptr, kDryRun},
      {"plan", no_argument, nullptr, kPlan},
      {"help", no_argument, nullptr, 'h'},
      {nullptr, 0, nullptr, 0},
  };
  int c;
  while ((c = getopt_long(argc, argv, "f:tn:s:h", longopts, nullptr)) != -1) {
    switch (c) {
      case 'f': configPath = optarg; break;
      case 't': configTest = true; break;
      case 'n': name = optarg; break;
      case 's': socket = optarg; break;
      case kForeground: foreground = true; break;
      case kLogLevel: level = optarg; break;
      case kLogFormat: format = optarg; break;
      case kDryRun: dryRun = true; break;
      case kPlan: planOnly = true; break;
      case 'h': usage(std::cout); return ExitCode::kExitOk;
      default: usage(std::cerr); return ExitCode::kExitUsage;
    }
  }
  if (optind != argc) {
    std::cerr << "lvsd: unexpected argument '" << argv[optind] << "'\n";
    usage(std::cerr);
    return ExitCode::kExitUsage;
  }

  auto loaded = config::loadFile(configPath);
  if (!loaded.ok()) {
    std::cerr << loaded.errorText();
    if (!configTest)
      std::cerr << "lvsd: " << loaded.errors.size() << " error(s) in " << configPath
                << "; not starting\n";
    return ExitCode::kExitConfig;
  }
  if (configTest) {
    if (!name.empty() && !config::findDirector(loaded.config->proto, name)) {
      std::cerr << configPath << ": director '" << name << "' is not defined\n";
      return ExitCode::kExitConfig;
    }
    std::cout << configPath << ": ok (digest " << loaded.config->digest.substr(0, 12) << ")\n";
    return ExitCode::kExitOk;
  }

  if (name.empty()) {
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    name = host;
  }
  if (!config::findDirector(loaded.config->proto, name)) {
    std::cerr << "lvsd: " << configPath << ": no director named '" << name
              << "' (use --name; defined:";
    for (const auto& d : loaded.config->proto.director()) std::cerr << " " << d.name();
    std::cerr << ")\n";
    return ExitCode::kExitIdentity;
  }

  if (planOnly) return printPlan(loaded.config->proto, dryRun);

  auto fmt = parseLogFormat(format);
  if (!fmt) {
    std::cerr << "lvsd: " << fmt.error().message << "\n";
    return ExitCode::kExitUsage;
  }
  if (!foreground && !detach()) {
    std::perror("lvsd: detach");
    return ExitCode::kExitStart;
  }
  if (auto s = setupLogging(level, *fmt, foreground ? LogTarget::kStderr : LogTarget::kSyslog);
      !s) {
    std::cerr << "lvsd: " << s.error().message << "\n";
    return ExitCode::kExitLogging;
  }
  daemon::Options opts{configPath, name, dryRun, socket};
  daemon::Daemon d(std::move(opts), loaded.config);
  return d.run();
}
