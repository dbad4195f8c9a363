#pragma once
// Typed signals between components. Modules never call each other (DESIGN.md
// "Data flow"); their daemon/ components publish and subscribe here instead.
// Everything runs on the io_context thread: emit() calls subscribers inline,
// in subscription order.

#include <functional>
#include <string>
#include <vector>

namespace lvsd::daemon {

template <typename... Args>
class Signal {
 public:
  using Slot = std::function<void(Args...)>;
  void connect(Slot s) { slots_.push_back(std::move(s)); }
  void emit(Args... args) const {
    for (const auto& s : slots_) s(args...);
  }
  size_t size() const { return slots_.size(); }

 private:
  std::vector<Slot> slots_;
};

struct Bus {
  // A virtual service's real-server quorum was lost (false) or regained (true).
  Signal<const std::string& /*service*/, bool /*held*/> quorum;
  // An election instance changed state ("INIT" "BACKUP" "MASTER" "FAULT").
  Signal<const std::string& /*instance*/, const std::string& /*from*/, const std::string& /*to*/,
         const std::string& /*reason*/>
      role;
};

}  // namespace lvsd::daemon
