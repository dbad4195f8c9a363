#pragma once
// Test helpers for healthcheck pools: compact text of a ServicePool and
// endpoint literals.
#include <string>

#include "core/address.h"
#include "healthcheck/healthcheck.h"

namespace lvsd::testing {

// "10.0.0.1:80=3 10.0.0.2:80=0 !10.0.0.99:80=1" (the sorry server marked '!').
inline std::string poolText(const healthcheck::ServicePool& p) {
  std::string s;
  for (const auto& d : p.destinations) {
    if (!s.empty()) s += " ";
    s += (d.realServer < 0 ? "!" : "") + d.address.toString() + "=" + std::to_string(d.weight);
  }
  return s;
}

// An endpoint from a literal the test knows to be valid.
inline Endpoint endpoint(const std::string& text) { return *Endpoint::parse(text); }

}  // namespace lvsd::testing
