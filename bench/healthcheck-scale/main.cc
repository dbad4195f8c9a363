// healthcheck-scale: the pieces of the health-check scale benchmark that are
// programs (bench/healthcheck-scale/run drives them):
//
//   healthcheck-scale serve [--port P] [--stats-file F]
//       one small HTTP server on 0.0.0.0:P answering every address of its
//       namespace (tests/netns/healthcheck/test_server); with --stats-file,
//       rewrites "requests N connections M" there every second.
//   healthcheck-scale checks --servers N [--services K] [--interval-ms I]
//                            [--warmup-s W] [--seconds S]
//       lvsd's CheckManager with N real servers (10.200.x.y:80, K services)
//       and one HTTP check each, on one io_context; waits until every server
//       is up (at most W s), then measures its own CPU (getrusage) and RSS
//       over S s and prints "checks_cpu_pct=… rss_mb=… up=… attempts_per_s=…".
//   healthcheck-scale keepalived-conf --servers N [--services K] [--interval-ms I]
//       the same servers as keepalived.conf with HTTP_GET checks (stdout).
//   healthcheck-scale lvsd-conf --servers N [--services K] [--interval-ms I] [--reuse 0|1]
//       the same servers and checks as an lvsd config (stdout), for the real
//       daemon (the lab's keepalived comparison runs it against real IPVS).
//   healthcheck-scale addresses --servers N
//       `ip -batch` lines adding the N addresses to lo (stdout).
#include <sys/resource.h>
#include <unistd.h>

#include <google/protobuf/text_format.h>

#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <thread>

#include "core/clock.h"
#include "core/log.h"
#include "healthcheck/healthcheck.h"
#include "test_server.h"

namespace {

using namespace lvsd;

std::map<std::string, std::string> flags(int argc, char** argv) {
  std::map<std::string, std::string> f;
  for (int i = 2; i + 1 < argc; i += 2) f[argv[i]] = argv[i + 1];
  return f;
}

long flag(const std::map<std::string, std::string>& f, const char* name, long def) {
  auto it = f.find(name);
  return it == f.end() ? def : std::stol(it->second);
}

std::string address(long i) {
  return "10.200." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1);
}

double cpuSeconds(bool user = true, bool sys = true) {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  double u = static_cast<double>(ru.ru_utime.tv_sec) + static_cast<double>(ru.ru_utime.tv_usec) / 1e6;
  double k = static_cast<double>(ru.ru_stime.tv_sec) + static_cast<double>(ru.ru_stime.tv_usec) / 1e6;
  return (user ? u : 0) + (sys ? k : 0);
}

double rssMb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  return 0;
}

// N real servers in K services, one HTTP check each (the checks mode's and
// lvsd-conf's config).
config::Config benchConfig(const std::map<std::string, std::string>& f) {
  long n = flag(f, "--servers", 10000);
  long k = flag(f, "--services", 100);
  long interval = flag(f, "--interval-ms", 1000);
  config::Config cfg;
  auto* c = cfg.add_check();
  c->set_name("http");
  c->mutable_http()->set_path("/");
  c->mutable_http()->set_reuse_connection(flag(f, "--reuse", 1) != 0);
  c->set_interval_ms(static_cast<uint32_t>(interval));
  c->set_timeout_ms(3000);
  c->set_rise(1);
  c->set_fall(3);
  long perService = (n + k - 1) / k;
  for (long s = 0, i = 0; s < k && i < n; ++s) {
    auto* vs = cfg.add_virtual_service();
    vs->set_name("vs" + std::to_string(s));
    vs->set_address("192.0.2." + std::to_string(s % 250 + 1) + ":" + std::to_string(1000 + s));
    vs->add_check("http");
    for (long j = 0; j < perService && i < n; ++j, ++i)
      vs->add_real_server()->set_address(address(i) + ":80");
  }
  return cfg;
}

int checks(const std::map<std::string, std::string>& f) {
  long n = flag(f, "--servers", 10000);
  long interval = flag(f, "--interval-ms", 1000);
  long warmup = flag(f, "--warmup-s", 30);
  long seconds = flag(f, "--seconds", 30);
  (void)setupLogging("warn", LogFormat::kText);  // one line per transition would be 10,000 lines
  config::Config cfg = benchConfig(f);

  boost::asio::io_context io;
  uint64_t updates = 0;
  healthcheck::Callbacks cb;
  cb.onPool = [&](const healthcheck::ServicePool&) { ++updates; };
  healthcheck::CheckManager mgr(io, SystemClock::instance(), cb);
  if (auto s = mgr.start(cfg); !s) {
    std::cerr << "start: " << s.error().message << "\n";
    return 1;
  }
  auto upCount = [&] {
    uint64_t up = 0;
    for (const auto& p : mgr.pools()) up += p.upWeight;
    return up;
  };
  auto t0 = std::chrono::steady_clock::now();
  while (upCount() < static_cast<uint64_t>(n) &&
         std::chrono::steady_clock::now() - t0 < std::chrono::seconds(warmup))
    io.run_for(std::chrono::milliseconds(200));
  double warm = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  uint64_t up0 = upCount();
  // Let the start-up spread settle into steady state for one more interval.
  io.run_for(std::chrono::milliseconds(interval));

  auto a0 = mgr.counters().attempts;
  double c0 = cpuSeconds();
  double u0 = cpuSeconds(true, false);
  auto w0 = std::chrono::steady_clock::now();
  io.run_for(std::chrono::seconds(seconds));
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
  double cpu = cpuSeconds() - c0;
  double user = cpuSeconds(true, false) - u0;
  auto cnt = mgr.counters();
  double p50 = 0;
  {
    // Median attempt latency from the cumulative histogram.
    uint64_t half = cnt.latency.count / 2;
    for (size_t i = 0; i < std::size(healthcheck::LatencyHistogram::kBoundsSeconds); ++i)
      if (cnt.latency.buckets[i] >= half) {
        p50 = healthcheck::LatencyHistogram::kBoundsSeconds[i] * 1000;
        break;
      }
  }
  std::printf(
      "checks_cpu_pct=%.2f user_pct=%.2f sys_pct=%.2f rss_mb=%.1f servers=%ld up_at_start=%llu up=%llu all_up_after_s=%.1f "
      "attempts_per_s=%.0f failures=%llu timeouts=%llu latency_p50_le_ms=%.1f pool_updates=%llu\n",
      100.0 * cpu / wall, 100.0 * user / wall, 100.0 * (cpu - user) / wall, rssMb(), n, static_cast<unsigned long long>(up0),
      static_cast<unsigned long long>(upCount()), warm,
      static_cast<double>(cnt.attempts - a0) / wall, static_cast<unsigned long long>(cnt.failures),
      static_cast<unsigned long long>(cnt.timeouts), p50, static_cast<unsigned long long>(updates));
  mgr.stop();
  return upCount() == static_cast<uint64_t>(n) ? 0 : 3;
}

int keepalivedConf(const std::map<std::string, std::string>& f) {
  long n = flag(f, "--servers", 10000);
  long k = flag(f, "--services", 100);
  long interval = flag(f, "--interval-ms", 1000);
  long perService = (n + k - 1) / k;
  std::cout << "global_defs {\n  router_id hcbench\n}\n";
  for (long s = 0, i = 0; s < k && i < n; ++s) {
    std::cout << "virtual_server 192.0.2." << s % 250 + 1 << " " << 1000 + s << " {\n"
              << "  delay_loop " << std::max(1L, interval / 1000) << "\n  lb_algo wlc\n  lb_kind NAT\n"
              << "  protocol TCP\n";
    for (long j = 0; j < perService && i < n; ++j, ++i)
      std::cout << "  real_server " << address(i) << " 80 {\n    weight 1\n    HTTP_GET {\n"
                << "      url {\n        path /\n        status_code 200\n      }\n"
                << "      connect_timeout 3\n      retry 2\n    }\n  }\n";
    std::cout << "}\n";
  }
  return 0;
}

int lvsdConf(const std::map<std::string, std::string>& f) {
  config::Config cfg = benchConfig(f);
  cfg.add_director()->set_name("hc");
  // What the validator asks of a real config: a timeout below the interval,
  // and NAT for a virtual port (1000+) other than the servers' (80).
  auto* c = cfg.mutable_check(0);
  c->set_timeout_ms(std::min<uint32_t>(3000, c->interval_ms() * 9 / 10));
  for (auto& vs : *cfg.mutable_virtual_service()) vs.set_forwarding(config::NAT);
  std::string text;
  if (!google::protobuf::TextFormat::PrintToString(cfg, &text)) return 1;
  std::cout << text;
  return 0;
}

int addresses(const std::map<std::string, std::string>& f) {
  long n = flag(f, "--servers", 10000);
  for (long i = 0; i < n; ++i) std::cout << "address add " << address(i) << "/32 dev lo\n";
  return 0;
}

int serve(const std::map<std::string, std::string>& f) {
  lvsd::testing::TestServer s(/*ownThread=*/false);
  s.listenHttp("0.0.0.0", static_cast<uint16_t>(flag(f, "--port", 80)));
  std::thread stats;
  if (auto it = f.find("--stats-file"); it != f.end()) {
    // Counters for whoever measures checks per second (the lab benchmark).
    stats = std::thread([&s, path = it->second] {
      for (;;) {
        std::this_thread::sleep_for(std::chrono::seconds(1));
        std::ofstream(path + ".tmp") << "requests " << s.requests() << " connections " << s.connections() << "\n";
        std::rename((path + ".tmp").c_str(), path.c_str());
      }
    });
    stats.detach();
  }
  s.runHere();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  auto f = flags(argc, argv);
  if (mode == "checks") return checks(f);
  if (mode == "keepalived-conf") return keepalivedConf(f);
  if (mode == "lvsd-conf") return lvsdConf(f);
  if (mode == "addresses") return addresses(f);
  if (mode == "serve") return serve(f);
  std::cerr << "usage: healthcheck-scale serve|checks|keepalived-conf|lvsd-conf|addresses [--flag value]...\n";
  return 2;
}
