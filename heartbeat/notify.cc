#include "heartbeat/notify.h"

#include "heartbeat/process.h"

namespace lvsd::heartbeat {

std::vector<NotifyJob> notifyJobs(const NotifyModel& global, const NotifyModel& instance,
                                  const Transition& e) {
  std::vector<NotifyJob> jobs;
  for (const NotifyModel* m : {&global, &instance}) {
    const std::vector<std::string>* hook = nullptr;
    switch (e.to) {
      case State::kMaster: hook = &m->onMaster; break;
      case State::kBackup: hook = &m->onBackup; break;
      case State::kFault: hook = &m->onFault; break;
      case State::kStop: hook = &m->onStop; break;
      case State::kInit: break;
    }
    for (const auto* argv : {hook, &m->onChange}) {
      if (!argv || argv->empty()) continue;
      NotifyJob j{*argv, m->timeout};
      j.argv.insert(j.argv.end(), {e.instance, stateName(e.from), stateName(e.to),
                                   reasonName(e.reason)});
      jobs.push_back(std::move(j));
    }
  }
  return jobs;
}

void NotifyRunner::start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { loop(); });
}

void NotifyRunner::enqueue(std::vector<NotifyJob> jobs) {
  if (jobs.empty()) return;
  {
    std::lock_guard lock(mu_);
    for (auto& j : jobs) queue_.push_back(std::move(j));
  }
  cv_.notify_one();
}

void NotifyRunner::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

NotifyRunner::Counters NotifyRunner::counters() const {
  std::lock_guard lock(mu_);
  return counters_;
}

void NotifyRunner::loop() {
  while (true) {
    NotifyJob job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything ran
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    auto r = runProcess(job.argv, job.timeout);
    std::string cmd;
    for (const auto& a : job.argv) cmd += (cmd.empty() ? "" : " ") + a;
    std::lock_guard lock(mu_);
    ++counters_.run;
    if (!r) {
      ++counters_.failed;
      log_(true, "notify failed: " + cmd + ": " + r.error().message);
    } else if (!r->success()) {
      ++counters_.failed;
      if (r->timedOut) ++counters_.timedOut;
      log_(true, "notify " + r->describe() + ": " + cmd);
    }
  }
}

}  // namespace lvsd::heartbeat
