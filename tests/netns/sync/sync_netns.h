#pragma once
// Two directors in two private network namespaces joined by a veth pair:
// dir-a 10.77.0.1 on "sva", dir-b 10.77.0.2 on "svb". Each namespace is
// owned by one thread that unshared it and runs an io_context; everything
// that creates sockets for a side runs on that side's thread. The test
// process first moves into a private namespace of its own, so nothing is
// visible outside it and nothing needs cleaning up.

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/sinks/base_sink.h>

#include "core/log.h"

namespace lvsd::testing {

inline std::string sh(const std::string& cmd) {
  if (std::system((cmd + " >/dev/null 2>&1").c_str()) != 0) return "failed: " + cmd;
  return "";
}

// Empty on success, else what went wrong.
inline std::string enterPrivateNetns() {
  static std::string result = []() -> std::string {
    if (geteuid() != 0) return "netns tests need root (network namespaces); refusing to skip";
    if (unshare(CLONE_NEWNET) != 0) return "unshare(CLONE_NEWNET) failed";
    return sh("ip link set lo up");
  }();
  return result;
}

// A thread in its own network namespace running an io_context.
class NsLoop {
 public:
  NsLoop() {
    std::promise<std::pair<pid_t, std::string>> ready;
    auto f = ready.get_future();
    thread_ = std::thread([this, &ready] {
      std::string err;
      if (unshare(CLONE_NEWNET) != 0) err = "unshare(CLONE_NEWNET) failed";
      if (err.empty()) err = sh("ip link set lo up");
      ready.set_value({pid_t(::syscall(SYS_gettid)), err});
      io.run();
    });
    auto [tid, err] = f.get();
    tid_ = tid;
    error_ = err;
  }
  ~NsLoop() {
    guard_.reset();
    io.stop();
    if (thread_.joinable()) thread_.join();
  }
  pid_t tid() const { return tid_; }
  const std::string& error() const { return error_; }

  // Runs f on this namespace's thread and returns its result.
  template <typename F>
  auto call(F f) -> decltype(f()) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto fut = task.get_future();
    boost::asio::post(io, [&task] { task(); });
    return fut.get();
  }
  std::string run(const std::string& cmd) {
    return call([cmd] { return sh(cmd); });
  }
  // Runs f on a new thread in this namespace, leaving the loop free (for
  // blocking clients that talk to what runs on the loop).
  template <typename F>
  auto aside(F f) -> decltype(f()) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto fut = task.get_future();
    std::string path = "/proc/self/task/" + std::to_string(tid_) + "/ns/net";
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    std::thread t([&task, fd] {
      if (fd >= 0) ::setns(fd, CLONE_NEWNET);
      task();
    });
    t.join();
    if (fd >= 0) ::close(fd);
    return fut.get();
  }

  boost::asio::io_context io;

 private:
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_{
      io.get_executor()};
  std::thread thread_;
  pid_t tid_ = 0;
  std::string error_;
};

// The two sides and the link between them.
struct Pair {
  NsLoop a, b;
  std::string error;
  Pair() {
    error = enterPrivateNetns();
    if (error.empty()) error = a.error();
    if (error.empty()) error = b.error();
    for (const std::string& c :
         {std::string("ip link add sva type veth peer name svb"),
          "ip link set sva netns " + std::to_string(a.tid()),
          "ip link set svb netns " + std::to_string(b.tid())}) {
      if (!error.empty()) break;
      error = sh(c);
    }
    if (error.empty()) error = a.run("ip addr add 10.77.0.1/24 dev sva && ip link set sva up");
    if (error.empty()) error = b.run("ip addr add 10.77.0.2/24 dev svb && ip link set svb up");
  }
};

// Waits (bounded) for a condition that callbacks on other threads make true.
class Waiter {
 public:
  void notify() {
    std::lock_guard l(mu_);
    ++gen_;
    cv_.notify_all();
  }
  // Checks `pred` now and after every notify until it holds or `limit` passes.
  bool until(const std::function<bool()>& pred,
             std::chrono::milliseconds limit = std::chrono::seconds(15)) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    std::unique_lock l(mu_);
    while (true) {
      uint64_t g = gen_;
      l.unlock();
      if (pred()) return true;
      l.lock();
      if (!cv_.wait_until(l, deadline, [&] { return gen_ != g; })) {
        l.unlock();
        return pred();
      }
    }
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t gen_ = 0;
};

// Captures what the "sync" logger writes, for checking logged reasons.
class LogCapture : public spdlog::sinks::base_sink<std::mutex> {
 public:
  std::vector<std::string> lines() {
    std::lock_guard l(this->mutex_);
    return lines_;
  }
  bool contains(const std::string& s) {
    for (const auto& l : lines())
      if (l.find(s) != std::string::npos) return true;
    return false;
  }
  Waiter* waiter = nullptr;

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    lines_.emplace_back(msg.payload.data(), msg.payload.size());
    if (waiter) waiter->notify();
  }
  void flush_() override {}

 private:
  std::vector<std::string> lines_;
};

inline std::shared_ptr<LogCapture> captureLog(const std::string& module, Waiter* w) {
  auto sink = std::make_shared<LogCapture>();
  sink->waiter = w;
  auto l = logger(module);
  l->sinks().push_back(sink);
  l->set_level(spdlog::level::debug);
  return sink;
}

// Test certificates made with the openssl command line in a temporary
// directory: two CAs (good, rogue) and leaf certificates per name.
class TestPki {
 public:
  TestPki() {
    char tmpl[] = "/tmp/lvsd-sync-pki-XXXXXX";
    dir_ = mkdtemp(tmpl) ? tmpl : "";
    if (dir_.empty()) {
      error = "mkdtemp failed";
      return;
    }
    error = makeCa("ca");
    if (error.empty()) error = makeCa("rogue");
  }
  ~TestPki() {
    if (!dir_.empty()) std::system(("rm -rf " + dir_).c_str());
  }
  // A key and certificate for `name` signed by `ca`; returns "" or the error.
  std::string leaf(const std::string& ca, const std::string& name, const std::string& file) {
    std::string p = dir_ + "/" + file;
    std::string ext = p + ".ext";
    return run("printf 'subjectAltName=DNS:" + name +
               "\\nextendedKeyUsage=serverAuth,clientAuth\\n' > " + ext +
               " && openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " +
               p + ".key -out " + p + ".csr -subj /CN=" + name + " && openssl x509 -req -in " + p +
               ".csr -CA " + dir_ + "/" + ca + ".pem -CAkey " + dir_ + "/" + ca +
               ".key -CAcreateserial -days 2 -out " + p + ".pem -extfile " + ext);
  }
  std::string path(const std::string& file) const { return dir_ + "/" + file; }
  std::string error;

 private:
  std::string makeCa(const std::string& name) {
    std::string p = dir_ + "/" + name;
    return run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " +
               p + ".key -out " + p + ".pem -days 2 -subj /CN=lvsd-test-" + name);
  }
  static std::string run(const std::string& cmd) { return sh(cmd); }
  std::string dir_;
};

// A UDP socket in the calling thread's namespace that receives the sync
// group 224.0.0.81:port on `ifname` (what a kernel backup daemon hears),
// with a large buffer and a receive timeout. -1 on failure.
inline int joinSyncGroup(const char* ifname, uint16_t port, int timeoutSeconds) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1, big = 16 << 20;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = inet_addr("224.0.0.81");
  ip_mreqn m{};
  m.imr_multiaddr.s_addr = inet_addr("224.0.0.81");
  m.imr_ifindex = int(if_nametoindex(ifname));
  timeval tv{timeoutSeconds, 0};
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0 ||
      setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m) < 0 ||
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// A temporary file in /proc/net/ip_vs_conn format with n lines made by
// line(i); its path, or "" on failure.
inline std::string writeConnTable(size_t n, const std::function<std::string(size_t)>& line) {
  char path[] = "/tmp/lvsd-sync-conn-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return "";
  close(fd);
  std::ofstream out(path);
  out << "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n";
  for (size_t i = 0; i < n; ++i) out << line(i);
  return path;
}

}  // namespace lvsd::testing
