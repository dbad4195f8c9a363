#pragma once
#include "core/clock.h"

namespace lvsd::testing {

// A clock that only moves when told to.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimePoint start = TimePoint(std::chrono::seconds(1000)))
      : now_(start), wall_(WallTime(std::chrono::seconds(1'700'000'000))) {}
  TimePoint now() const override { return now_; }
  WallTime wallNow() const override { return wall_; }
  void advance(Duration d) {
    now_ += d;
    wall_ += std::chrono::duration_cast<WallTime::duration>(d);
  }
  void setWall(WallTime w) { wall_ = w; }

 private:
  TimePoint now_;
  WallTime wall_;
};

}  // namespace lvsd::testing
