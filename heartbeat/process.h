#pragma once
// Private to heartbeat/: run a program with argv (no shell), a timeout and
// nothing inherited but the environment. Blocking: call it from a worker
// thread, never from the heartbeat loop.

#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"

namespace lvsd::heartbeat {

struct ProcessResult {
  bool timedOut = false;
  int exitCode = -1;  // when it exited
  int signal = 0;     // when a signal ended it
  bool success() const { return !timedOut && signal == 0 && exitCode == 0; }
  std::string describe() const;  // "exit 0", "signal 9", "timed out"
};

// stdin, stdout and stderr are /dev/null; the child gets its own process
// group, default signal dispositions and an empty signal mask. On timeout
// the group gets SIGTERM, then SIGKILL after `grace`.
Result<ProcessResult> runProcess(const std::vector<std::string>& argv, Duration timeout,
                                 Duration grace = std::chrono::milliseconds(500));

}  // namespace lvsd::heartbeat
