#include "daemon/event_log.h"

#include <chrono>

namespace lvsd::daemon {

const control::Event& EventLog::publish(control::Event event) {
  event.set_seq(++seq_);
  event.set_unix_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                        clock_.wallNow().time_since_epoch())
                        .count());
  ring_.push_back(std::move(event));
  if (ring_.size() > capacity_) ring_.pop_front();
  // Copy: a subscriber may unsubscribe (or others) while being called.
  auto subs = subs_;
  for (auto& [id, s] : subs)
    if (subs_.count(id)) s(ring_.back());
  return ring_.back();
}

const control::Event& EventLog::transition(const std::string& module, const std::string& subject,
                                           const std::string& from, const std::string& to,
                                           const std::string& reason, const std::string& line) {
  control::Event e;
  e.set_module(module);
  e.set_kind("transition");
  e.set_subject(subject);
  e.set_from(from);
  e.set_to(to);
  e.set_reason(reason);
  e.set_line(line);
  return publish(std::move(e));
}

uint64_t EventLog::subscribe(uint64_t since, Subscriber s) {
  for (const auto& e : ring_)
    if (e.seq() > since) s(e);
  uint64_t id = nextSub_++;
  subs_.emplace(id, std::move(s));
  return id;
}

void EventLog::unsubscribe(uint64_t id) { subs_.erase(id); }

}  // namespace lvsd::daemon
