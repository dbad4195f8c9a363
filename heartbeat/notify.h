#pragma once
// Private to heartbeat/: notify hooks. Every transition becomes a list of
// argv to run (pure), executed by one worker thread one at a time, in
// transition order, each with the hook's timeout.

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "heartbeat/engine.h"

namespace lvsd::heartbeat {

struct NotifyJob {
  std::vector<std::string> argv;
  Duration timeout;
};

// Global hooks first, then the instance's: the hook of the new state, then
// on_change; each argv gets [instance, old state, new state, reason].
std::vector<NotifyJob> notifyJobs(const NotifyModel& global, const NotifyModel& instance,
                                  const Transition& e);

class NotifyRunner {
 public:
  using Log = std::function<void(bool warning, const std::string& line)>;
  explicit NotifyRunner(Log log) : log_(std::move(log)) {}
  ~NotifyRunner() { stop(); }

  void start();
  // Never blocks the caller.
  void enqueue(std::vector<NotifyJob> jobs);
  // Runs what is queued (each job is bounded by its timeout), then joins.
  void stop();

  struct Counters {
    uint64_t run = 0, failed = 0, timedOut = 0;
  };
  Counters counters() const;

 private:
  void loop();

  Log log_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<NotifyJob> queue_;
  bool stopping_ = false;
  std::thread thread_;
  Counters counters_;
};

}  // namespace lvsd::heartbeat
