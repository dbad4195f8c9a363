#include "daemon/privileges.h"

#include <linux/capability.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <thread>

#include "core/address.h"

namespace lvsd::daemon::privileges {

namespace {

constexpr const char* kNames[] = {
    "cap_chown",           "cap_dac_override",   "cap_dac_read_search", "cap_fowner",
    "cap_fsetid",          "cap_kill",           "cap_setgid",          "cap_setuid",
    "cap_setpcap",         "cap_linux_immutable", "cap_net_bind_service", "cap_net_broadcast",
    "cap_net_admin",       "cap_net_raw",        "cap_ipc_lock",        "cap_ipc_owner",
    "cap_sys_module",      "cap_sys_rawio",      "cap_sys_chroot",      "cap_sys_ptrace",
    "cap_sys_pacct",       "cap_sys_admin",      "cap_sys_boot",        "cap_sys_nice",
    "cap_sys_resource",    "cap_sys_time",       "cap_sys_tty_config",  "cap_mknod",
    "cap_lease",           "cap_audit_write",    "cap_audit_control",   "cap_setfcap",
    "cap_mac_override",    "cap_mac_admin",      "cap_syslog",          "cap_wake_alarm",
    "cap_block_suspend",   "cap_audit_read",     "cap_perfmon",         "cap_bpf",
    "cap_checkpoint_restore"};

// What every thread does; set before the broadcast, read in handlers.
struct Plan {
  uint64_t keep = 0;
  int lastCap = 0;
  bool bounding = false;
  bool noNewPrivs = false;
};
Plan gPlan;
std::atomic<int> gDone{0};
std::atomic<int> gError{0};  // the first errno a thread met

// System calls only: runs in signal handlers.
int applyToThisThread(const Plan& p) {
  if (p.bounding)
    for (int c = 0; c <= p.lastCap; ++c)
      if (!((p.keep >> c) & 1) && ::syscall(SYS_prctl, PR_CAPBSET_READ, c, 0, 0, 0) == 1 &&
          ::syscall(SYS_prctl, PR_CAPBSET_DROP, c, 0, 0, 0) != 0)
        return errno;
  // Kernels before 4.3 have no ambient set (EINVAL): nothing to clear.
  if (::syscall(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
    return errno;
  __user_cap_header_struct h{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct d[2] = {};
  d[0].effective = d[0].permitted = static_cast<uint32_t>(p.keep);
  d[1].effective = d[1].permitted = static_cast<uint32_t>(p.keep >> 32);
  if (::syscall(SYS_capset, &h, d) != 0) return errno;
  if (p.noNewPrivs && ::syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return errno;
  return 0;
}

void onSignal(int) {
  int saved = errno;
  if (int e = applyToThisThread(gPlan)) {
    int none = 0;
    gError.compare_exchange_strong(none, e);
  }
  gDone.fetch_add(1);
  errno = saved;
}

// The calling thread's permitted and effective sets.
Result<std::pair<uint64_t, uint64_t>> current() {
  __user_cap_header_struct h{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct d[2] = {};
  if (::syscall(SYS_capget, &h, d) != 0) return errnoError("capget", errno);
  uint64_t perm = d[0].permitted | (uint64_t(d[1].permitted) << 32);
  uint64_t eff = d[0].effective | (uint64_t(d[1].effective) << 32);
  return std::make_pair(perm, eff);
}

int lastCap() {
  std::ifstream in("/proc/sys/kernel/cap_last_cap");
  int n = 0;
  if (in >> n && n > 0 && n < 64) return n;
  return CAP_LAST_CAP;
}

std::set<pid_t> threads() {
  std::set<pid_t> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/task", ec))
    out.insert(static_cast<pid_t>(std::atoi(e.path().filename().c_str())));
  return out;
}

// A thread's status line ("CapEff:\t0000000000003000") as a mask.
std::optional<uint64_t> statusMask(pid_t tid, const std::string& key) {
  std::ifstream in("/proc/self/task/" + std::to_string(tid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key + ":", 0) == 0) return std::stoull(line.substr(key.size() + 1), nullptr, 16);
  return std::nullopt;
}

}  // namespace

std::string capName(int cap) {
  if (cap >= 0 && cap < static_cast<int>(std::size(kNames))) return kNames[cap];
  return "cap_" + std::to_string(cap);
}

std::string capNames(uint64_t mask) {
  std::string out;
  for (int c = 0; c < 64; ++c)
    if ((mask >> c) & 1) out += (out.empty() ? "" : ",") + capName(c);
  return out.empty() ? "none" : out;
}

std::vector<Need> needed(const config::Config& c) {
  std::vector<Need> out = {
      {CAP_NET_ADMIN, "IPVS over netlink, VIP addresses, kernel sync daemons"},
      {CAP_NET_RAW,
       "ARP/NA announcements, heartbeat raw sockets bound to their links, ICMP checks opened per attempt"},
  };
  if (c.heartbeat().realtime_priority() > 0)
    out.push_back({CAP_SYS_NICE,
                   "heartbeat.realtime_priority: the heartbeat thread raises itself to SCHED_FIFO "
                   "as it starts, which may be after the drop"});
  std::vector<std::string> low;
  if (c.has_metrics() && !c.metrics().listen().empty())
    if (auto ep = Endpoint::parse(c.metrics().listen()); ep && ep->port() > 0 && ep->port() < 1024)
      low.push_back("metrics.listen port " + std::to_string(ep->port()));
  const auto& pc = c.sync().peer_channel();
  if (pc.enabled() && pc.port() > 0 && pc.port() < 1024)
    low.push_back("sync.peer_channel port " + std::to_string(pc.port()));
  if (!low.empty()) {
    std::string why;
    for (const auto& l : low) why += (why.empty() ? "" : ", ") + l;
    out.push_back({CAP_NET_BIND_SERVICE, why + " (below 1024; a reload may bind it again)"});
  }
  return out;
}

uint64_t maskOf(const std::vector<Need>& needs) {
  uint64_t m = 0;
  for (const auto& n : needs) m |= uint64_t(1) << n.cap;
  return m;
}

Result<Report> drop(uint64_t keep, bool noNewPrivs) {
  Report r;
  auto cur = current();
  if (!cur) return std::move(cur).takeError();
  auto [perm, eff] = *cur;
  if (perm == 0) return r;  // not privileged: nothing to give up
  r.held = true;
  Plan p;
  p.keep = keep & perm;
  p.lastCap = lastCap();
  p.bounding = (eff >> CAP_SETPCAP) & 1;  // PR_CAPBSET_DROP needs it
  p.noNewPrivs = noNewPrivs;
  gPlan = p;
  gDone = 0;
  gError = 0;

  // SA_RESTART: interrupted reads and writes resume; the calls that never
  // restart (poll, epoll_wait, timed receives) are retried on EINTR by
  // their callers (asio, the netlink client).
  const int sig = SIGRTMIN + 4;
  struct sigaction sa{};
  sa.sa_handler = onSignal;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  if (::sigaction(sig, &sa, nullptr) != 0) return errnoError("sigaction", errno);

  const pid_t self = static_cast<pid_t>(::syscall(SYS_gettid));
  const pid_t pid = ::getpid();
  std::set<pid_t> handled{self};
  int sent = 0;
  // Threads started while we broadcast inherit from an unchanged thread:
  // repeat until a listing shows no thread we have not signalled.
  for (int round = 0; round < 10; ++round) {
    bool fresh = false;
    for (pid_t tid : threads()) {
      if (handled.count(tid)) continue;
      handled.insert(tid);
      fresh = true;
      if (::syscall(SYS_tgkill, pid, tid, sig) == 0) ++sent;  // ESRCH: it just exited
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (gDone.load() < sent && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (!fresh) break;
  }
  if (int e = applyToThisThread(p)) return errnoError("capabilities of the main thread", e);
  if (int e = gError.load()) return errnoError("capabilities of a worker thread", e);

  // Every thread, as the kernel reports it.
  for (pid_t tid : threads()) {
    auto e = statusMask(tid, "CapEff"), pm = statusMask(tid, "CapPrm"), b = statusMask(tid, "CapBnd");
    if (!e || !pm || !b) continue;  // exited meanwhile
    if (*e != p.keep || *pm != p.keep)
      return Error("thread " + std::to_string(tid) + " still holds " + capNames(*pm & ~p.keep) +
                   " (did not handle signal " + std::to_string(sig) + ")");
    if (p.bounding && (*b & ~p.keep) != 0)
      return Error("thread " + std::to_string(tid) + " bounding set still holds " +
                   capNames(*b & ~p.keep));
    r.boundingAfter = *b;
  }
  r.kept = p.keep;
  r.dropped = perm & ~p.keep;
  r.bounding = p.bounding;
  r.noNewPrivs = noNewPrivs;
  r.threads = static_cast<size_t>(sent) + 1;
  return r;
}

}  // namespace lvsd::daemon::privileges
