#include "heartbeat/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

extern char** environ;

namespace lvsd::heartbeat {

namespace {

int pidfdOpen(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

// Waits up to `d` for the child to exit; true when it did.
bool waitExit(int pidfd, Duration d) {
  pollfd p{pidfd, POLLIN, 0};
  int ms = static_cast<int>(std::max<int64_t>(0, toMillis(d)));
  while (true) {
    int r = ::poll(&p, 1, ms);
    if (r > 0) return true;
    if (r == 0) return false;
    if (errno != EINTR) return false;
  }
}

}  // namespace

std::string ProcessResult::describe() const {
  if (timedOut) return "timed out";
  if (signal) return "signal " + std::to_string(signal);
  return "exit " + std::to_string(exitCode);
}

Result<ProcessResult> runProcess(const std::vector<std::string>& argv, Duration timeout,
                                 Duration grace) {
  if (argv.empty()) return Error("empty argv");
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&attr);
  for (int fd = 0; fd <= 2; ++fd)
    posix_spawn_file_actions_addopen(&fa, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                      POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_USEVFORK);
  pid_t pid = -1;
  int err = posix_spawn(&pid, args[0], &fa, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (err != 0) return errnoError("spawn " + argv[0], err);

  ProcessResult r;
  int pidfd = pidfdOpen(pid);
  if (pidfd >= 0) {
    if (!waitExit(pidfd, timeout)) {
      r.timedOut = true;
      ::kill(-pid, SIGTERM);
      if (!waitExit(pidfd, grace)) ::kill(-pid, SIGKILL);
    }
    ::close(pidfd);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno == EINTR) continue;
    // Someone else reaped it (SIGCHLD ignored, or a waitpid(-1) elsewhere).
    return errnoError("wait for " + argv[0], errno);
  }
  if (WIFEXITED(status)) r.exitCode = WEXITSTATUS(status);
  else if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  if (r.timedOut) r.signal = 0;
  return r;
}

}  // namespace lvsd::heartbeat
