#pragma once
// The ordered event stream behind `lvsctl events`: every transition and
// notable change, numbered, kept in a bounded ring for late subscribers.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>

#include "core/clock.h"
#include "proto/control.pb.h"

namespace lvsd::daemon {

class EventLog {
 public:
  using Subscriber = std::function<void(const control::Event&)>;

  explicit EventLog(const Clock& clock, size_t capacity = 4096)
      : clock_(clock), capacity_(capacity) {}

  // Assigns seq and time, keeps the event, delivers it to subscribers in order.
  const control::Event& publish(control::Event event);
  // Convenience for transitions: module, subject, from, to, reason.
  const control::Event& transition(const std::string& module, const std::string& subject,
                                   const std::string& from, const std::string& to,
                                   const std::string& reason, const std::string& line);

  // Replays buffered events with seq > since, then streams new ones.
  uint64_t subscribe(uint64_t since, Subscriber s);
  void unsubscribe(uint64_t id);

  uint64_t lastSeq() const { return seq_; }
  const std::deque<control::Event>& buffered() const { return ring_; }

 private:
  const Clock& clock_;
  size_t capacity_;
  uint64_t seq_ = 0;
  uint64_t nextSub_ = 1;
  std::deque<control::Event> ring_;
  std::map<uint64_t, Subscriber> subs_;
};

}  // namespace lvsd::daemon
