#pragma once
// Puts the whole test process into a private network namespace (before any
// thread starts, so every thread and child shares it): loopback up, test
// addresses on lo, and a "black hole" 10.99.0.2 behind a veth pair whose
// peer has no address, so packets to it are never answered. The namespace
// disappears with the process: nothing to clean up, no traffic leaves it.

#include <sched.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace lvsd::testing {

inline constexpr const char* kBlackHole = "10.99.0.2";

// Empty on success, else what went wrong.
inline std::string enterTestNetns() {
  static std::string result = [] () -> std::string {
    if (geteuid() != 0) return "netns tests need root (network namespaces); refusing to skip";
    if (unshare(CLONE_NEWNET) != 0) return "unshare(CLONE_NEWNET) failed";
    const char* cmds[] = {
        "ip link set lo up",
        "ip addr add 10.0.0.1/32 dev lo",
        "ip addr add 10.0.0.2/32 dev lo",
        "ip addr add 10.0.0.3/32 dev lo",
        "ip link add hcbh0 type veth peer name hcbh1",
        "ip addr add 10.99.0.1/24 dev hcbh0",
        "ip link set hcbh0 up",
        "ip link set hcbh1 up",
    };
    for (const char* c : cmds)
      if (std::system((std::string(c) + " 2>&1").c_str()) != 0) return std::string("failed: ") + c;
    return "";
  }();
  return result;
}

}  // namespace lvsd::testing
