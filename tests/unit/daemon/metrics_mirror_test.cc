// The modules' own counters land in the standard families.
#include "daemon/metrics_mirror.h"

#include <gtest/gtest.h>

namespace lvsd::daemon::metrics {
namespace {

bool has(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

class Mirror : public ::testing::Test {
 protected:
  Registry registry_;
  LvsdMetrics m_{registry_};
  std::string text() { return "\n" + registry_.render(); }
};

TEST_F(Mirror, HeartbeatCounters) {
  mirrorHeartbeat(m_, {{"sent", 120},
                       {"received", 118},
                       {"send_errors", 1},
                       {"drop.bad-mac", 3},
                       {"drop.replayed", 2},
                       {"loop.wakeups", 400},
                       {"loop.late_over_1ms", 9},
                       {"loop.late_over_5ms", 2},
                       {"loop.late_over_20ms", 0},
                       {"loop.max_late_us", 7500}});
  std::string t = text();
  EXPECT_TRUE(has(t, "lvsd_heartbeat_sent_total 120")) << t;
  EXPECT_TRUE(has(t, "lvsd_heartbeat_received_total 118"));
  EXPECT_TRUE(has(t, "lvsd_heartbeat_send_errors_total 1"));
  EXPECT_TRUE(has(t, "lvsd_heartbeat_dropped_total{reason=\"bad-mac\"} 3"));
  EXPECT_TRUE(has(t, "lvsd_heartbeat_dropped_total{reason=\"replayed\"} 2"));
  EXPECT_TRUE(has(t, "lvsd_heartbeat_loop_late_wakeups_total{over=\"0.005\"} 2"));
  EXPECT_TRUE(has(t, "lvsd_heartbeat_loop_max_lateness_seconds 0.0075"));
  // A reason that is no longer reported disappears.
  mirrorHeartbeat(m_, {{"drop.replayed", 2}});
  EXPECT_EQ(text().find("reason=\"bad-mac\""), std::string::npos);
}

TEST_F(Mirror, InstancesAndTransitions) {
  control::Status s;
  auto* a = s.add_instance();
  a->set_name("VI_WEB");
  a->set_state("MASTER");
  a->set_effective_priority(150);
  auto* b = s.add_instance();
  b->set_name("VI_DNS");
  b->set_state("BACKUP");
  b->set_effective_priority(100);
  mirrorInstances(m_, s);
  countTransition(m_, "VI_WEB", "BACKUP", "MASTER");
  countTransition(m_, "VI_WEB", "BACKUP", "MASTER");
  std::string t = text();
  EXPECT_TRUE(has(t, "lvsd_instance_role{lvs_instance=\"VI_WEB\",role=\"MASTER\"} 1")) << t;
  EXPECT_TRUE(has(t, "lvsd_instance_role{lvs_instance=\"VI_WEB\",role=\"BACKUP\"} 0"));
  EXPECT_TRUE(has(t, "lvsd_instance_role{lvs_instance=\"VI_DNS\",role=\"BACKUP\"} 1"));
  EXPECT_TRUE(has(t, "lvsd_instance_priority{lvs_instance=\"VI_WEB\"} 150"));
  EXPECT_TRUE(has(t, "lvsd_instance_transitions_total{lvs_instance=\"VI_WEB\",from=\"BACKUP\",to=\"MASTER\"} 2"));
  EXPECT_EQ(m_.instanceRole.size(), 8u);
}

TEST_F(Mirror, ChecksAndRealServers) {
  // The catalogue's buckets are healthcheck's, so its histogram mirrors 1:1.
  std::vector<double> hc(std::begin(healthcheck::LatencyHistogram::kBoundsSeconds),
                         std::end(healthcheck::LatencyHistogram::kBoundsSeconds));
  ASSERT_EQ(checkLatencyBuckets(), hc);
  healthcheck::Snapshot snap;
  healthcheck::CheckStatus ch;
  ch.name = "http";
  ch.target = *Endpoint::parse("10.0.1.11:80");
  ch.stats.successes = 40;
  ch.stats.failures = 2;
  ch.stats.timeouts = 1;
  ch.stats.lastLatency = std::chrono::milliseconds(12);
  ch.stats.latencyCount = 42;
  snap.checks.push_back(ch);
  healthcheck::ServiceStatus svc;
  svc.service = "web";
  svc.key = "tcp/192.0.2.10:80";
  healthcheck::RealServerStatus up, down;
  up.address = *Endpoint::parse("10.0.1.11:80");
  up.up = true;
  up.weight = 5;
  down.address = *Endpoint::parse("10.0.1.12:80");
  svc.realServers = {up, down};
  snap.services.push_back(svc);
  healthcheck::ManagerCounters c;
  c.latency.count = 43;
  c.latency.sumSeconds = 0.5;
  for (auto& b : c.latency.buckets) b = 43;
  c.latency.buckets[0] = 10;
  mirrorChecks(m_, snap, c);
  std::string t = text();
  EXPECT_TRUE(has(t, "lvsd_check_results_total{check=\"http\",target=\"10.0.1.11:80\",result=\"success\"} 40")) << t;
  EXPECT_TRUE(has(t, "lvsd_check_results_total{check=\"http\",target=\"10.0.1.11:80\",result=\"timeout\"} 1"));
  EXPECT_TRUE(has(t, "lvsd_check_last_duration_seconds{check=\"http\",target=\"10.0.1.11:80\"} 0.012"));
  EXPECT_TRUE(has(t, "lvsd_check_duration_seconds_bucket{le=\"0.001\"} 10"));
  EXPECT_TRUE(has(t, "lvsd_check_duration_seconds_count 43"));
  EXPECT_TRUE(has(t, "lvsd_real_server_up{service=\"web\",real_server=\"10.0.1.11:80\"} 1"));
  EXPECT_TRUE(has(t, "lvsd_real_server_up{service=\"web\",real_server=\"10.0.1.12:80\"} 0"));
  EXPECT_TRUE(has(t, "lvsd_real_server_weight{service=\"web\",real_server=\"10.0.1.11:80\"} 5"));
  EXPECT_TRUE(has(t, "lvsd_real_server_weight{service=\"web\",real_server=\"10.0.1.12:80\"} 0"));
}

// A reload that removed a real server or a check: the next scrape forgets
// them; the histogram keeps its (cumulative) totals.
TEST_F(Mirror, ChecksForgetWhatLeft) {
  healthcheck::Snapshot snap;
  healthcheck::CheckStatus ch;
  ch.name = "tcp";
  ch.target = *Endpoint::parse("10.0.1.11:80");
  ch.stats.successes = 1;
  snap.checks.push_back(ch);
  healthcheck::ServiceStatus svc;
  svc.key = "tcp/192.0.2.10:80";  // no name: the key labels it
  healthcheck::RealServerStatus rs;
  rs.address = *Endpoint::parse("10.0.1.11:80");
  rs.up = true;
  rs.weight = 1;
  svc.realServers = {rs};
  snap.services.push_back(svc);
  healthcheck::ManagerCounters c;
  c.latency.count = 1;
  for (auto& b : c.latency.buckets) b = 1;
  mirrorChecks(m_, snap, c);
  EXPECT_TRUE(has(text(), "lvsd_real_server_up{service=\"tcp/192.0.2.10:80\",real_server=\"10.0.1.11:80\"} 1"))
      << text();
  mirrorChecks(m_, {}, c);
  std::string t = text();
  EXPECT_EQ(t.find("real_server=\"10.0.1.11:80\""), std::string::npos) << t;
  EXPECT_EQ(t.find("target=\"10.0.1.11:80\""), std::string::npos) << t;
  EXPECT_TRUE(has(t, "lvsd_check_duration_seconds_count 1"));
}

// Counters mirrored from a module may only grow between scrapes; a mirror
// does not add them up twice.
TEST_F(Mirror, MirroringTwiceIsIdempotent) {
  mirrorHeartbeat(m_, {{"sent", 5}, {"drop.bad-mac", 0}});
  mirrorHeartbeat(m_, {{"sent", 5}, {"drop.bad-mac", 0}});
  std::string t = text();
  EXPECT_TRUE(has(t, "lvsd_heartbeat_sent_total 5")) << t;
  EXPECT_TRUE(has(t, "lvsd_heartbeat_dropped_total{reason=\"bad-mac\"} 0"));
  mirrorIpvsCounters(m_, 2, 3, 0);
  mirrorIpvsCounters(m_, 2, 3, 0);
  EXPECT_TRUE(has(text(), "lvsd_ipvs_operations_total 3"));
}

TEST_F(Mirror, IpvsCountersAndKernelStats) {
  mirrorIpvsCounters(m_, 7, 31, 1);
  ServiceStats s;
  s.service = "web";
  s.entry.stats.conns = 1000;
  s.entry.stats.inBytes = 5000;
  s.entry.stats.cps = 12;
  ipvs::DestinationEntry d;
  d.dest.address = *IpAddress::parse("10.0.1.11");
  d.dest.port = 80;
  d.activeConns = 3;
  d.inactiveConns = 9;
  d.stats.conns = 600;
  d.stats.outBps = 2048;
  s.destinations.push_back(d);
  mirrorIpvsStats(m_, {s});
  std::string t = text();
  EXPECT_TRUE(has(t, "lvsd_ipvs_applies_total 7")) << t;
  EXPECT_TRUE(has(t, "lvsd_ipvs_operations_total 31"));
  EXPECT_TRUE(has(t, "lvsd_ipvs_operation_errors_total 1"));
  EXPECT_TRUE(has(t, "lvsd_ipvs_service_connections_total{service=\"web\"} 1000"));
  EXPECT_TRUE(has(t, "lvsd_ipvs_service_bytes_total{service=\"web\",direction=\"in\"} 5000"));
  EXPECT_TRUE(has(t, "lvsd_ipvs_service_connections_per_second{service=\"web\"} 12"));
  EXPECT_TRUE(has(t, "lvsd_ipvs_destination_active_connections{service=\"web\",real_server=\"10.0.1.11:80\"} 3"));
  EXPECT_TRUE(has(t, "lvsd_ipvs_destination_inactive_connections{service=\"web\",real_server=\"10.0.1.11:80\"} 9"));
  EXPECT_TRUE(has(t, "lvsd_ipvs_destination_connections_total{service=\"web\",real_server=\"10.0.1.11:80\"} 600"));
  EXPECT_TRUE(has(t, "lvsd_ipvs_destination_bytes_per_second{service=\"web\",real_server=\"10.0.1.11:80\",direction=\"out\"} 2048"));
  mirrorIpvsStats(m_, {});  // the service went away
  EXPECT_EQ(text().find("service=\"web\""), std::string::npos);
}

TEST_F(Mirror, Sync) {
  sync::SyncStatus s;
  sync::PeerStatus p;
  p.director = "lvs2";
  p.connected = true;
  p.connects = 3;
  s.peers.push_back(p);
  s.channelErrors = {{"bad-frame", 2}};
  s.daemonSwitches = 4;
  s.resync.runs = 5;
  s.resync.entries = 50000;
  s.resync.durationMs = 1500;
  mirrorSync(m_, s);
  std::string t = text();
  EXPECT_TRUE(has(t, "lvsd_sync_peer_up{peer=\"lvs2\"} 1")) << t;
  EXPECT_TRUE(has(t, "lvsd_sync_peer_connects_total{peer=\"lvs2\"} 3"));
  EXPECT_TRUE(has(t, "lvsd_sync_channel_errors_total{reason=\"bad-frame\"} 2"));
  EXPECT_TRUE(has(t, "lvsd_sync_daemon_switches_total 4"));
  EXPECT_TRUE(has(t, "lvsd_sync_resyncs_total 5"));
  EXPECT_TRUE(has(t, "lvsd_sync_resync_last_entries 50000"));
  EXPECT_TRUE(has(t, "lvsd_sync_resync_last_duration_seconds 1.5"));
}

}  // namespace
}  // namespace lvsd::daemon::metrics
