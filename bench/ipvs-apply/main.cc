// ipvs-apply: the IPVS programming benchmark's guest-side tool (run inside the
// lab by lab/scenarios/ipvs-apply.sh; bench/ipvs-apply/run drives it).
//
//   ipvs-apply load [--services N] [--servers M]
//       program the generated table with lvsd's reconciler (read the kernel,
//       plan, one pipelined batch) and print what it did
//   ipvs-apply restore-file [--services N] [--servers M]
//       the same table as `ipvsadm -R` input, on stdout
//   ipvs-apply weight [--services N] [--servers M] [--rounds R]
//       with the table loaded: change one weight R times through the
//       reconciler's cache and print the latency of each change
//   ipvs-apply time CMD [ARGS...]
//       run CMD (stdin inherited) and print its wall time: elapsed_s=S status=N
//   ipvs-apply apply CONFIG
//       reconcile the services of an lvsd config file into the kernel (all real
//       servers up) and print the operations; for lab scenarios

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "config/config.h"
#include "ipvs/from_config.h"
#include "ipvs/ipvs.h"

extern char** environ;

namespace {

using lvsd::Endpoint;
using lvsd::IpAddress;
using lvsd::Result;
using namespace lvsd::ipvs;
using Clock = std::chrono::steady_clock;

struct Shape {
  int services = 1000;
  int servers = 10;
  int rounds = 50;
};

IpAddress vip(int i) { return IpAddress::v4(0x0a640000u + static_cast<uint32_t>(i / 250) * 256 + 1 + i % 250); }
IpAddress rip(int i, int j) {
  return IpAddress::v4(0x0ac80000u + static_cast<uint32_t>(i / 20) * 256 + 1 + (i % 20) * 10 + j);
}

Table generate(const Shape& s) {
  Table t;
  t.reserve(static_cast<size_t>(s.services));
  for (int i = 0; i < s.services; ++i) {
    VirtualServer vs;
    vs.service.key = ServiceKey::inet(Protocol::kTcp, Endpoint(vip(i), 80));
    vs.service.scheduler = "wlc";
    for (int j = 0; j < s.servers; ++j) {
      Destination d;
      d.address = rip(i, j);
      d.port = 80;
      d.forwarding = Forwarding::kRoute;
      d.weight = static_cast<uint32_t>(j + 1);
      vs.destinations.push_back(d);
    }
    t.push_back(std::move(vs));
  }
  return t;
}

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

int usage() {
  std::cerr << "usage: ipvs-apply load|restore-file|weight [--services N] [--servers M] [--rounds R]\n"
               "       ipvs-apply time CMD [ARGS...]\n"
               "       ipvs-apply apply CONFIG\n";
  return 2;
}

std::unique_ptr<IpvsBackend> backendOrDie() {
  auto b = makeNetlinkBackend();
  if (!b) {
    std::cerr << "ipvs-apply: " << b.error().what() << "\n";
    std::exit(1);
  }
  return std::move(*b);
}

int report(const Result<ReconcileReport>& r, Clock::duration took) {
  if (!r) {
    std::cerr << "ipvs-apply: " << r.error().what() << "\n";
    return 1;
  }
  for (const auto& e : r->errors) std::cerr << "ipvs-apply: " << e.error.what() << "\n";
  std::printf("ops=%zu errors=%zu refreshed=%d apply_s=%.4f\n", r->ops.size(), r->errors.size(),
              r->refreshed ? 1 : 0, seconds(took));
  return r->errors.empty() ? 0 : 1;
}

int load(const Shape& s) {
  auto t0 = Clock::now();
  auto backend = backendOrDie();
  Reconciler rec(*backend, {});
  auto r = rec.apply(generate(s));
  return report(r, Clock::now() - t0);
}

int restoreFile(const Shape& s) {
  std::string out;
  for (const auto& vs : generate(s)) {
    std::string svc = Endpoint(vs.service.key.address, vs.service.key.port).toString();
    out += "-A -t " + svc + " -s " + vs.service.scheduler + "\n";
    for (const auto& d : vs.destinations) {
      out += "-a -t " + svc + " -r " + d.endpoint().toString() + " -g -w " + std::to_string(d.weight) + "\n";
    }
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

int weight(const Shape& s) {
  auto backend = backendOrDie();
  Reconciler rec(*backend, {});
  Table t = generate(s);
  auto first = rec.apply(t);
  if (!first || !first->errors.empty()) return report(first, {});
  std::vector<double> ms, planMs, kernelMs;
  for (int r = 0; r < s.rounds; ++r) {
    // A different service each round, alternating the weight.
    auto& d = t[static_cast<size_t>((r * 37) % s.services)].destinations[0];
    d.weight = d.weight == 1 ? 100 : 1;
    // Where the time goes: planning alone (against the cache), then the
    // whole change (plan + one netlink request + cache update).
    auto p0 = Clock::now();
    auto preview = rec.preview(t);
    planMs.push_back(seconds(Clock::now() - p0) * 1000);
    auto t0 = Clock::now();
    auto rep = rec.apply(t);
    auto took = Clock::now() - t0;
    if (!preview || preview->size() != 1 || !rep || rep->ops.size() != 1 || !rep->errors.empty() ||
        rep->refreshed) {
      std::cerr << "ipvs-apply: a weight change was not exactly one edit\n";
      return report(rep, took);
    }
    ms.push_back(seconds(took) * 1000);
    // The same request straight to the backend (no planning): the kernel's part.
    auto k0 = Clock::now();
    auto again = backend->apply(rep->ops);
    kernelMs.push_back(seconds(Clock::now() - k0) * 1000);
    if (!again.ok()) {
      std::cerr << "ipvs-apply: " << again.errors[0].error.what() << "\n";
      return 1;
    }
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::printf(
      "weight_rounds=%zu weight_median_ms=%.3f weight_max_ms=%.3f plan_median_ms=%.3f "
      "netlink_median_ms=%.3f ops_per_change=1\n",
      ms.size(), median(ms), *std::max_element(ms.begin(), ms.end()), median(planMs),
      median(kernelMs));
  // The kernel agrees with the cache.
  auto now = readTable(*backend);
  if (!now || plan(t, *now, {}).size() != 0) {
    std::cerr << "ipvs-apply: kernel table differs from the desired one\n";
    return 1;
  }
  return 0;
}

int timeCommand(char** argv) {
  auto t0 = Clock::now();
  pid_t pid;
  if (int e = posix_spawnp(&pid, argv[0], nullptr, nullptr, argv, environ); e != 0) {
    std::cerr << "ipvs-apply: " << argv[0] << ": " << std::strerror(e) << "\n";
    return 127;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  double s = seconds(Clock::now() - t0);
  int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  std::fprintf(stderr, "elapsed_s=%.4f status=%d\n", s, rc);
  return rc;
}

int applyConfig(const std::string& path) {
  auto loaded = lvsd::config::loadFile(path);
  if (!loaded.ok()) {
    std::cerr << loaded.errorText();
    return 2;
  }
  auto table = tableFromConfig(loaded.config->proto);
  if (!table) {
    std::cerr << "ipvs-apply: " << table.error().what() << "\n";
    return 2;
  }
  auto t0 = Clock::now();
  auto backend = backendOrDie();
  Reconciler rec(*backend, ownershipFromConfig(loaded.config->proto));
  auto r = rec.apply(*table);
  if (r) {
    for (const auto& op : r->ops) std::printf("op %s\n", op.toString().c_str());
  }
  return report(r, Clock::now() - t0);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  std::string cmd = argv[1];
  if (cmd == "time") {
    if (argc < 3) return usage();
    return timeCommand(argv + 2);
  }
  if (cmd == "apply") {
    if (argc != 3) return usage();
    return applyConfig(argv[2]);
  }
  Shape s;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) return usage();
    int v = std::atoi(argv[++i]);
    if (v <= 0) return usage();
    if (a == "--services") {
      s.services = v;
    } else if (a == "--servers") {
      s.servers = v;
    } else if (a == "--rounds") {
      s.rounds = v;
    } else {
      return usage();
    }
  }
  if (s.services > 50000 || s.servers > 10) {
    std::cerr << "ipvs-apply: at most 50000 services x 10 servers\n";
    return 2;
  }
  if (cmd == "load") return load(s);
  if (cmd == "restore-file") return restoreFile(s);
  if (cmd == "weight") return weight(s);
  return usage();
}
