// Sync, feedback, notify, control, metrics, IPVS globals.
#include <gtest/gtest.h>

#include "config_test_util.h"

namespace lvsd::config {
namespace {

using namespace testing;

TEST(KernelSync, Rules) {
  EXPECT_TRUE(
      valid(withExtra("sync { kernel { enabled: true interface: \"eth0\" sync_id: 7 } }\n")));
  EXPECT_TRUE(onlyError(withExtra("sync { kernel { enabled: true } }\n"), "sync.kernel.interface",
                        "interface is required when kernel sync is enabled"));
  EXPECT_TRUE(valid(withExtra("sync { kernel { enabled: false } }\n")));
  EXPECT_TRUE(onlyError(withExtra("sync { kernel { interface: \"eth0:1\" } }\n"),
                        "sync.kernel.interface", "invalid interface name 'eth0:1'"));
  EXPECT_TRUE(onlyError(withExtra("sync { kernel { sync_id: 256 } }\n"), "sync.kernel.sync_id",
                        "sync_id 256 outside 0..255"));
  EXPECT_TRUE(onlyError(withExtra("sync { kernel { port: 0 } }\n"), "sync.kernel.port",
                        "port 0 outside 1..65535"));
  EXPECT_TRUE(onlyError(withExtra("sync { kernel { ttl: 0 } }\n"), "sync.kernel.ttl",
                        "ttl 0 outside 1..255"));
  EXPECT_TRUE(onlyError(withExtra("sync { kernel { ttl: 256 } }\n"), "sync.kernel.ttl",
                        "ttl 256 outside 1..255"));
  EXPECT_TRUE(onlyError(withExtra("sync { kernel { maxlen: 70000 } }\n"), "sync.kernel.maxlen",
                        "outside 0..65507"));
}

TEST(KernelSync, MulticastGroup) {
  EXPECT_TRUE(
      valid(withExtra("sync { kernel { interface: \"eth0\" mcast_group: \"224.0.0.81\" } }\n")));
  EXPECT_TRUE(
      onlyError(withExtra("sync { kernel { interface: \"eth0\" mcast_group: \"192.0.2.81\" } }\n"),
                "sync.kernel.mcast_group", "mcast_group 192.0.2.81 is not a multicast address"));
  EXPECT_TRUE(
      onlyError(withExtra("sync { kernel { interface: \"eth0\" mcast_group: \"224.0.0\" } }\n"),
                "sync.kernel.mcast_group", "invalid IP address '224.0.0'"));
  EXPECT_TRUE(onlyError(
      withExtra("sync { kernel { interface: \"eth0\" mcast_group: \"ff02::81\" } }\n"),
      "sync.kernel.mcast_group",
      "mcast_group ff02::81 is IPv6 but heartbeat link 'lan' on interface 'eth0' uses IPv4"));
  // On an interface no heartbeat link uses, the family cannot be checked.
  EXPECT_TRUE(
      valid(withExtra("sync { kernel { interface: \"eth9\" mcast_group: \"ff02::81\" } }\n")));
}

TEST(Resync, MaxPps) {
  EXPECT_TRUE(
      onlyError(withExtra("sync { resync { max_pps: 0 } }\n"), "sync.resync.max_pps", "outside"));
  EXPECT_TRUE(valid(withExtra("sync { resync { enabled: false max_pps: 0 } }\n")));
}

TEST(PeerChannel, NeedsCertificatesOrPsk) {
  const std::string certs =
      "cert_file: \"/etc/lvsd/c.pem\" key_file: \"/etc/lvsd/k.pem\" ca_file: \"/etc/lvsd/ca.pem\"";
  EXPECT_TRUE(valid(withExtra("sync { peer_channel { enabled: true " + certs + " } }\n")));
  EXPECT_TRUE(valid(withExtra(
      "sync { peer_channel { enabled: true psk_hex: \"00112233445566778899aabbccddeeff\" } }\n")));
  EXPECT_TRUE(onlyError(
      withExtra("sync { peer_channel { enabled: true } }\n"), "sync.peer_channel.enabled",
      "needs cert_file, key_file and ca_file, or psk_hex (missing cert_file, key_file, ca_file)"));
  EXPECT_TRUE(onlyError(
      withExtra("sync { peer_channel { enabled: true cert_file: \"/c\" key_file: \"/k\" } }\n"),
      "sync.peer_channel.enabled", "(missing ca_file)"));
  EXPECT_TRUE(onlyError(withExtra("sync { peer_channel { enabled: true " + certs +
                                  " psk_hex: \"00112233445566778899aabbccddeeff\" } }\n"),
                        "sync.peer_channel.psk_hex", "either certificates"));
  EXPECT_TRUE(onlyError(withExtra("sync { peer_channel { enabled: true psk_hex: \"0011\" } }\n"),
                        "sync.peer_channel.psk_hex", "psk_hex must be 32..128 hex digits"));
  EXPECT_TRUE(onlyError(withExtra("sync { peer_channel { cert_file: \"c.pem\" } }\n"),
                        "sync.peer_channel.cert_file",
                        "cert_file 'c.pem' is not an absolute path"));
  EXPECT_TRUE(onlyError(withExtra("sync { peer_channel { port: 0 } }\n"), "sync.peer_channel.port",
                        "port 0 outside"));
  // Disabled: credentials are not required.
  EXPECT_TRUE(valid(withExtra("sync { peer_channel { enabled: false } }\n")));
}

TEST(Feedback, Ranges) {
  EXPECT_TRUE(valid(withExtra(
      "feedback { policy: ADAPTIVE memory_share: 1 ewma_alpha: 1 max_step_pct: 100 }\n")));
  struct Case {
    const char* body;
    const char* field;
    const char* message;
  } cases[] = {
      {"memory_share: 1.5", "feedback.memory_share", "memory_share 1.5 outside 0..1"},
      {"memory_share: -0.1", "feedback.memory_share", "outside 0..1"},
      {"memory_share: nan", "feedback.memory_share", "memory_share nan outside 0..1"},
      {"ewma_alpha: 0", "feedback.ewma_alpha", "ewma_alpha 0 outside 0 < alpha <= 1"},
      {"ewma_alpha: 1.01", "feedback.ewma_alpha", "outside 0 < alpha <= 1"},
      {"max_step_pct: 0", "feedback.max_step_pct", "max_step_pct 0 outside 1..100"},
      {"max_step_pct: 101", "feedback.max_step_pct", "outside 1..100"},
      {"hysteresis_pct: 101", "feedback.hysteresis_pct", "outside 0..100"},
      {"min_weight: 10 max_weight: 5", "feedback.min_weight", "min_weight 10 above max_weight 5"},
      {"max_weight: 65536", "feedback.max_weight", "max_weight 65536 outside 0..65535"},
      {"agent_port: 0", "feedback.agent_port", "agent_port 0 outside 1..65535"},
      {"samples: 0", "feedback.samples", "samples 0 outside 1..100"},
      {"poll_interval_ms: 20000", "feedback.poll_interval_ms",
       "samples × sample_interval_ms = 5 × 5000 = 25000 ms does not fit in poll_interval_ms 20000"},
      {"process_memory_kb: 0", "feedback.process_memory_kb", "outside"},
      {"connections_per_minute: 0", "feedback.connections_per_minute", "outside"},
      {"agent_timeout_ms: 0", "feedback.agent_timeout_ms", "outside 1..60000"},
      {"agent_fall: 0", "feedback.agent_fall", "outside 1..100"},
      {"blocked_threshold: 0", "feedback.blocked_threshold", "outside 0 < value <= 1000"},
      {"swap_out_threshold_kb_s: -1", "feedback.swap_out_threshold_kb_s",
       "must be a finite value >= 0"},
      {"swap_out_threshold_kb_s: inf", "feedback.swap_out_threshold_kb_s",
       "must be a finite value >= 0"},
      {"adaptive_gain: 0", "feedback.adaptive_gain", "outside 0 < gain <= 10"},
      {"adaptive_gain: 10.5", "feedback.adaptive_gain", "outside 0 < gain <= 10"},
      {"min_update_interval_ms: 86400001", "feedback.min_update_interval_ms", "outside"},
  };
  for (const auto& c : cases)
    EXPECT_TRUE(
        onlyError(withExtra(std::string("feedback { ") + c.body + " }\n"), c.field, c.message))
        << c.body;
}

TEST(Notify, Rules) {
  EXPECT_TRUE(
      valid(withExtra("notify { on_change: \"/usr/lib/lvsd/notify\" timeout_ms: 5000 }\n")));
  EXPECT_TRUE(onlyError(withExtra("notify { on_fault: \"notify\" }\n"), "notify.on_fault[0]",
                        "program 'notify' is not an absolute path"));
  EXPECT_TRUE(onlyError(withExtra("notify { timeout_ms: 0 }\n"), "notify.timeout_ms",
                        "timeout_ms 0 outside"));
}

TEST(Control, SocketIsAnAbsolutePathThatFits) {
  EXPECT_TRUE(valid(withExtra("control { socket: \"/run/lvsd/ctl.sock\" }\n")));
  EXPECT_TRUE(onlyError(withExtra("control { socket: \"lvsd.sock\" }\n"), "control.socket",
                        "socket 'lvsd.sock' is not an absolute path"));
  EXPECT_TRUE(onlyError(withExtra("control { socket: \"/" + std::string(110, 's') + "\" }\n"),
                        "control.socket",
                        "socket path of 111 bytes is longer than a Unix socket allows (107)"));
}

TEST(Metrics, ListenIsIpPort) {
  EXPECT_TRUE(valid(withExtra("metrics { listen: \"127.0.0.1:9465\" }\n")));
  EXPECT_TRUE(valid(withExtra("metrics { listen: \"[::1]:9465\" }\n")));
  EXPECT_TRUE(onlyError(withExtra("metrics { listen: \"127.0.0.1\" }\n"), "metrics.listen",
                        "missing port in '127.0.0.1' (expected ip:port)"));
  EXPECT_TRUE(onlyError(withExtra("metrics { listen: \"localhost:9465\" }\n"), "metrics.listen",
                        "invalid IP address 'localhost'"));
  EXPECT_TRUE(onlyError(withExtra("metrics { listen: \"127.0.0.1:0\" }\n"), "metrics.listen",
                        "listen port 0 outside 1..65535"));
}

TEST(Ipvs, Timeouts) {
  EXPECT_TRUE(
      valid(withExtra("ipvs { tcp_timeout_s: 900 tcpfin_timeout_s: 120 udp_timeout_s: 300 }\n")));
  EXPECT_TRUE(onlyError(withExtra("ipvs { tcp_timeout_s: 2147484 }\n"), "ipvs.tcp_timeout_s",
                        "tcp_timeout_s 2147484 outside 0..2147483"));
  EXPECT_TRUE(onlyError(withExtra("ipvs { udp_timeout_s: 4000000000 }\n"), "ipvs.udp_timeout_s",
                        "outside"));
  EXPECT_TRUE(onlyError(withExtra("ipvs { tcpfin_timeout_s: 4000000000 }\n"),
                        "ipvs.tcpfin_timeout_s", "outside"));
}

}  // namespace
}  // namespace lvsd::config
