// What lvsd keeps after start, and the drop reaching every thread.
#include "daemon/privileges.h"

#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

namespace lvsd::daemon::privileges {
namespace {

constexpr uint64_t bit(int c) {
  return uint64_t(1) << c;
}

TEST(Privileges, NeededByDefault) {
  config::Config c;
  auto n = needed(c);
  EXPECT_EQ(maskOf(n), bit(CAP_NET_ADMIN) | bit(CAP_NET_RAW));
  for (const auto& x : n) EXPECT_FALSE(x.why.empty());
}

TEST(Privileges, RealtimeKeepsSysNice) {
  config::Config c;
  c.mutable_heartbeat()->set_realtime_priority(10);
  EXPECT_EQ(maskOf(needed(c)), bit(CAP_NET_ADMIN) | bit(CAP_NET_RAW) | bit(CAP_SYS_NICE));
}

TEST(Privileges, LowPortsKeepBindService) {
  config::Config c;
  c.mutable_metrics()->set_listen("127.0.0.1:9465");
  c.mutable_sync()->mutable_peer_channel()->set_port(5406);
  c.mutable_sync()->mutable_peer_channel()->set_enabled(true);
  EXPECT_EQ(maskOf(needed(c)) & bit(CAP_NET_BIND_SERVICE), 0u);
  c.mutable_metrics()->set_listen("[::1]:80");
  auto n = needed(c);
  ASSERT_NE(maskOf(n) & bit(CAP_NET_BIND_SERVICE), 0u);
  EXPECT_NE(n.back().why.find("metrics.listen port 80"), std::string::npos) << n.back().why;
  c.mutable_metrics()->clear_listen();
  c.mutable_sync()->mutable_peer_channel()->set_port(506);
  n = needed(c);
  ASSERT_NE(maskOf(n) & bit(CAP_NET_BIND_SERVICE), 0u);
  EXPECT_NE(n.back().why.find("sync.peer_channel port 506"), std::string::npos);
  // A disabled channel binds nothing.
  c.mutable_sync()->mutable_peer_channel()->set_enabled(false);
  EXPECT_EQ(maskOf(needed(c)) & bit(CAP_NET_BIND_SERVICE), 0u);
}

TEST(Privileges, Names) {
  EXPECT_EQ(capName(CAP_NET_ADMIN), "cap_net_admin");
  EXPECT_EQ(capName(CAP_CHECKPOINT_RESTORE), "cap_checkpoint_restore");
  EXPECT_EQ(capName(50), "cap_50");
  EXPECT_EQ(capNames(0), "none");
  EXPECT_EQ(capNames(bit(CAP_NET_ADMIN) | bit(CAP_NET_RAW)), "cap_net_admin,cap_net_raw");
}

std::string statusField(const std::string& path, const std::string& key) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key + ":", 0) == 0) return line.substr(key.size() + 2);
  return "";
}

// In a child process (the drop is for good): four threads blocked in a
// condition wait and a sleep, then the drop; every thread must show the kept
// set. Without capabilities (not root) nothing is held and nothing changes.
TEST(Privileges, DropReachesEveryThread) {
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i)
      threads.emplace_back([&] {
        while (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      });
    const uint64_t keep = bit(CAP_NET_ADMIN) | bit(CAP_NET_RAW);
    auto r = drop(keep, true);
    int code = 0;
    if (!r)
      code = 10;
    else if (geteuid() == 0 && !r->held)
      code = 11;
    else if (r->held) {
      if (r->kept != keep || r->threads != 5) code = 12;
      int seen = 0;
      for (const auto& e : std::filesystem::directory_iterator("/proc/self/task")) {
        std::string st = e.path().string() + "/status";
        ++seen;
        if (statusField(st, "CapEff") != "0000000000003000" ||
            statusField(st, "CapPrm") != "0000000000003000")
          code = 13;
        if (statusField(st, "NoNewPrivs") != "1") code = 14;
      }
      if (seen != 5) code = 15;
    }
    stop = true;
    for (auto& t : threads) t.join();
    _exit(code);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0)
      << "10 drop failed, 11 root held nothing, 12 wrong kept "
         "set or thread count, 13 a thread's CapEff/CapPrm, 14 no_new_privs, "
         "15 thread count in /proc";
}

}  // namespace
}  // namespace lvsd::daemon::privileges
