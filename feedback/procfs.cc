#include "feedback/procfs.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <memory>
#include <vector>

#include "core/address.h"

namespace lvsd::feedback {

namespace {

constexpr uint64_t kPfKthread = 0x00200000;  // include/linux/sched.h

std::vector<std::string_view> splitWords(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

template <typename Fn>
void forEachLine(std::string_view text, Fn fn) {
  while (!text.empty()) {
    size_t nl = text.find('\n');
    fn(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
}

Result<uint64_t> number(std::string_view word, std::string_view what) {
  auto v = parseUnsigned(word, UINT64_MAX);
  if (!v) return Error(std::string(what) + ": " + v.error().message);
  return *v;
}

Result<int64_t> signedNumber(std::string_view word, std::string_view what) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(word.data(), word.data() + word.size(), v);
  if (ec != std::errc() || p != word.data() + word.size() || word.empty())
    return Error(std::string(what) + ": not an integer: '" + std::string(word) + "'");
  return v;
}

Result<double> decimal(std::string_view word, std::string_view what) {
  double v = 0;
  auto [p, ec] = std::from_chars(word.data(), word.data() + word.size(), v);
  if (ec != std::errc() || p != word.data() + word.size() || word.empty() || !(v >= 0))
    return Error(std::string(what) + ": not a non-negative number: '" + std::string(word) + "'");
  return v;
}

bool startsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

}  // namespace

Result<StatInfo> parseProcStat(std::string_view text) {
  StatInfo s;
  bool haveCpu = false, haveRunning = false, haveBlocked = false;
  std::string err;
  forEachLine(text, [&](std::string_view line) {
    if (!err.empty()) return;
    auto w = splitWords(line);
    if (w.empty()) return;
    if (w[0] == "cpu") {
      // user nice system idle [iowait irq softirq [steal [guest [guest_nice]]]]
      if (w.size() < 5) {
        err = "/proc/stat: cpu line has " + std::to_string(w.size() - 1) + " fields, want >= 4";
        return;
      }
      uint64_t* dst[] = {&s.cpu.user,   &s.cpu.nice, &s.cpu.system,  &s.cpu.idle,
                         &s.cpu.iowait, &s.cpu.irq,  &s.cpu.softirq, &s.cpu.steal};
      for (size_t k = 0; k < 8 && k + 1 < w.size(); ++k) {
        auto v = number(w[k + 1], "/proc/stat cpu");
        if (!v) {
          err = v.error().message;
          return;
        }
        *dst[k] = *v;
      }
      haveCpu = true;
    } else if (startsWith(w[0], "cpu")) {
      ++s.cpus;
    } else if ((w[0] == "procs_running" || w[0] == "procs_blocked") && w.size() == 2) {
      auto v = number(w[1], "/proc/stat " + std::string(w[0]));
      if (!v) {
        err = v.error().message;
        return;
      }
      if (w[0] == "procs_running") {
        s.procsRunning = *v;
        haveRunning = true;
      } else {
        s.procsBlocked = *v;
        haveBlocked = true;
      }
    }
  });
  if (!err.empty()) return Error(err);
  if (!haveCpu) return Error("/proc/stat: no aggregate cpu line");
  if (!haveRunning || !haveBlocked) return Error("/proc/stat: procs_running/procs_blocked missing");
  if (s.cpus == 0) s.cpus = 1;
  return s;
}

Result<MemInfo> parseMeminfo(std::string_view text) {
  MemInfo m;
  bool haveTotal = false, haveFree = false;
  std::string err;
  forEachLine(text, [&](std::string_view line) {
    if (!err.empty()) return;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return;
    std::string_view key = line.substr(0, colon);
    uint64_t* dst = nullptr;
    if (key == "MemTotal") dst = &m.totalKb, haveTotal = true;
    else if (key == "MemFree") dst = &m.freeKb, haveFree = true;
    else if (key == "MemAvailable") dst = &m.availableKb, m.hasAvailable = true;
    else if (key == "Buffers") dst = &m.buffersKb;
    else if (key == "Cached") dst = &m.cachedKb;
    else if (key == "SwapTotal") dst = &m.swapTotalKb;
    else if (key == "SwapFree") dst = &m.swapFreeKb;
    if (!dst) return;
    auto w = splitWords(line.substr(colon + 1));
    if (w.empty() || w.size() > 2 || (w.size() == 2 && w[1] != "kB")) {
      err = "/proc/meminfo: malformed line '" + std::string(line) + "'";
      return;
    }
    auto v = number(w[0], "/proc/meminfo " + std::string(key));
    if (!v) {
      err = v.error().message;
      return;
    }
    *dst = *v;
  });
  if (!err.empty()) return Error(err);
  if (!haveTotal || !haveFree) return Error("/proc/meminfo: MemTotal/MemFree missing");
  // Kernels before 3.14 have no MemAvailable: free plus reclaimable caches
  // is the usual (optimistic) estimate.
  if (!m.hasAvailable) m.availableKb = m.freeKb + m.buffersKb + m.cachedKb;
  return m;
}

Result<VmStat> parseVmstat(std::string_view text) {
  VmStat v;
  int found = 0;
  std::string err;
  forEachLine(text, [&](std::string_view line) {
    if (!err.empty()) return;
    auto w = splitWords(line);
    if (w.size() != 2 || (w[0] != "pswpin" && w[0] != "pswpout")) return;
    auto n = number(w[1], "/proc/vmstat " + std::string(w[0]));
    if (!n) {
      err = n.error().message;
      return;
    }
    (w[0] == "pswpin" ? v.pswpin : v.pswpout) = *n;
    ++found;
  });
  if (!err.empty()) return Error(err);
  if (found != 2) return Error("/proc/vmstat: pswpin/pswpout missing");
  return v;
}

Result<LoadAvg> parseLoadavg(std::string_view text) {
  auto w = splitWords(text.substr(0, text.find('\n')));
  if (w.size() != 5) return Error("/proc/loadavg: want 5 fields, got " + std::to_string(w.size()));
  LoadAvg l;
  double* dst[] = {&l.load1, &l.load5, &l.load15};
  for (int i = 0; i < 3; ++i) {
    auto v = decimal(w[i], "/proc/loadavg");
    if (!v) return v.error();
    *dst[i] = *v;
  }
  size_t slash = w[3].find('/');
  if (slash == std::string_view::npos) return Error("/proc/loadavg: no runnable/total field");
  auto r = number(w[3].substr(0, slash), "/proc/loadavg runnable");
  auto t = number(w[3].substr(slash + 1), "/proc/loadavg total");
  if (!r) return r.error();
  if (!t) return t.error();
  l.runnable = static_cast<uint32_t>(*r);
  l.total = static_cast<uint32_t>(*t);
  return l;
}

Result<double> parseUptime(std::string_view text) {
  auto w = splitWords(text.substr(0, text.find('\n')));
  if (w.size() != 2) return Error("/proc/uptime: want 2 fields, got " + std::to_string(w.size()));
  return decimal(w[0], "/proc/uptime");
}

Result<PidStat> parsePidStat(std::string_view text) {
  // "PID (COMM) S ..."; COMM may hold spaces and parentheses: the last ')' ends it.
  size_t close = text.rfind(')');
  if (close == std::string_view::npos || text.find('(') == std::string_view::npos)
    return Error("stat: no (comm)");
  auto w = splitWords(text.substr(close + 1, text.find('\n', close) - close - 1));
  // w[0] = state (field 3), w[6] = flags (field 9), w[21] = rss (field 24)
  if (w.size() < 22) return Error("stat: " + std::to_string(w.size()) + " fields after comm, want >= 22");
  if (w[0].size() != 1) return Error("stat: bad state '" + std::string(w[0]) + "'");
  PidStat p;
  p.state = w[0][0];
  auto flags = number(w[6], "stat flags");
  if (!flags) return flags.error();
  auto rss = signedNumber(w[21], "stat rss");
  if (!rss) return rss.error();
  p.flags = *flags;
  p.rssPages = *rss;
  return p;
}

Result<std::optional<uint64_t>> parseCgroupMax(std::string_view text) {
  auto w = splitWords(text.substr(0, text.find('\n')));
  if (w.size() != 1) return Error("cgroup limit: want one value");
  if (w[0] == "max") return std::optional<uint64_t>();
  auto v = number(w[0], "cgroup limit");
  if (!v) return v.error();
  return std::optional<uint64_t>(*v);
}

Result<uint64_t> parseCgroupCounter(std::string_view text) {
  auto w = splitWords(text.substr(0, text.find('\n')));
  if (w.size() != 1) return Error("cgroup counter: want one value");
  return number(w[0], "cgroup counter");
}

Result<uint64_t> parseCgroupStatField(std::string_view text, std::string_view key) {
  std::optional<uint64_t> found;
  std::string err;
  forEachLine(text, [&](std::string_view line) {
    auto w = splitWords(line);
    if (w.size() != 2 || w[0] != key || found || !err.empty()) return;
    auto v = number(w[1], key);
    if (v) found = *v;
    else err = v.error().message;
  });
  if (!err.empty()) return Error(err);
  if (!found) return Error("cgroup stat: no " + std::string(key));
  return *found;
}

Result<std::optional<double>> parseCgroupCpuMax(std::string_view text) {
  auto w = splitWords(text.substr(0, text.find('\n')));
  if (w.size() != 2) return Error("cpu.max: want QUOTA PERIOD");
  auto period = number(w[1], "cpu.max period");
  if (!period) return period.error();
  if (*period == 0) return Error("cpu.max: period 0");
  if (w[0] == "max") return std::optional<double>();
  auto quota = number(w[0], "cpu.max quota");
  if (!quota) return quota.error();
  return std::optional<double>(static_cast<double>(*quota) / static_cast<double>(*period));
}

bool isSwappedRunnable(const PidStat& p) {
  return p.state == 'R' && p.rssPages == 0 && (p.flags & kPfKthread) == 0;
}

Result<std::string> readSmallFile(const std::string& path, size_t limit) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errnoError("open " + path, errno);
  std::string out;
  char buf[4096];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      return errnoError("read " + path, e);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > limit) {
      ::close(fd);
      return Error(path + ": larger than " + std::to_string(limit) + " bytes");
    }
  }
  ::close(fd);
  return out;
}

Result<uint32_t> ProcReader::countSwapped() const {
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(root_.c_str()), ::closedir);
  if (!dir) return errnoError("opendir " + root_, errno);
  uint32_t n = 0;
  while (dirent* e = ::readdir(dir.get())) {
    std::string_view name(e->d_name);
    if (name.empty() || name.find_first_not_of("0123456789") != std::string_view::npos) continue;
    // Processes come and go while we scan: a vanished one is simply skipped.
    auto text = readSmallFile(root_ + "/" + std::string(name) + "/stat", 4096);
    if (!text) continue;
    auto st = parsePidStat(*text);
    if (st && isSwappedRunnable(*st)) ++n;
  }
  return n;
}

namespace {
// Reads DIR/NAME and parses it into *out; the error names the file.
template <typename T, typename Parse>
Status readInto(const std::string& dir, const char* name, Parse parse, T* out) {
  auto text = readSmallFile(dir + "/" + name);
  if (!text) return text.error();
  auto v = parse(*text);
  if (!v) return v.error();
  *out = *v;
  return okStatus();
}
}  // namespace

Result<Reading> ProcReader::read(TimePoint at) const {
  Reading r;
  r.at = at;
  for (Status st : {readInto(root_, "stat", parseProcStat, &r.stat),
                    readInto(root_, "meminfo", parseMeminfo, &r.mem),
                    readInto(root_, "vmstat", parseVmstat, &r.vm),
                    readInto(root_, "loadavg", parseLoadavg, &r.load),
                    readInto(root_, "uptime", parseUptime, &r.uptimeS)})
    if (!st) return st.error();
  if (countSwapped_) {
    auto w = countSwapped();
    if (!w) return w.error();
    r.swappedProcs = *w;
  }
  if (!cgroup_.empty())
    if (auto st = applyCgroup(r); !st) return std::move(st).takeError().context("cgroup " + cgroup_);
  return r;
}

Status ProcReader::applyCgroup(Reading& r) const {
  uint64_t curBytes = 0, inactive = 0, usageUs = 0;
  std::optional<uint64_t> maxBytes;
  auto field = [](const char* key) {
    return [key](std::string_view t) { return parseCgroupStatField(t, key); };
  };
  for (Status st : {readInto(cgroup_, "memory.current", parseCgroupCounter, &curBytes),
                    readInto(cgroup_, "memory.max", parseCgroupMax, &maxBytes),
                    readInto(cgroup_, "memory.stat", field("inactive_file"), &inactive),
                    readInto(cgroup_, "cpu.stat", field("usage_usec"), &usageUs)})
    if (!st) return st;
  std::optional<double> quota;
  if (readSmallFile(cgroup_ + "/cpu.max")) {  // absent without the cpu controller: every CPU
    if (auto st = readInto(cgroup_, "cpu.max", parseCgroupCpuMax, &quota); !st) return st;
  }

  uint64_t totalKb = r.mem.totalKb;
  if (maxBytes) totalKb = std::min<uint64_t>(totalKb, *maxBytes / 1024);
  uint64_t curKb = curBytes / 1024;
  uint64_t usedKb = (curBytes - std::min(curBytes, inactive)) / 1024;
  r.mem.totalKb = totalKb;
  r.mem.freeKb = totalKb - std::min(totalKb, curKb);
  r.mem.availableKb = totalKb - std::min(totalKb, usedKb);
  r.mem.hasAvailable = true;

  // CPU as jiffy-like counters (microseconds): busy = the cgroup's usage,
  // idle = its allowance since boot minus that, so the sampler's deltas give
  // the unused share of the allowance over each interval.
  double cpus = quota ? *quota : static_cast<double>(r.stat.cpus);
  double allowanceUs = r.uptimeS * 1e6 * cpus;
  r.stat.cpu = CpuTimes{};
  r.stat.cpu.user = usageUs;
  r.stat.cpu.idle = allowanceUs > static_cast<double>(usageUs)
                        ? static_cast<uint64_t>(allowanceUs) - usageUs
                        : 0;
  r.stat.cpus = static_cast<uint32_t>(std::max(1.0, std::ceil(cpus)));
  return okStatus();
}

}  // namespace lvsd::feedback
