#pragma once
// Private to vip/: what to add, remove and announce when, as a pure state
// machine over groups. The worker thread (manager.cc) feeds it commands and
// the time and carries out the operations it returns.

#include <optional>
#include <string>
#include <vector>

#include "vip/vip.h"

namespace lvsd::vip {

struct Op {
  enum class Kind : uint8_t { kAdd, kRemove, kAnnounce };
  Kind kind;
  VipSpec vip;
  bool operator==(const Op&) const = default;
};

// One group's announcement timing: a burst of `repeat` announcements
// `interval` apart starting at `first`, then one every `refresh`.
class AnnounceSchedule {
 public:
  void startBurst(TimePoint first, const AnnounceSpec& spec);
  void stop() {
    next_.reset();
    left_ = 0;
  }
  // True when an announcement is due at `now`; then moves to the next one.
  bool take(TimePoint now, const AnnounceSpec& spec);
  std::optional<TimePoint> next() const { return next_; }

 private:
  std::optional<TimePoint> next_;
  uint32_t left_ = 0;  // announcements left in the current burst, incl. next_
};

class VipCore {
 public:
  static constexpr Duration kRetry = std::chrono::seconds(1);

  explicit VipCore(std::vector<GroupSpec> groups) { update(std::move(groups), TimePoint{}); }

  // Unknown group names are ignored (the config validator refuses them).
  std::vector<Op> acquire(const std::string& group, TimePoint now);
  // Removes every VIP of the group, held or not: removal is idempotent and
  // also clears addresses a killed predecessor left behind.
  std::vector<Op> release(const std::string& group, TimePoint now);
  // A MASTER re-asserting itself: a burst now, no delay.
  std::vector<Op> reannounce(const std::string& group, TimePoint now);
  // New definitions; held groups get exactly the difference.
  std::vector<Op> update(std::vector<GroupSpec> groups, TimePoint now);
  std::vector<Op> releaseAll();
  // Announcements and add retries due at `now`.
  std::vector<Op> due(TimePoint now);
  // The worker reports an add that failed; it is retried every kRetry while
  // the group is held, and not announced meanwhile.
  void addFailed(const VipSpec& vip, TimePoint now);
  std::optional<TimePoint> nextDeadline() const;
  std::vector<std::string> held() const;

 private:
  struct Group {
    GroupSpec spec;
    bool held = false;
    AnnounceSchedule schedule;
    std::vector<VipSpec> failed;
    std::optional<TimePoint> retryAt;
  };
  Group* find(const std::string& name);
  void announceAll(Group& g, std::vector<Op>& out);

  std::vector<Group> groups_;
};

}  // namespace lvsd::vip
