#pragma once
// In-memory AddressBackend and Announcer: they record what the OS would
// have done and can be told to fail.
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "vip/vip.h"

namespace lvsd::testing {

class FakeAddressBackend final : public vip::AddressBackend {
 public:
  Status add(const vip::VipSpec& v) override {
    std::lock_guard lock(mu);
    log.push_back("add " + v.toString());
    if (failAdd.count(v.prefix.toString())) return Error("add failed (fake)", 19);
    present.insert(v.toString());
    return okStatus();
  }
  Status remove(const vip::VipSpec& v) override {
    std::lock_guard lock(mu);
    log.push_back("remove " + v.toString());
    present.erase(v.toString());
    return okStatus();
  }
  Result<bool> has(const vip::VipSpec& v) override {
    std::lock_guard lock(mu);
    return present.count(v.toString()) > 0;
  }
  std::vector<std::string> takeLog() {
    std::lock_guard lock(mu);
    return std::exchange(log, {});
  }

  std::mutex mu;
  std::vector<std::string> log;
  std::set<std::string> present;
  std::set<std::string> failAdd;  // prefixes whose add fails
};

class FakeAnnouncer final : public vip::Announcer {
 public:
  Status announce(const vip::VipSpec& v) override {
    std::lock_guard lock(mu);
    sent.push_back(v.prefix.address().toString());
    return okStatus();
  }
  std::mutex mu;
  std::vector<std::string> sent;
};

}  // namespace lvsd::testing
