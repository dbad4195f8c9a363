#include "sync/daemons.h"

#include <gtest/gtest.h>

#include "fakes/fake_ipvs_backend.h"

namespace lvsd::sync {
namespace {

using R = InstanceRole;
using config::KernelSync;

config::KernelSync ks() {
  KernelSync k;
  k.set_enabled(true);
  k.set_interface("eth1");
  k.set_sync_id(3);
  k.set_port(8848);
  k.set_ttl(1);
  return k;
}

TEST(SyncDaemons, FollowTheRoles) {
  auto F = KernelSync::FOLLOW_ROLE;
  EXPECT_EQ(daemonsFor(F, {}), DaemonSet::kBackup);
  EXPECT_EQ(daemonsFor(F, {R::kInit}), DaemonSet::kBackup);
  EXPECT_EQ(daemonsFor(F, {R::kBackup}), DaemonSet::kBackup);
  EXPECT_EQ(daemonsFor(F, {R::kFault}), DaemonSet::kBackup);
  EXPECT_EQ(daemonsFor(F, {R::kMaster}), DaemonSet::kMaster);
  EXPECT_EQ(daemonsFor(F, {R::kMaster, R::kMaster}), DaemonSet::kMaster);
  EXPECT_EQ(daemonsFor(F, {R::kMaster, R::kBackup}), DaemonSet::kBoth);
  EXPECT_EQ(daemonsFor(F, {R::kMaster, R::kStop}), DaemonSet::kMaster);
  EXPECT_EQ(daemonsFor(F, {R::kStop}), DaemonSet::kNone);
  EXPECT_EQ(daemonsFor(F, {R::kStop, R::kStop}), DaemonSet::kNone);
  auto B = KernelSync::BOTH;
  EXPECT_EQ(daemonsFor(B, {}), DaemonSet::kBoth);
  EXPECT_EQ(daemonsFor(B, {R::kBackup}), DaemonSet::kBoth);
  EXPECT_EQ(daemonsFor(B, {R::kMaster}), DaemonSet::kBoth);
  EXPECT_EQ(daemonsFor(B, {R::kStop}), DaemonSet::kNone);
  EXPECT_STREQ(daemonSetName(DaemonSet::kBoth), "both");
}

TEST(SyncDaemons, WantedCarriesEveryAttribute) {
  KernelSync k = ks();
  k.set_maxlen(1400);
  k.set_mcast_group("239.1.2.3");
  k.set_port(9000);
  k.set_ttl(4);
  auto w = wantedDaemons(k, DaemonSet::kBoth);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(w->master && w->backup);
  EXPECT_EQ(w->master->state, ipvs::SyncState::kMaster);
  EXPECT_EQ(w->backup->state, ipvs::SyncState::kBackup);
  for (const auto& d : {*w->master, *w->backup}) {
    EXPECT_EQ(d.interface, "eth1");
    EXPECT_EQ(d.syncId, 3u);
    EXPECT_EQ(d.maxLen, 1400);
    EXPECT_EQ(d.group, IpAddress::parse("239.1.2.3").value());
    EXPECT_EQ(d.port, 9000);
    EXPECT_EQ(d.ttl, 4);
  }
  auto none = wantedDaemons(k, DaemonSet::kNone);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->master || none->backup);
  auto m = wantedDaemons(ks(), DaemonSet::kMaster);
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(m->master && !m->backup);
  EXPECT_FALSE(m->master->group.has_value());  // kernel default 224.0.0.81
  k.set_mcast_group("nope");
  EXPECT_FALSE(wantedDaemons(k, DaemonSet::kMaster).ok());
}

TEST(SyncDaemons, MatchingToleratesKernelDefaultsAndClamping) {
  ipvs::SyncDaemon w = *wantedDaemons(ks(), DaemonSet::kBackup)->backup;
  ipvs::SyncDaemon a = w;
  EXPECT_TRUE(daemonMatches(w, a));
  // What a kernel reports after applying its defaults.
  a.group = IpAddress::parse("224.0.0.81").value();
  a.maxLen = 1472;
  EXPECT_TRUE(daemonMatches(w, a));
  a.group = IpAddress::parse("224.0.0.82").value();
  EXPECT_FALSE(daemonMatches(w, a));
  a = w;
  a.interface = "eth2";
  EXPECT_FALSE(daemonMatches(w, a));
  a = w;
  a.syncId = 4;
  EXPECT_FALSE(daemonMatches(w, a));
  a = w;
  a.port = 8849;
  EXPECT_FALSE(daemonMatches(w, a));
  a.port = 0;  // older kernels do not report it
  EXPECT_TRUE(daemonMatches(w, a));
  a = w;
  a.ttl = 2;
  EXPECT_FALSE(daemonMatches(w, a));
  a = w;
  a.state = ipvs::SyncState::kMaster;
  EXPECT_FALSE(daemonMatches(w, a));

  // A backup's requested maxlen below 1024 is raised to 1024 by the kernel.
  w.maxLen = 600;
  a = w;
  a.maxLen = 1024;
  EXPECT_TRUE(daemonMatches(w, a));
  a.maxLen = 600;
  EXPECT_FALSE(daemonMatches(w, a));
  EXPECT_EQ(kernelMaxlen(ipvs::SyncState::kMaster, Family::kV4, 600), 600);
  EXPECT_EQ(kernelMaxlen(ipvs::SyncState::kBackup, Family::kV4, 65535), 65507);
  EXPECT_EQ(kernelMaxlen(ipvs::SyncState::kBackup, Family::kV6, 65535), 65487);
}

std::vector<std::string> describe(const std::vector<DaemonOp>& ops) {
  std::vector<std::string> out;
  for (const auto& o : ops) out.push_back(o.toString());
  return out;
}

TEST(SyncDaemons, SwitchingRolesStartsTheNewDaemonBeforeStoppingTheOld) {
  auto backup = *wantedDaemons(ks(), DaemonSet::kBackup);
  auto master = *wantedDaemons(ks(), DaemonSet::kMaster);
  auto both = *wantedDaemons(ks(), DaemonSet::kBoth);
  auto none = *wantedDaemons(ks(), DaemonSet::kNone);

  EXPECT_EQ(describe(planDaemons(backup, {})),
            std::vector<std::string>{"start backup eth1 syncid 3 port 8848 ttl 1"});
  EXPECT_EQ(describe(planDaemons(master, {*backup.backup})),
            (std::vector<std::string>{"start master eth1 syncid 3 port 8848 ttl 1",
                                      "stop backup"}));
  EXPECT_EQ(describe(planDaemons(backup, {*master.master})),
            (std::vector<std::string>{"start backup eth1 syncid 3 port 8848 ttl 1",
                                      "stop master"}));
  EXPECT_TRUE(planDaemons(both, {*master.master, *backup.backup}).empty());
  EXPECT_TRUE(planDaemons(master, {*master.master}).empty());
  EXPECT_EQ(describe(planDaemons(none, {*master.master, *backup.backup})),
            (std::vector<std::string>{"stop master", "stop backup"}));
  // Changed settings: restart that daemon.
  KernelSync k = ks();
  k.set_sync_id(9);
  auto changed = *wantedDaemons(k, DaemonSet::kMaster);
  EXPECT_EQ(describe(planDaemons(changed, {*master.master, *backup.backup})),
            (std::vector<std::string>{"stop master", "start master eth1 syncid 9 port 8848 ttl 1",
                                      "stop backup"}));
}

TEST(SyncDaemons, ControllerAppliesAndVerifies) {
  testing::FakeIpvsBackend kernel;
  DaemonController ctl(kernel);
  auto backup = *wantedDaemons(ks(), DaemonSet::kBackup);
  auto master = *wantedDaemons(ks(), DaemonSet::kMaster);

  auto r = ctl.reconcile(backup);
  EXPECT_TRUE(r.ok()) << r.errors.at(0);
  ASSERT_EQ(kernel.daemons.size(), 1u);
  EXPECT_EQ(kernel.daemons[0].state, ipvs::SyncState::kBackup);

  r = ctl.reconcile(master);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.ops.size(), 2u);
  ASSERT_EQ(kernel.daemons.size(), 1u);
  EXPECT_EQ(kernel.daemons[0].state, ipvs::SyncState::kMaster);
  EXPECT_EQ(r.running, kernel.daemons);

  r = ctl.reconcile(master);  // already there: nothing sent
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.ops.empty());
}

TEST(SyncDaemons, SocketSizeIsSetBeforeADaemonStartsAndOnlyThen) {
  testing::FakeIpvsBackend kernel;
  std::vector<std::string> calls;
  DaemonController ctl(kernel, [&](uint32_t bytes) {
    calls.push_back("size " + std::to_string(bytes) + " with " +
                    std::to_string(kernel.daemons.size()) + " daemon(s) running");
    return lvsd::okStatus();
  });
  KernelSync k = ks();
  k.set_sock_size(4 << 20);
  auto backup = *wantedDaemons(k, DaemonSet::kBackup);
  EXPECT_EQ(backup.sockSize, 4u << 20);
  EXPECT_TRUE(ctl.reconcile(backup).ok());
  EXPECT_EQ(calls, std::vector<std::string>{"size 4194304 with 0 daemon(s) running"});
  EXPECT_TRUE(ctl.reconcile(backup).ok());  // nothing starts: not set again
  EXPECT_EQ(calls.size(), 1u);
  EXPECT_TRUE(ctl.reconcile(*wantedDaemons(k, DaemonSet::kNone)).ok());  // only a stop
  EXPECT_EQ(calls.size(), 1u);
  EXPECT_TRUE(ctl.reconcile(*wantedDaemons(ks(), DaemonSet::kMaster)).ok());  // size 0: leave it
  EXPECT_EQ(calls.size(), 1u);

  DaemonController failing(kernel, [](uint32_t) { return lvsd::Status(Error("read-only", EROFS)); });
  kernel.daemons.clear();
  auto r = failing.reconcile(backup);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.errors[0], "sync_sock_size 4194304: read-only");
  EXPECT_EQ(kernel.daemons.size(), 1u);  // the daemon still starts
}

TEST(SyncDaemons, ControllerReportsFailuresAndWhatTheKernelSays) {
  testing::FakeIpvsBackend kernel;
  DaemonController ctl(kernel);
  kernel.failAll = ENOENT;
  auto r = ctl.reconcile(*wantedDaemons(ks(), DaemonSet::kBackup));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.errors[0].find("read sync daemons"), std::string::npos);

  // The kernel runs a backup daemon with another sync id that lvsd did not start.
  kernel.failAll = 0;
  ipvs::SyncDaemon other = *wantedDaemons(ks(), DaemonSet::kBackup)->backup;
  other.syncId = 77;
  kernel.daemons = {other};
  r = ctl.reconcile(*wantedDaemons(ks(), DaemonSet::kBackup));
  EXPECT_TRUE(r.ok());  // stopped and started again with syncid 3
  ASSERT_EQ(kernel.daemons.size(), 1u);
  EXPECT_EQ(kernel.daemons[0].syncId, 3u);
}

// A backend whose daemons come back different from what was asked.
class LyingKernel final : public ipvs::IpvsBackend {
 public:
  testing::FakeIpvsBackend inner;
  Result<ipvs::Info> info() override { return inner.info(); }
  Result<std::vector<ipvs::ServiceEntry>> services() override { return inner.services(); }
  Result<ipvs::ServiceEntry> service(const ipvs::ServiceKey& k) override { return inner.service(k); }
  Result<std::vector<ipvs::DestinationEntry>> destinations(const ipvs::ServiceKey& k) override {
    return inner.destinations(k);
  }
  ipvs::BatchResult apply(std::span<const ipvs::Op> ops) override { return inner.apply(ops); }
  lvsd::Status flush() override { return inner.flush(); }
  lvsd::Status zero(const ipvs::ServiceKey* k) override { return inner.zero(k); }
  Result<ipvs::Timeouts> timeouts() override { return inner.timeouts(); }
  lvsd::Status setTimeouts(const ipvs::Timeouts& t) override { return inner.setTimeouts(t); }
  Result<std::vector<ipvs::SyncDaemon>> syncDaemons() override {
    auto d = inner.syncDaemons();
    if (d.ok())
      for (auto& x : *d) x.interface = "lo";
    return d;
  }
  lvsd::Status startSyncDaemon(const ipvs::SyncDaemon& d) override {
    return inner.startSyncDaemon(d);
  }
  lvsd::Status stopSyncDaemon(ipvs::SyncState s) override { return inner.stopSyncDaemon(s); }
};

TEST(SyncDaemons, ControllerNoticesAKernelThatDisagrees) {
  LyingKernel kernel;
  DaemonController ctl(kernel);
  auto r = ctl.reconcile(*wantedDaemons(ks(), DaemonSet::kMaster));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.errors.back().find("kernel reports master lo syncid 3"), std::string::npos)
      << r.errors.back();
}

}  // namespace
}  // namespace lvsd::sync
