#pragma once
#include <cstdint>
#include <deque>

#include "healthcheck/checker.h"

namespace lvsd::testing {

// Randomness a test controls: returns queued values, then `fallback`.
class FakeRng final : public healthcheck::Rng {
 public:
  explicit FakeRng(double fallback = 0.5) : fallback_(fallback) {}
  void push(double u) { queue_.push_back(u); }
  void setFallback(double u) { fallback_ = u; }
  double uniform() override {
    ++calls_;
    if (queue_.empty()) return fallback_;
    double u = queue_.front();
    queue_.pop_front();
    return u;
  }
  uint64_t next64() override { return ++counter_ * 0x9e3779b97f4a7c15ull; }
  int calls() const { return calls_; }

 private:
  std::deque<double> queue_;
  double fallback_;
  int calls_ = 0;
  uint64_t counter_ = 0;
};

}  // namespace lvsd::testing
