#pragma once
// Helpers for the heartbeat netns tests: namespaces with unique names that
// are always deleted, processes started inside them, the control socket,
// and small readers of `ip` output. Everything stays inside the test's own
// namespaces; nothing touches the host's interfaces.

#include <arpa/inet.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "proto/control.pb.h"

extern char** environ;

namespace lvsd::netns {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

inline int64_t wallMs() {
  return std::chrono::duration_cast<milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Runs a shell command; throws (failing the test) on a non-zero exit unless
// `check` is false. Returns its output (stdout and stderr).
inline std::string sh(const std::string& cmd, bool check = true, int* status = nullptr) {
  std::string out;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) throw std::runtime_error("popen failed: " + cmd);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  int st = ::pclose(p);
  int code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  if (status) *status = code;
  if (check && code != 0)
    throw std::runtime_error("command failed (" + std::to_string(code) + "): " + cmd + "\n" + out);
  return out;
}

// Polls `pred` every `step` until it holds or `limit` passes.
inline bool waitFor(const std::function<bool()>& pred, milliseconds limit,
                    milliseconds step = milliseconds(5)) {
  auto end = Clock::now() + limit;
  while (Clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(step);
  }
  return pred();
}

// A unique prefix per test process and test, so parallel runs and leftovers
// of a crashed run never collide.
inline std::string uniquePrefix(const std::string& tag) {
  static int counter = 0;
  return "lvhb" + std::to_string(::getpid() % 100000) + "-" + std::to_string(++counter) + tag;
}

class Netns {
 public:
  explicit Netns(std::string name) : name_(std::move(name)) {
    sh("ip netns del " + name_, false);
    sh("ip netns add " + name_);
    sh("ip -n " + name_ + " link set lo up");
  }
  ~Netns() { sh("ip netns del " + name_, false); }
  Netns(const Netns&) = delete;
  Netns& operator=(const Netns&) = delete;
  const std::string& name() const { return name_; }
  std::string exec(const std::string& cmd, bool check = true) const {
    return sh("ip netns exec " + name_ + " " + cmd, check);
  }
  std::string ip(const std::string& args, bool check = true) const {
    return sh("ip -n " + name_ + " " + args, check);
  }
  std::string mac(const std::string& dev) const {
    std::string m = exec("cat /sys/class/net/" + dev + "/address");
    while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
    return m;
  }
  bool hasAddress(const std::string& addr) const {
    return ip("-o addr show").find(" " + addr + "/") != std::string::npos;
  }
  // The neighbour entry's link-layer address for `addr`, or "".
  std::string neighbour(const std::string& addr, const std::string& dev = "eth0") const {
    std::string out = ip("neigh show " + addr + " dev " + dev, false);
    auto p = out.find("lladdr ");
    if (p == std::string::npos) return "";
    return out.substr(p + 7, 17);
  }

 private:
  std::string name_;
};

// A process started inside a namespace (`ip netns exec` execs in place, so
// the pid is the program's own). Killed with SIGKILL if still running when
// destroyed.
class Proc {
 public:
  Proc() = default;
  Proc(const Netns& ns, std::vector<std::string> argv, const std::string& logFile) {
    std::vector<std::string> all = {"/usr/sbin/ip", "netns", "exec", ns.name()};
    all.insert(all.end(), argv.begin(), argv.end());
    std::vector<char*> args;
    for (auto& a : all) args.push_back(a.data());
    args.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, logFile.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    int err = posix_spawn(&pid_, args[0], &fa, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (err) throw std::runtime_error("spawn " + argv[0] + ": " + std::strerror(err));
  }
  Proc(Proc&& o) noexcept : pid_(std::exchange(o.pid_, -1)) {}
  Proc& operator=(Proc&& o) noexcept {
    if (this != &o) {
      kill9();
      pid_ = std::exchange(o.pid_, -1);
    }
    return *this;
  }
  ~Proc() { kill9(); }
  pid_t pid() const { return pid_; }
  bool running() {
    if (pid_ <= 0) return false;
    int st;
    pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      exitStatus_ = st;
      pid_ = -1;
      return false;
    }
    return true;
  }
  void kill9() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &exitStatus_, 0);
    pid_ = -1;
  }
  void signal(int sig) {
    if (pid_ > 0) ::kill(pid_, sig);
  }
  // Waits for a clean exit; returns the exit code, or -1 on timeout/signal.
  int wait(milliseconds limit) {
    if (!waitFor([&] { return !running(); }, limit)) return -1;
    return WIFEXITED(exitStatus_) ? WEXITSTATUS(exitStatus_) : -1;
  }

 private:
  pid_t pid_ = -1;
  int exitStatus_ = 0;
};

// proto/control.proto over the Unix control socket: 4-byte big-endian
// length, then the message.
inline bool controlCall(const std::string& path, const control::Request& req,
                        control::Response& resp) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::strncpy(sa.sun_path, path.c_str(), sizeof(sa.sun_path) - 1);
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0;
  std::string out = req.SerializeAsString();
  uint32_t n = htonl(static_cast<uint32_t>(out.size()));
  auto writeAll = [&](const void* p, size_t len) {
    return ::send(fd, p, len, MSG_NOSIGNAL) == static_cast<ssize_t>(len);
  };
  auto readAll = [&](void* p, size_t len) {
    auto* b = static_cast<char*>(p);
    while (len) {
      ssize_t r = ::recv(fd, b, len, 0);
      if (r <= 0) return false;
      b += r;
      len -= static_cast<size_t>(r);
    }
    return true;
  };
  ok = ok && writeAll(&n, 4) && writeAll(out.data(), out.size()) && readAll(&n, 4);
  std::string body;
  if (ok) {
    body.resize(ntohl(n));
    ok = readAll(body.data(), body.size()) && resp.ParseFromString(body);
  }
  ::close(fd);
  return ok;
}

inline bool status(const std::string& sock, control::Status& out) {
  control::Request req;
  req.mutable_status();
  control::Response resp;
  if (!controlCall(sock, req, resp) || !resp.ok()) return false;
  out = resp.status();
  return true;
}

// The instance's state ("MASTER", ...), or "" when the node does not answer.
inline std::string stateOf(const std::string& sock, const std::string& instance) {
  control::Status s;
  if (!status(sock, s)) return "";
  for (const auto& i : s.instance())
    if (i.name() == instance) return i.state();
  return "";
}

inline control::InstanceStatus instanceOf(const std::string& sock, const std::string& instance) {
  control::Status s;
  if (status(sock, s))
    for (const auto& i : s.instance())
      if (i.name() == instance) return i;
  return {};
}

// "name=value" from a "heartbeat: counters ..." line (0 when absent).
inline uint64_t counter(const std::string& dump, const std::string& name) {
  auto p = dump.find(" " + name + "=");
  if (p == std::string::npos) p = dump.find("counters " + name + "=");
  if (p == std::string::npos) return 0;
  p = dump.find('=', p) + 1;
  return std::stoull(dump.substr(p));
}

inline std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::string env(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v ? v : fallback;
}

}  // namespace lvsd::netns
