#include "feedback/procfs.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

namespace lvsd::feedback {
namespace {

const char* kStat =
    "cpu  1000 20 300 8000 150 10 5 15 0 0\n"
    "cpu0 500 10 150 4000 75 5 2 7 0 0\n"
    "cpu1 500 10 150 4000 75 5 3 8 0 0\n"
    "intr 12345 0 0\n"
    "ctxt 99999\n"
    "btime 1700000000\n"
    "processes 4242\n"
    "procs_running 3\n"
    "procs_blocked 1\n"
    "softirq 1 2 3\n";

TEST(ProcStat, Parses) {
  auto s = parseProcStat(kStat);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->cpu.user, 1000u);
  EXPECT_EQ(s->cpu.idle, 8000u);
  EXPECT_EQ(s->cpu.iowait, 150u);
  EXPECT_EQ(s->cpu.steal, 15u);
  EXPECT_EQ(s->cpu.total(), 1000u + 20 + 300 + 8000 + 150 + 10 + 5 + 15);
  EXPECT_EQ(s->cpus, 2u);
  EXPECT_EQ(s->procsRunning, 3u);
  EXPECT_EQ(s->procsBlocked, 1u);
}

TEST(ProcStat, OldKernelWithFourCpuFields) {
  auto s = parseProcStat("cpu 1 2 3 4\nprocs_running 1\nprocs_blocked 0\n");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->cpu.total(), 10u);
  EXPECT_EQ(s->cpus, 1u);  // no cpuN lines: at least one CPU
}

TEST(ProcStat, Malformed) {
  EXPECT_FALSE(parseProcStat(""));
  EXPECT_FALSE(parseProcStat("cpu 1 2 3\nprocs_running 1\nprocs_blocked 0\n"));
  EXPECT_FALSE(parseProcStat("cpu 1 2 x 4\nprocs_running 1\nprocs_blocked 0\n"));
  EXPECT_FALSE(parseProcStat("cpu 1 2 3 4\nprocs_running 1\n"));
  EXPECT_FALSE(parseProcStat("cpu 1 2 3 4\nprocs_running -1\nprocs_blocked 0\n"));
  EXPECT_FALSE(parseProcStat("procs_running 1\nprocs_blocked 0\n"));
  EXPECT_FALSE(parseProcStat("cpu 1 2 3 99999999999999999999999\nprocs_running 1\nprocs_blocked 0\n"));
}

const char* kMeminfo =
    "MemTotal:        1014636 kB\n"
    "MemFree:          128332 kB\n"
    "MemAvailable:     612480 kB\n"
    "Buffers:           20480 kB\n"
    "Cached:           400000 kB\n"
    "SwapCached:            0 kB\n"
    "SwapTotal:        524284 kB\n"
    "SwapFree:         524000 kB\n"
    "HugePages_Total:       0\n";

TEST(Meminfo, Parses) {
  auto m = parseMeminfo(kMeminfo);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->totalKb, 1014636u);
  EXPECT_EQ(m->freeKb, 128332u);
  EXPECT_TRUE(m->hasAvailable);
  EXPECT_EQ(m->availableKb, 612480u);
  EXPECT_EQ(m->swapTotalKb, 524284u);
  EXPECT_EQ(m->swapFreeKb, 524000u);
}

TEST(Meminfo, EstimatesAvailableOnOldKernels) {
  auto m = parseMeminfo("MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 20 kB\nCached: 300 kB\n");
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_FALSE(m->hasAvailable);
  EXPECT_EQ(m->availableKb, 420u);
}

TEST(Meminfo, Malformed) {
  EXPECT_FALSE(parseMeminfo("MemFree: 100 kB\n"));
  EXPECT_FALSE(parseMeminfo("MemTotal: 1000 kB\nMemFree: lots kB\n"));
  EXPECT_FALSE(parseMeminfo("MemTotal: 1000 MB\nMemFree: 100 kB\n"));
  EXPECT_FALSE(parseMeminfo("MemTotal: 1000 kB extra\nMemFree: 100 kB\n"));
  EXPECT_FALSE(parseMeminfo("MemTotal:\nMemFree: 100 kB\n"));
}

TEST(Vmstat, Parses) {
  auto v = parseVmstat("nr_free_pages 1\npswpin 17\npswpout 42\npgfault 9\n");
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->pswpin, 17u);
  EXPECT_EQ(v->pswpout, 42u);
  EXPECT_FALSE(parseVmstat("pswpin 1\n"));
  EXPECT_FALSE(parseVmstat("pswpin 1\npswpout x\n"));
}

TEST(Loadavg, Parses) {
  auto l = parseLoadavg("0.52 1.25 2.00 3/187 31337\n");
  ASSERT_TRUE(l) << l.error().message;
  EXPECT_DOUBLE_EQ(l->load1, 0.52);
  EXPECT_DOUBLE_EQ(l->load5, 1.25);
  EXPECT_DOUBLE_EQ(l->load15, 2.0);
  EXPECT_EQ(l->runnable, 3u);
  EXPECT_EQ(l->total, 187u);
  EXPECT_FALSE(parseLoadavg("0.52 1.25 2.00 3/187\n"));
  EXPECT_FALSE(parseLoadavg("0.52 1.25 2.00 3-187 1\n"));
  EXPECT_FALSE(parseLoadavg("0.52 -1 2.00 3/187 1\n"));
  EXPECT_FALSE(parseLoadavg("nan 1 2.00 3/187 1\n"));
  EXPECT_FALSE(parseLoadavg(""));
}

TEST(Uptime, Parses) {
  auto u = parseUptime("12345.67 23456.78\n");
  ASSERT_TRUE(u);
  EXPECT_DOUBLE_EQ(*u, 12345.67);
  EXPECT_FALSE(parseUptime("12345.67\n"));
  EXPECT_FALSE(parseUptime("abc def\n"));
}

std::string pidStat(const std::string& comm, char state, uint64_t flags, int64_t rss) {
  // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt
  // cmajflt utime stime cutime cstime prio nice threads itreal start vsize rss ...
  return "42 (" + comm + ") " + state + " 1 42 42 0 -1 " + std::to_string(flags) +
         " 10 0 0 0 5 3 0 0 20 0 1 0 100 1000000 " + std::to_string(rss) +
         " 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0\n";
}

TEST(PidStat, ParsesAndClassifies) {
  auto p = parsePidStat(pidStat("httpd", 'R', 0x400000, 0));
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->state, 'R');
  EXPECT_EQ(p->rssPages, 0);
  EXPECT_TRUE(isSwappedRunnable(*p));
  // Resident, sleeping or a kernel thread: not "w".
  EXPECT_FALSE(isSwappedRunnable(*parsePidStat(pidStat("httpd", 'R', 0, 12))));
  EXPECT_FALSE(isSwappedRunnable(*parsePidStat(pidStat("httpd", 'S', 0, 0))));
  EXPECT_FALSE(isSwappedRunnable(*parsePidStat(pidStat("kworker/0:1", 'R', 0x00200040, 0))));
}

TEST(PidStat, CommWithSpacesAndParentheses) {
  auto p = parsePidStat(pidStat("a) (b c", 'D', 0, 7));
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->state, 'D');
  EXPECT_EQ(p->rssPages, 7);
}

TEST(PidStat, Malformed) {
  EXPECT_FALSE(parsePidStat(""));
  EXPECT_FALSE(parsePidStat("42 httpd R 1 2 3"));
  EXPECT_FALSE(parsePidStat("42 (httpd) R 1 2 3\n"));
  std::string twoLetterState = pidStat("x", 'R', 0, 0);
  twoLetterState.replace(twoLetterState.find(") R") + 2, 1, "RR");
  EXPECT_FALSE(parsePidStat(twoLetterState));
  std::string badRss = pidStat("x", 'R', 0, 0);
  badRss.replace(badRss.find(" 1000000 0 ") + 9, 1, "z");
  EXPECT_FALSE(parsePidStat(badRss));
}

// A directory laid out like /proc.
class FakeProc : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lvsd-fakeproc-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    write("stat", kStat);
    write("meminfo", kMeminfo);
    write("vmstat", "pswpin 1\npswpout 2\n");
    write("loadavg", "0.10 0.20 0.30 1/100 555\n");
    write("uptime", "100.00 150.00\n");
    ::mkdir((root_ + "/1").c_str(), 0755);
    write("1/stat", pidStat("init", 'S', 0, 100));
    ::mkdir((root_ + "/77").c_str(), 0755);
    write("77/stat", pidStat("cgi", 'R', 0, 0));
    ::mkdir((root_ + "/self").c_str(), 0755);  // not a pid
  }
  void TearDown() override { std::system(("rm -rf " + root_).c_str()); }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(root_ + "/" + name) << text;
  }
  std::string root_;
};

TEST_F(FakeProc, ReadsEverything) {
  ProcReader reader(root_);
  auto r = reader.read(TimePoint(std::chrono::seconds(5)));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->stat.procsRunning, 3u);
  EXPECT_EQ(r->mem.availableKb, 612480u);
  EXPECT_EQ(r->vm.pswpout, 2u);
  EXPECT_DOUBLE_EQ(r->load.load15, 0.30);
  EXPECT_DOUBLE_EQ(r->uptimeS, 100.0);
  EXPECT_EQ(r->swappedProcs, 1u);
  EXPECT_EQ(r->at, TimePoint(std::chrono::seconds(5)));
}

TEST_F(FakeProc, MissingOrBadFileIsAnError) {
  write("meminfo", "garbage\n");
  auto r = ProcReader(root_).read(TimePoint{});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("meminfo"), std::string::npos);
  ::unlink((root_ + "/loadavg").c_str());
  write("meminfo", kMeminfo);
  r = ProcReader(root_).read(TimePoint{});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("loadavg"), std::string::npos);
}

TEST_F(FakeProc, OversizedFileIsRefused) {
  write("big", std::string(5000, 'x'));
  EXPECT_FALSE(readSmallFile(root_ + "/big", 4096));
  EXPECT_TRUE(readSmallFile(root_ + "/big", 5000));
}

TEST(Cgroup, Parsers) {
  EXPECT_EQ(**parseCgroupMax("268435456\n"), 268435456u);
  EXPECT_FALSE(parseCgroupMax("max\n")->has_value());
  EXPECT_FALSE(parseCgroupMax("lots\n"));
  EXPECT_FALSE(parseCgroupMax("1 2\n"));
  EXPECT_EQ(*parseCgroupCounter("4096\n"), 4096u);
  EXPECT_FALSE(parseCgroupCounter(""));
  const char* stat = "anon 100\nfile 200\ninactive_file 150\nactive_file 50\n";
  EXPECT_EQ(*parseCgroupStatField(stat, "inactive_file"), 150u);
  EXPECT_FALSE(parseCgroupStatField(stat, "missing"));
  EXPECT_FALSE(parseCgroupStatField("usage_usec x\n", "usage_usec"));
  EXPECT_DOUBLE_EQ(**parseCgroupCpuMax("50000 100000\n"), 0.5);
  EXPECT_FALSE(parseCgroupCpuMax("max 100000\n")->has_value());
  EXPECT_FALSE(parseCgroupCpuMax("50000 0\n"));
  EXPECT_FALSE(parseCgroupCpuMax("50000\n"));
}

TEST_F(FakeProc, CgroupReplacesMemoryAndCpu) {
  std::string cg = root_ + "/cg";
  ::mkdir(cg.c_str(), 0755);
  write("cg/memory.current", std::to_string(100 * 1024 * 1024) + "\n");
  write("cg/memory.max", std::to_string(256 * 1024 * 1024) + "\n");
  write("cg/memory.stat", "anon 1\ninactive_file " + std::to_string(20 * 1024 * 1024) + "\n");
  write("cg/cpu.stat", "usage_usec 30000000\nuser_usec 1\n");
  write("cg/cpu.max", "50000 100000\n");
  ProcReader reader(root_, false, cg);
  auto a = reader.read(TimePoint(std::chrono::seconds(100)));
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->mem.totalKb, 256u * 1024);
  EXPECT_EQ(a->mem.freeKb, 156u * 1024);
  EXPECT_EQ(a->mem.availableKb, 176u * 1024);  // page cache is reclaimable
  EXPECT_EQ(a->stat.cpus, 1u);
  // 10 s later the cgroup used 2 s of its 0.5 CPU x 10 s = 5 s: 60% idle.
  write("uptime", "110.00 150.00\n");
  write("cg/cpu.stat", "usage_usec 32000000\n");
  auto b = reader.read(TimePoint(std::chrono::seconds(110)));
  ASSERT_TRUE(b) << b.error().message;
  uint64_t idle = b->stat.cpu.idle - a->stat.cpu.idle;
  uint64_t busy = b->stat.cpu.user - a->stat.cpu.user;
  EXPECT_NEAR(100.0 * static_cast<double>(idle) / static_cast<double>(idle + busy), 60.0, 0.01);
  // No memory limit: the host's total; missing cpu.max: every CPU.
  write("cg/memory.max", "max\n");
  ::unlink((cg + "/cpu.max").c_str());
  auto c = reader.read(TimePoint(std::chrono::seconds(110)));
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->mem.totalKb, 1014636u);
  EXPECT_EQ(c->stat.cpus, 2u);
  // A broken cgroup file is an error naming the cgroup.
  write("cg/memory.current", "garbage\n");
  auto d = reader.read(TimePoint(std::chrono::seconds(110)));
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().message.find("cgroup"), std::string::npos);
}

TEST(RealProc, ReadsThisHost) {
  // The real /proc of the machine running the test must parse.
  auto r = ProcReader().read(TimePoint{});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_GT(r->mem.totalKb, 0u);
  EXPECT_GE(r->stat.cpus, 1u);
  EXPECT_GT(r->stat.cpu.total(), 0u);
}

}  // namespace
}  // namespace lvsd::feedback
