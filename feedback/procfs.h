#pragma once
// The /proc files lvs-agent samples, parsed from their text (pure), and a
// reader that fetches them (the thin I/O part). Field meanings follow
// procps vmstat(8) and proc(5):
//   r   = procs_running (/proc/stat)       b  = procs_blocked (/proc/stat)
//   w   = runnable processes swapped out: user processes in state R with no
//         resident pages (/proc/PID/stat); vmstat(8) notes Linux "never
//         desperation swaps", so this is nearly always 0
//   free = MemFree, and MemAvailable (/proc/meminfo)
//   so/si = pswpout/pswpin pages (/proc/vmstat) × page size per second
//   id/wa = idle/iowait share of the cpu line's jiffies (/proc/stat)
//   load = /proc/loadavg

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/result.h"

namespace lvsd::feedback {

struct CpuTimes {
  uint64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  // guest time is already part of user/nice (proc(5)), so it is not added.
  uint64_t total() const { return user + nice + system + idle + iowait + irq + softirq + steal; }
};

struct StatInfo {
  CpuTimes cpu;              // the aggregate "cpu" line
  uint32_t cpus = 0;         // number of "cpuN" lines
  uint64_t procsRunning = 0;
  uint64_t procsBlocked = 0;
};

struct MemInfo {
  uint64_t totalKb = 0;
  uint64_t freeKb = 0;
  uint64_t availableKb = 0;  // MemAvailable, or an estimate when the kernel lacks it
  bool hasAvailable = false;
  uint64_t buffersKb = 0;
  uint64_t cachedKb = 0;
  uint64_t swapTotalKb = 0;
  uint64_t swapFreeKb = 0;
};

struct VmStat {
  uint64_t pswpin = 0;   // pages
  uint64_t pswpout = 0;  // pages
};

struct LoadAvg {
  double load1 = 0, load5 = 0, load15 = 0;
  uint32_t runnable = 0, total = 0;
};

// One process's /proc/PID/stat, the fields `w` needs.
struct PidStat {
  char state = '?';
  int64_t rssPages = 0;
  uint64_t flags = 0;
};

Result<StatInfo> parseProcStat(std::string_view text);
Result<MemInfo> parseMeminfo(std::string_view text);
Result<VmStat> parseVmstat(std::string_view text);
Result<LoadAvg> parseLoadavg(std::string_view text);
Result<double> parseUptime(std::string_view text);  // seconds since boot
Result<PidStat> parsePidStat(std::string_view text);
// Runnable, no resident pages, not a kernel thread (PF_KTHREAD).
bool isSwappedRunnable(const PidStat& p);

// cgroup v2 files of one real server's cgroup (a real server that is a
// container, or the lab's real servers, which share one kernel).
struct CgroupMemory {
  uint64_t currentBytes = 0;             // memory.current
  std::optional<uint64_t> maxBytes;      // memory.max ("max" = none)
  uint64_t inactiveFileBytes = 0;        // memory.stat inactive_file: reclaimable
};
Result<std::optional<uint64_t>> parseCgroupMax(std::string_view text);  // memory.max
Result<uint64_t> parseCgroupCounter(std::string_view text);              // memory.current
Result<uint64_t> parseCgroupStatField(std::string_view text, std::string_view key);
// cpu.max: "QUOTA PERIOD" or "max PERIOD"; the CPUs the quota allows, or none.
Result<std::optional<double>> parseCgroupCpuMax(std::string_view text);

// Everything one sample needs, read at one instant.
struct Reading {
  TimePoint at{};
  double uptimeS = 0;
  StatInfo stat;
  MemInfo mem;
  VmStat vm;
  LoadAvg load;
  uint32_t swappedProcs = 0;
};

// Reads a Reading from a proc file system (the real one, or a directory
// laid out like it in tests).
//
// With a cgroup directory, memory and CPU are the cgroup's: MemTotal =
// memory.max (or the host's), MemAvailable = MemTotal − (memory.current −
// inactive_file), MemFree = MemTotal − memory.current; CPU idle = the part
// of the cgroup's CPU allowance (cpu.max, or every CPU) that cpu.stat's
// usage_usec did not use. r, b, swap and load stay the host's.
class ProcReader {
 public:
  explicit ProcReader(std::string root = "/proc", bool countSwapped = true,
                      std::string cgroup = "")
      : root_(std::move(root)), countSwapped_(countSwapped), cgroup_(std::move(cgroup)) {}
  Result<Reading> read(TimePoint at) const;

 private:
  Result<uint32_t> countSwapped() const;
  Status applyCgroup(Reading& r) const;
  std::string root_;
  bool countSwapped_;
  std::string cgroup_;
};

// Reads a whole small file (at most `limit` bytes; /proc files report size 0).
Result<std::string> readSmallFile(const std::string& path, size_t limit = 1 << 20);

}  // namespace lvsd::feedback
