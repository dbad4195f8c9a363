#pragma once
// Injectable time (DESIGN.md style 4). Pure logic takes a Clock or a TimePoint
// argument; tests use tests/fakes/fake_clock.h. Monotonic time drives timers;
// wall time is only for logs and replay windows between hosts.

#include <chrono>
#include <cstdint>

namespace lvsd {

using Duration = std::chrono::nanoseconds;
using TimePoint = std::chrono::steady_clock::time_point;
using WallTime = std::chrono::system_clock::time_point;

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::microseconds;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
  virtual WallTime wallNow() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::steady_clock::now(); }
  WallTime wallNow() const override { return std::chrono::system_clock::now(); }
  static SystemClock& instance();
};

inline int64_t toMillis(Duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

}  // namespace lvsd
