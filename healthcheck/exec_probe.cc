// External command and file probes.
//
// exec: argv is run directly (posix_spawn, no shell) in its own process
// group with stdin/stdout/stderr on /dev/null; "{ip}" and "{port}" in any
// argument become the probe target's. The exit is awaited through a pidfd
// on the io_context, so nothing blocks the loop; a timeout or stop kills
// the whole process group and the child is still reaped. The daemon must
// not set SIGCHLD to SIG_IGN (children would be reaped behind our back).
//
// file: the file's content (up/down/drain/weight N); a missing file is up,
// so operators create it to intervene and delete it to stop intervening.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "healthcheck/codec.h"
#include "healthcheck/probe.h"

extern char** environ;

namespace lvsd::healthcheck {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

std::string substitute(std::string arg, const Endpoint& target) {
  auto replace = [&](const std::string& from, const std::string& to) {
    for (size_t pos = 0; (pos = arg.find(from, pos)) != std::string::npos; pos += to.size())
      arg.replace(pos, from.size(), to);
  };
  replace("{ip}", target.address().toString());
  replace("{port}", std::to_string(target.port()));
  return arg;
}

class ExecAttempt final : public Attempt {
 public:
  ExecAttempt(asio::io_context& io, std::shared_ptr<const std::vector<std::string>> argv,
              bool dynamic, Probe::Done d)
      : Attempt(std::move(d)), io_(io), pidfd_(io), poll_(io), argv_(std::move(argv)),
        dynamic_(dynamic) {}

  ~ExecAttempt() override {
    // Only when the io_context is torn down with the child still running.
    if (pid_ > 0 && !reaped_) {
      ::kill(-pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }

  void run() override {
    std::vector<char*> args;
    for (const auto& a : *argv_) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);

    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    posix_spawnattr_init(&attr);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                        POSIX_SPAWN_SETSIGDEF);
    int err = posix_spawnp(&pid_, args[0], &fa, &attr, args.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (err != 0) {
      pid_ = -1;
      std::string reason = "exec " + (*argv_)[0] + ": " + std::strerror(err);
      asio::post(io_, [self = shared_from_this(), this, reason] { finish(ProbeResult::fail(reason)); });
      return;
    }
    int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
    if (fd >= 0) {
      pidfd_.assign(fd);
      waitPidfd();
    } else {
      pollExit();  // kernels before 5.3
    }
  }

  void cancel() override {
    // Detach the callback and kill; the pending wait still reaps the child.
    Attempt::cancel();
    if (pid_ > 0 && !reaped_) ::kill(-pid_, SIGKILL);
  }

 private:
  void waitPidfd() {
    pidfd_.async_wait(asio::posix::stream_descriptor::wait_read,
                      [self = shared_from_this(), this](const error_code& ec) {
                        if (ec == asio::error::operation_aborted && reaped_) return;
                        reap();
                        if (!reaped_) waitPidfd();
                      });
  }
  void pollExit() {
    poll_.expires_after(std::chrono::milliseconds(20));
    poll_.async_wait([self = shared_from_this(), this](const error_code&) {
      reap();
      if (!reaped_) pollExit();
    });
  }
  void reap() {
    // Peek first: while the exited leader is an unreaped zombie its pid (and
    // so its process group id) cannot be reused, so killing the group's
    // leftovers here cannot hit a stranger.
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) < 0) {
      reaped_ = true;
      finish(ProbeResult::fail(errnoError("waitid", errno).message));
      return;
    }
    if (info.si_pid == 0) return;  // still running
    ::kill(-pid_, SIGKILL);
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, 0);
    reaped_ = true;
    if (r < 0) {
      finish(ProbeResult::fail(errnoError("waitpid", errno).message));
      return;
    }
    finish(judgeExitStatus(status, dynamic_));
  }
  void close() override {
    // The pidfd stays open until the child is reaped (cancel() relies on it).
    if (reaped_) {
      error_code ignored;
      pidfd_.close(ignored);
    }
  }

  asio::io_context& io_;
  asio::posix::stream_descriptor pidfd_;
  asio::steady_timer poll_;
  std::shared_ptr<const std::vector<std::string>> argv_;
  bool dynamic_;
  pid_t pid_ = -1;
  bool reaped_ = false;
};

class FileAttempt final : public Attempt {
 public:
  FileAttempt(asio::io_context& io, std::string path, Probe::Done d)
      : Attempt(std::move(d)), io_(io), path_(std::move(path)) {}
  void run() override {
    // A small local file: reading it is as quick as a syscall gets.
    ProbeResult r;
    int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
      r = errno == ENOENT ? ProbeResult::ok("no file")
                          : ProbeResult::fail(errnoError("open " + path_, errno).message);
    } else {
      char buf[4096];
      ssize_t n = ::read(fd, buf, sizeof buf);
      int e = errno;
      ::close(fd);
      r = n < 0 ? ProbeResult::fail(errnoError("read " + path_, e).message)
                : judgeFileContent(std::string_view(buf, static_cast<size_t>(n)));
    }
    asio::post(io_, [self = shared_from_this(), this, r] { finish(r); });
  }

 private:
  void close() override {}
  asio::io_context& io_;
  std::string path_;
};

}  // namespace

Result<std::unique_ptr<Probe>> makeExecProbe(const CheckSpec& spec, ProbeEnv& env) {
  const auto& p = spec.def.exec();
  if (p.argv_size() == 0 || p.argv(0).empty()) return Error("exec probe needs argv");
  auto argv = std::make_shared<std::vector<std::string>>();
  for (const auto& a : p.argv()) argv->push_back(substitute(a, spec.target));
  auto& io = env.io;
  bool dynamic = p.dynamic_weight();
  std::shared_ptr<const std::vector<std::string>> cargv = argv;
  return std::unique_ptr<Probe>(std::make_unique<AttemptProbe>([&io, cargv, dynamic](Probe::Done d) {
    return std::make_shared<ExecAttempt>(io, cargv, dynamic, std::move(d));
  }));
}

Result<std::unique_ptr<Probe>> makeFileProbe(const CheckSpec& spec, ProbeEnv& env) {
  const auto& path = spec.def.file().path();
  if (path.empty()) return Error("file probe needs a path");
  auto& io = env.io;
  return std::unique_ptr<Probe>(std::make_unique<AttemptProbe>([&io, path](Probe::Done d) {
    return std::make_shared<FileAttempt>(io, path, std::move(d));
  }));
}

}  // namespace lvsd::healthcheck
