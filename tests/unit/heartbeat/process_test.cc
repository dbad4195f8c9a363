#include "heartbeat/process.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "heartbeat/notify.h"
#include "heartbeat/tracker_monitor.h"

namespace lvsd::heartbeat {
namespace {

using std::chrono::milliseconds;

TEST(Process, ExitStatus) {
  auto t = runProcess({"/bin/true"}, milliseconds(5000));
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_TRUE(t->success());
  EXPECT_EQ(t->describe(), "exit 0");
  auto f = runProcess({"/bin/sh", "-c", "exit 3"}, milliseconds(5000));
  ASSERT_TRUE(f.ok());
  EXPECT_FALSE(f->success());
  EXPECT_EQ(f->exitCode, 3);
}

TEST(Process, ArgvIsNotAShellCommand) {
  // One argument with a space and a semicolon stays one argument.
  std::string marker = "/tmp/lvsd-process-test-" + std::to_string(::getpid());
  auto r = runProcess({"/bin/echo", "x; touch " + marker}, milliseconds(5000));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->success());
  EXPECT_NE(::access(marker.c_str(), F_OK), 0);
}

TEST(Process, MissingProgramIsAnError) {
  auto r = runProcess({"/nonexistent/lvsd-notify"}, milliseconds(1000));
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(runProcess({}, milliseconds(1000)).ok());
}

TEST(Process, TimeoutKillsTheProcessGroup) {
  // The child's own child must die too (process group).
  auto r = runProcess({"/bin/sh", "-c", "sleep 30 & sleep 30"}, milliseconds(100),
                      milliseconds(100));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->timedOut);
  EXPECT_FALSE(r->success());
  EXPECT_EQ(r->describe(), "timed out");
}

TEST(Notify, JobsInOrderWithArguments) {
  NotifyModel global, inst;
  global.onMaster = {"/usr/bin/g-master"};
  global.onChange = {"/usr/bin/g-change", "--x"};
  global.timeout = milliseconds(100);
  inst.onMaster = {"/usr/bin/i-master"};
  inst.onBackup = {"/usr/bin/i-backup"};
  Transition t;
  t.instance = "web";
  t.from = State::kBackup;
  t.to = State::kMaster;
  t.reason = Reason::kMasterDown;
  auto jobs = notifyJobs(global, inst, t);
  ASSERT_EQ(jobs.size(), 3u);
  EXPECT_EQ(jobs[0].argv, (std::vector<std::string>{"/usr/bin/g-master", "web", "BACKUP", "MASTER",
                                                    "master-down-timer"}));
  EXPECT_EQ(jobs[0].timeout, milliseconds(100));
  EXPECT_EQ(jobs[1].argv[0], "/usr/bin/g-change");
  EXPECT_EQ(jobs[1].argv[1], "--x");
  EXPECT_EQ(jobs[2].argv[0], "/usr/bin/i-master");
  t.to = State::kStop;
  EXPECT_EQ(notifyJobs(global, inst, t).size(), 1u) << "only on_change";
}

TEST(Notify, RunnerRunsOneAtATimeInOrder) {
  std::string file = "/tmp/lvsd-notify-test-" + std::to_string(::getpid());
  ::unlink(file.c_str());
  std::vector<std::string> logs;
  std::mutex mu;
  NotifyRunner r([&](bool, const std::string& l) {
    std::lock_guard lock(mu);
    logs.push_back(l);
  });
  r.start();
  for (int i = 0; i < 5; ++i)
    r.enqueue({{{"/bin/sh", "-c", "echo " + std::to_string(i) + " >> " + file}, milliseconds(5000)}});
  r.enqueue({{{"/bin/false"}, milliseconds(5000)}});
  r.stop();  // runs everything queued first
  std::ifstream in(file);
  std::string got, line;
  while (std::getline(in, line)) got += line;
  EXPECT_EQ(got, "01234");
  EXPECT_EQ(r.counters().run, 6u);
  EXPECT_EQ(r.counters().failed, 1u);
  ASSERT_EQ(logs.size(), 1u);
  EXPECT_NE(logs[0].find("exit 1"), std::string::npos);
  ::unlink(file.c_str());
}

TEST(TrackerIo, FileValues) {
  std::string file = "/tmp/lvsd-tracker-test-" + std::to_string(::getpid());
  auto write = [&](const char* s) { std::ofstream(file) << s; };
  write("0\n");
  auto s = TrackerMonitor::readFile(file);
  EXPECT_TRUE(s.known && s.ok);
  EXPECT_EQ(s.value, 0);
  write(" -7 ");
  EXPECT_EQ(TrackerMonitor::readFile(file).value, -7);
  write("3 apples");
  EXPECT_FALSE(TrackerMonitor::readFile(file).ok);
  write("");
  EXPECT_FALSE(TrackerMonitor::readFile(file).ok);
  ::unlink(file.c_str());
  EXPECT_FALSE(TrackerMonitor::readFile(file).ok);
}

TEST(TrackerIo, Interfaces) {
  EXPECT_TRUE(TrackerMonitor::interfaceUp("lo").ok);
  EXPECT_FALSE(TrackerMonitor::interfaceUp("lvsd-no-such0").ok);
}

}  // namespace
}  // namespace lvsd::heartbeat
