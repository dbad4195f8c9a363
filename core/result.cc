#include "core/result.h"

#include <cstring>

#include "core/clock.h"

namespace lvsd {

Error errnoError(const std::string& what, int err) {
  return Error(what + ": " + std::strerror(err), err);
}

SystemClock& SystemClock::instance() {
  static SystemClock clock;
  return clock;
}

}  // namespace lvsd
