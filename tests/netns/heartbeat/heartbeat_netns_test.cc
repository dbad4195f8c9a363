// Issue 5 acceptance in host network namespaces (label netns, needs root):
// two directors and a client on a bridge (plus a crossover link and an
// attacker where a test needs them), real sockets, real VIPs, real ARP.
// Each test builds its own namespaces with a unique prefix and tears them
// down; nothing leaves them.
#include <gtest/gtest.h>

#include <filesystem>

#include "netns_util.h"

namespace lvsd::netns {
namespace {

namespace fs = std::filesystem;

const char* kVip = "10.77.0.100";
const char* kKey = "5f1e2d3c4b5a69788796a5b4c3d2e1f000112233445566778899aabbccddeeff";
constexpr int kIntervalMs = 100;

std::string bin(const std::string& name) {
  return env("LVSD_BUILD_DIR", ".") + "/tests/" + name;
}
std::string lvsd() { return env("LVSD_BUILD_DIR", ".") + "/bin/lvsd"; }

// Namespaces: a switch holding the bridge; directors a and b; client c;
// optionally attacker x; optionally a crossover veth a:eth1 <-> b:eth1.
class Cluster {
 public:
  struct Options {
    bool xover = false;
    bool attacker = false;
    bool ipv6 = false;  // also fd00:77::N/64 on the bridge
  };
  explicit Cluster(Options o) : prefix_(uniquePrefix("")) {
    dir_ = "/tmp/" + prefix_;
    fs::create_directories(dir_);
    sw_ = std::make_unique<Netns>(prefix_ + "-sw");
    sw_->ip("link add br0 type bridge");
    sw_->ip("link set br0 up");
    a_ = node("a", "10.77.0.1");
    b_ = node("b", "10.77.0.2");
    c_ = node("c", "10.77.0.3");
    if (o.ipv6) {
      int n = 1;
      for (Netns* ns : {a_.get(), b_.get(), c_.get()})
        ns->ip("addr add fd00:77::" + std::to_string(n++) + "/64 dev eth0 nodad");
    }
    if (o.attacker) x_ = node("x", "10.77.0.66");
    if (o.xover) {
      sh("ip link add eth1 netns " + a_->name() + " type veth peer name eth1 netns " + b_->name());
      a_->ip("addr add 10.78.0.1/24 dev eth1");
      b_->ip("addr add 10.78.0.2/24 dev eth1");
      a_->ip("link set eth1 up");
      b_->ip("link set eth1 up");
    }
  }
  ~Cluster() {
    x_.reset();
    c_.reset();
    b_.reset();
    a_.reset();
    sw_.reset();
    fs::remove_all(dir_);
  }
  Netns& a() { return *a_; }
  Netns& b() { return *b_; }
  Netns& c() { return *c_; }
  Netns& x() { return *x_; }
  const std::string& dir() const { return dir_; }
  std::string path(const std::string& f) const { return dir_ + "/" + f; }

 private:
  std::unique_ptr<Netns> node(const std::string& tag, const std::string& addr) {
    auto ns = std::make_unique<Netns>(prefix_ + "-" + tag);
    // Devices created from here on skip duplicate address detection: the
    // link-local addresses are usable at once.
    ns->exec("sysctl -qw net.ipv6.conf.default.accept_dad=0");
    sh("ip link add eth0 netns " + ns->name() + " type veth peer name " + tag + "0 netns " +
       sw_->name());
    sw_->ip("link set " + tag + "0 master br0");
    sw_->ip("link set " + tag + "0 up");
    ns->ip("addr add " + addr + "/24 dev eth0");
    ns->ip("link set eth0 up");
    return ns;
  }

  std::string prefix_, dir_;
  std::unique_ptr<Netns> sw_, a_, b_, c_, x_;
};

struct NativeOptions {
  bool xover = false;
  bool preempt = true;
};

std::string nativeConfig(NativeOptions o) {
  std::string xa = o.xover ? " address { link: \"xover\" address: \"10.78.0.1\" }" : "";
  std::string xb = o.xover ? " address { link: \"xover\" address: \"10.78.0.2\" }" : "";
  std::string xl = o.xover ? " link { name: \"xover\" interface: \"eth1\" }" : "";
  return std::string("director { name: \"a\" priority: 150 address { link: \"lan\" address: \"10.77.0.1\" }") +
         xa + " }\n" +
         "director { name: \"b\" priority: 100 address { link: \"lan\" address: \"10.77.0.2\" }" + xb +
         " }\n" + "heartbeat { interval_ms: " + std::to_string(kIntervalMs) +
         " link { name: \"lan\" interface: \"eth0\" }" + xl + " key { id: 1 secret_hex: \"" + kKey +
         "\" } }\n" + "instance { name: \"web\" vrid: 51 vip_group: \"web\"" +
         (o.preempt ? "" : " preempt: false") + " }\n" +
         "vip_group { name: \"web\" vip { address: \"" + kVip +
         "/24\" interface: \"eth0\" } announce { repeat: 3 interval_ms: 50 } }\n";
}

// One lvsd. Every director reads the same config file (its digest is the
// same on both, as in production): the control socket path in it,
// DIR/run/lvsd.sock, is a private bind mount of DIR/NAME/ in the director's
// own mount namespace.
class Director {
 public:
  Director(Cluster& cl, Netns& ns, std::string name, std::string config)
      : cl_(cl), ns_(ns), name_(std::move(name)), config_(std::move(config)) {}
  void start() {
    fs::create_directories(cl_.path("run"));
    fs::create_directories(cl_.path(name_));
    std::ofstream(cl_.path("lvsd.conf"))
        << config_ << "control { socket: \"" << cl_.path("run/lvsd.sock") << "\" }\n"
        << "ipvs { backend: DRY_RUN }\n";
    ::unlink(sock().c_str());
    proc_ = Proc(ns_,
                 {"unshare", "-m", "sh", "-c",
                  "mount --bind \"$1\" \"$2\" && shift 2 && exec \"$@\"", "sh", cl_.path(name_),
                  cl_.path("run"), lvsd(), "-f", cl_.path("lvsd.conf"), "-n", name_, "--foreground"},
                 logPath());
    if (!waitFor([&] { return !stateOf(sock(), "web").empty() || !proc_.running(); },
                 milliseconds(10000)) ||
        !proc_.running())
      throw std::runtime_error(name_ + " did not come up:\n" + log());
  }
  std::string sock() const { return cl_.path(name_ + "/lvsd.sock"); }
  std::string state() const { return stateOf(sock(), "web"); }
  control::InstanceStatus instance() const { return instanceOf(sock(), "web"); }
  Proc& proc() { return proc_; }
  Netns& ns() { return ns_; }
  std::string logPath() const { return cl_.path(name_ + ".log"); }
  std::string log() const { return readFile(logPath()); }
  // The heartbeat counters line of a fresh SIGUSR1 state dump.
  std::string counters() {
    size_t from = log().size();
    std::string line;
    proc_.signal(SIGUSR1);
    waitFor(
        [&] {
          std::string l = log();
          auto p = l.find("heartbeat: counters", from);
          if (p == std::string::npos) return false;
          line = l.substr(p, l.find('\n', p) - p);
          return true;
        },
        milliseconds(3000));
    return line;
  }

 private:
  Cluster& cl_;
  Netns& ns_;
  std::string name_, config_;
  Proc proc_;
};

bool stable(Director& master, Director& backup) {
  return waitFor([&] { return master.state() == "MASTER" && backup.state() == "BACKUP"; },
                 milliseconds(5000));
}

// Failover on kill -9 (the client's neighbour entry follows the GARP),
// preemption when the old master returns, takeover within one interval on a
// clean stop.
TEST(HeartbeatNetns, FailoverPreemptionAndCleanStop) {
  Cluster cl({});
  Director a(cl, cl.a(), "a", nativeConfig({})), b(cl, cl.b(), "b", nativeConfig({}));
  a.start();
  b.start();
  ASSERT_TRUE(stable(a, b)) << a.log() << b.log();
  ASSERT_TRUE(waitFor([&] { return cl.a().hasAddress(kVip); }, milliseconds(2000)));
  EXPECT_FALSE(cl.b().hasAddress(kVip));
  const std::string macA = cl.a().mac("eth0"), macB = cl.b().mac("eth0");
  cl.c().exec(std::string("ping -c 1 -W 2 ") + kVip);
  EXPECT_EQ(cl.c().neighbour(kVip), macA);

  // kill -9 of the master.
  int64_t killed = wallMs();
  a.proc().kill9();
  ASSERT_TRUE(waitFor([&] { return b.state() == "MASTER"; }, milliseconds(3000))) << b.log();
  int64_t took = b.instance().since_unix_ms() - killed;
  EXPECT_LE(took, 3 * kIntervalMs + kIntervalMs + 100) << "master-down interval ~361 ms";
  EXPECT_TRUE(waitFor([&] { return cl.b().hasAddress(kVip); }, milliseconds(2000)));
  EXPECT_TRUE(waitFor([&] { return cl.c().neighbour(kVip) == macB; }, milliseconds(2000)))
      << "client still has " << cl.c().neighbour(kVip) << ", want " << macB;

  // The old master returns and preempts.
  a.start();
  ASSERT_TRUE(stable(a, b)) << a.log() << b.log();
  EXPECT_EQ(a.instance().last_reason(), "preempt");
  EXPECT_TRUE(waitFor([&] { return cl.a().hasAddress(kVip) && !cl.b().hasAddress(kVip); },
                      milliseconds(2000)));
  EXPECT_TRUE(waitFor([&] { return cl.c().neighbour(kVip) == macA; }, milliseconds(2000)));

  // Clean stop: priority 0, the backup takes over within one interval.
  int64_t stopped = wallMs();
  a.proc().signal(SIGTERM);
  ASSERT_TRUE(waitFor([&] { return b.state() == "MASTER"; }, milliseconds(2000)));
  int64_t handover = b.instance().since_unix_ms() - stopped;
  EXPECT_LE(handover, kIntervalMs) << "clean stop takeover";
  EXPECT_EQ(b.instance().last_reason(), "master-released");
  EXPECT_EQ(a.proc().wait(milliseconds(5000)), 0);
  EXPECT_FALSE(cl.a().hasAddress(kVip)) << "released on stop";
  EXPECT_TRUE(waitFor([&] { return cl.c().neighbour(kVip) == macB; }, milliseconds(2000)));
  std::cout << "failover_ms=" << took << " clean_stop_handover_ms=" << handover << "\n";
}

// `lvsctl failover web --for 2`: the master steps down at once, and takes
// the VIP back when the two seconds are over.
TEST(HeartbeatNetns, OperatorFailover) {
  Cluster cl({});
  Director a(cl, cl.a(), "a", nativeConfig({})), b(cl, cl.b(), "b", nativeConfig({}));
  a.start();
  b.start();
  ASSERT_TRUE(stable(a, b));
  control::Request req;
  req.mutable_failover()->set_instance("web");
  req.mutable_failover()->set_duration_s(2);
  control::Response resp;
  int64_t asked = wallMs();
  ASSERT_TRUE(controlCall(a.sock(), req, resp));
  ASSERT_TRUE(resp.ok()) << resp.DebugString();
  ASSERT_TRUE(waitFor([&] { return b.state() == "MASTER"; }, milliseconds(1000)));
  EXPECT_LE(b.instance().since_unix_ms() - asked, kIntervalMs);
  EXPECT_EQ(a.instance().last_reason(), "operator");
  EXPECT_EQ(a.instance().effective_priority(), 1u);
  EXPECT_TRUE(waitFor([&] { return cl.b().hasAddress(kVip) && !cl.a().hasAddress(kVip); },
                      milliseconds(1000)));
  ASSERT_TRUE(waitFor([&] { return a.state() == "MASTER"; }, milliseconds(4000)));
  EXPECT_EQ(a.instance().effective_priority(), 150u);
  req.mutable_failover()->set_instance("nope");
  ASSERT_TRUE(controlCall(a.sock(), req, resp));
  EXPECT_FALSE(resp.ok());
}

TEST(HeartbeatNetns, NoPreemptKeepsTheNewMaster) {
  Cluster cl({});
  Director a(cl, cl.a(), "a", nativeConfig({.preempt = false})),
      b(cl, cl.b(), "b", nativeConfig({.preempt = false}));
  a.start();
  b.start();
  ASSERT_TRUE(stable(a, b));
  a.proc().kill9();
  ASSERT_TRUE(waitFor([&] { return b.state() == "MASTER"; }, milliseconds(3000)));
  a.start();
  ASSERT_TRUE(waitFor([&] { return a.state() == "BACKUP"; }, milliseconds(3000)));
  std::this_thread::sleep_for(milliseconds(2000));  // 20 intervals: no preemption
  EXPECT_EQ(a.state(), "BACKUP");
  EXPECT_EQ(b.state(), "MASTER");
  EXPECT_TRUE(cl.b().hasAddress(kVip));
  EXPECT_FALSE(cl.a().hasAddress(kVip)) << "the restarted director removed the stale VIP";
}

// Issue 7: a config drift shows in `lvsctl status` on both directors within
// one heartbeat interval (every advertisement carries the sender's digest),
// and clears when the files agree again.
bool peerMismatch(Director& d, bool want) {
  control::Status s;
  return status(d.sock(), s) && s.peer_size() == 1 && s.peer(0).config_mismatch() == want;
}

TEST(HeartbeatNetns, ConfigDriftShowsOnBothDirectors) {
  Cluster cl({});
  const std::string base = nativeConfig({});
  Director a(cl, cl.a(), "a", base), b(cl, cl.b(), "b", base);
  a.start();
  b.start();
  ASSERT_TRUE(stable(a, b));
  ASSERT_TRUE(waitFor([&] { return peerMismatch(a, false) && peerMismatch(b, false); },
                      milliseconds(2000)));
  auto reloadB = [&](const std::string& cfg) {
    std::ofstream(cl.path("lvsd.conf")) << cfg << "control { socket: \"" << cl.path("run/lvsd.sock")
                                        << "\" }\n"
                                        << "ipvs { backend: DRY_RUN }\n";
    control::Request req;
    req.mutable_reload();
    control::Response resp;
    EXPECT_TRUE(controlCall(b.sock(), req, resp) && resp.ok()) << resp.DebugString();
  };
  // b's file changes (one more announcement); a's does not.
  std::string drifted = base;
  drifted.replace(drifted.find("repeat: 3"), 9, "repeat: 4");
  int64_t t0 = wallMs();
  reloadB(drifted);
  ASSERT_TRUE(waitFor([&] { return peerMismatch(a, true) && peerMismatch(b, true); },
                      milliseconds(2000)))
      << a.log() << b.log();
  int64_t seen = wallMs() - t0;
  control::Status sa, sb;
  ASSERT_TRUE(status(a.sock(), sa) && status(b.sock(), sb));
  EXPECT_EQ(sa.peer(0).config_digest(), sb.config_digest());
  EXPECT_EQ(sb.peer(0).config_digest(), sa.config_digest());
  EXPECT_NE(sa.config_digest(), sb.config_digest());
  EXPECT_EQ(a.state(), "MASTER") << "a drift is reported, never a failover";
  EXPECT_EQ(b.state(), "BACKUP");
  std::cout << "config_drift_seen_ms=" << seen << " interval_ms=" << kIntervalMs << "\n";

  reloadB(base);
  EXPECT_TRUE(waitFor([&] { return peerMismatch(a, false) && peerMismatch(b, false); },
                      milliseconds(2000)));
}

// nft rules that drop the heartbeat port on one interface, both ways.
void blockHeartbeat(Netns& ns, const std::string& dev) {
  ns.exec("nft add table inet hbblock");
  ns.exec("nft add chain inet hbblock in { type filter hook input priority 0 \\; }");
  ns.exec("nft add chain inet hbblock out { type filter hook output priority 0 \\; }");
  ns.exec("nft add rule inet hbblock in iifname " + dev + " udp dport 5405 drop");
  ns.exec("nft add rule inet hbblock out oifname " + dev + " udp dport 5405 drop");
}
void unblockHeartbeat(Netns& ns) { ns.exec("nft delete table inet hbblock"); }

TEST(HeartbeatNetns, CuttingOneOfTwoLinksIsNotAFailover) {
  Cluster cl({.xover = true});
  Director a(cl, cl.a(), "a", nativeConfig({.xover = true})),
      b(cl, cl.b(), "b", nativeConfig({.xover = true}));
  a.start();
  b.start();
  ASSERT_TRUE(stable(a, b));
  ASSERT_TRUE(waitFor(
      [&] {
        control::Status s;
        return status(b.sock(), s) && s.peer_size() == 1 && s.peer(0).links_up_size() == 2;
      },
      milliseconds(2000)));
  uint64_t ta = a.instance().transitions(), tb = b.instance().transitions();

  cl.a().ip("link set eth1 down");  // the crossover cable
  ASSERT_TRUE(waitFor(
      [&] {
        control::Status s;
        return status(b.sock(), s) && s.peer(0).links_up_size() == 1 && s.peer(0).links_up(0) == "lan";
      },
      milliseconds(3000)));
  std::this_thread::sleep_for(milliseconds(1000));
  EXPECT_EQ(a.instance().transitions(), ta);
  EXPECT_EQ(b.instance().transitions(), tb);
  cl.a().ip("link set eth1 up");

  blockHeartbeat(cl.a(), "eth0");  // now the LAN carries no heartbeats
  ASSERT_TRUE(waitFor(
      [&] {
        control::Status s;
        return status(b.sock(), s) && s.peer(0).links_up_size() == 1 && s.peer(0).links_up(0) == "xover";
      },
      milliseconds(3000)));
  std::this_thread::sleep_for(milliseconds(1000));
  EXPECT_EQ(a.instance().transitions(), ta);
  EXPECT_EQ(b.instance().transitions(), tb);
  EXPECT_EQ(a.state(), "MASTER");
  EXPECT_EQ(b.state(), "BACKUP");
}

TEST(HeartbeatNetns, SplitBrainHealsToOneMasterWithinTwoIntervals) {
  Cluster cl({});
  Director a(cl, cl.a(), "a", nativeConfig({})), b(cl, cl.b(), "b", nativeConfig({}));
  a.start();
  b.start();
  ASSERT_TRUE(stable(a, b));
  const std::string macA = cl.a().mac("eth0");
  blockHeartbeat(cl.a(), "eth0");
  blockHeartbeat(cl.b(), "eth0");
  ASSERT_TRUE(waitFor([&] { return a.state() == "MASTER" && b.state() == "MASTER"; },
                      milliseconds(3000)));
  ASSERT_TRUE(waitFor([&] { return cl.b().hasAddress(kVip); }, milliseconds(2000)));
  cl.c().exec(std::string("ping -c 1 -W 2 ") + kVip, false);
  int64_t healed = wallMs();
  unblockHeartbeat(cl.a());
  unblockHeartbeat(cl.b());
  ASSERT_TRUE(waitFor([&] { return b.state() == "BACKUP"; }, milliseconds(2000)));
  int64_t took = b.instance().since_unix_ms() - healed;
  EXPECT_LE(took, 2 * kIntervalMs) << "one MASTER within two intervals";
  EXPECT_EQ(a.state(), "MASTER");
  EXPECT_EQ(b.instance().last_reason(), "higher-priority-master");
  EXPECT_TRUE(waitFor([&] { return !cl.b().hasAddress(kVip); }, milliseconds(2000)));
  EXPECT_TRUE(waitFor([&] { return cl.c().neighbour(kVip) == macA; }, milliseconds(2000)))
      << "client has " << cl.c().neighbour(kVip) << ", want " << macA;
  std::cout << "split_brain_heal_ms=" << took << "\n";
}

TEST(HeartbeatNetns, ForgedReplayedAndGarbageFloodChangesNothing) {
  Cluster cl({.attacker = true});
  Director a(cl, cl.a(), "a", nativeConfig({})), b(cl, cl.b(), "b", nativeConfig({}));
  a.start();
  b.start();
  ASSERT_TRUE(stable(a, b));
  // Capture genuine frames, both ways, for the replays.
  std::string pcap = cl.path("hb.pcap");
  cl.b().exec("timeout 5 tcpdump -i eth0 -w " + pcap + " -c 20 udp port 5405");
  uint64_t ta = a.instance().transitions(), tb = b.instance().transitions();
  std::string out = cl.x().exec(bin("hb_inject") + " --pcap " + pcap +
                                " --target 10.77.0.2,10.77.0.1,10.77.0.1,10.77.0.2" +
                                " --pps 10000 --seconds 10");
  std::cout << "hb_inject: " << out;
  auto pps = std::stoull(out.substr(out.find("pps=") + 4));
  EXPECT_GE(pps, 9500u) << out;
  ASSERT_TRUE(a.proc().running()) << a.log();
  ASSERT_TRUE(b.proc().running()) << b.log();
  EXPECT_EQ(a.state(), "MASTER");
  EXPECT_EQ(b.state(), "BACKUP");
  EXPECT_EQ(a.instance().transitions(), ta);
  EXPECT_EQ(b.instance().transitions(), tb);
  for (auto* d : {&a, &b}) {
    std::string dump = d->counters();
    std::cout << dump << "\n";
    EXPECT_GT(counter(dump, "drop.bad-mac"), 10000u) << dump;
    EXPECT_GT(counter(dump, "drop.malformed") + counter(dump, "drop.truncated") +
                  counter(dump, "drop.unknown-key"),
              10000u)
        << dump;
  }
  for (auto* d : {&a, &b}) {
    std::string dump = d->counters();
    EXPECT_GT(counter(dump, "drop.replayed") + counter(dump, "drop.stale"), 5000u) << dump;
    EXPECT_EQ(counter(dump, "drop.own-packet"), 0u) << dump;
  }
}

// ---------------------------------------------------------------------------
// VRRPv3 interop with Debian's keepalived.

std::string vrrpConfig(int prioLvsd, int prioKeepalived) {
  return "director { name: \"a\" priority: " + std::to_string(prioLvsd) +
         " address { link: \"lan\" address: \"10.77.0.1\" } }\n"
         "director { name: \"kb\" priority: " + std::to_string(prioKeepalived) +
         " address { link: \"lan\" address: \"10.77.0.2\" } }\n"
         "heartbeat { protocol: VRRP3 interval_ms: " + std::to_string(kIntervalMs) +
         " link { name: \"lan\" interface: \"eth0\" } }\n"
         "instance { name: \"web\" vrid: 51 vip_group: \"web\" }\n"
         "vip_group { name: \"web\" vip { address: \"" + kVip +
         "/24\" interface: \"eth0\" } announce { repeat: 3 interval_ms: 50 } }\n";
}

class Keepalived {
 public:
  Keepalived(Cluster& cl, Netns& ns, int prio) : cl_(cl), ns_(ns), prio_(prio) {}
  ~Keepalived() { kill(); }
  void start() {
    std::ofstream(cl_.path("ka.conf"))
        << "global_defs {\n  router_id kb\n  vrrp_version 3\n  script_user root\n"
           "  enable_script_security\n}\n"
           "vrrp_instance web {\n  state BACKUP\n  interface eth0\n  virtual_router_id 51\n"
           "  priority " << prio_ << "\n  advert_int " << kIntervalMs / 1000.0 << "\n"
           "  virtual_ipaddress {\n    " << kVip << "/24\n  }\n}\n";
    ::unlink(cl_.path("ka-vrrp.pid").c_str());
    proc_ = Proc(ns_, {"keepalived", "-n", "-l", "-P", "-R", "-f", cl_.path("ka.conf"), "-p",
                       cl_.path("ka.pid"), "-r", cl_.path("ka-vrrp.pid")},
                 cl_.path("ka.log"));
    if (!waitFor([&] { return vrrpPid() > 0; }, milliseconds(5000)))
      throw std::runtime_error("keepalived did not start:\n" + readFile(cl_.path("ka.log")));
  }
  pid_t vrrpPid() const {
    std::string s = readFile(cl_.path("ka-vrrp.pid"));
    return s.empty() ? 0 : std::stoi(s);
  }
  // A crash: the VRRP process dies without a word (-R: not respawned).
  void kill() {
    if (pid_t p = vrrpPid(); p > 0 && proc_.running()) ::kill(p, SIGKILL);
    proc_.kill9();
    ::unlink(cl_.path("ka-vrrp.pid").c_str());
  }
  bool holdsVip() const { return ns_.hasAddress(kVip); }
  std::string log() const { return readFile(cl_.path("ka.log")); }

 private:
  Cluster& cl_;
  Netns& ns_;
  int prio_;
  Proc proc_;
};

TEST(HeartbeatNetns, KeepalivedInteropLvsdMaster) {
  Cluster cl({});
  Director a(cl, cl.a(), "a", vrrpConfig(150, 100));
  Keepalived k(cl, cl.b(), 100);
  k.start();
  a.start();
  ASSERT_TRUE(waitFor([&] { return a.state() == "MASTER"; }, milliseconds(5000))) << a.log();
  std::this_thread::sleep_for(milliseconds(1000));
  EXPECT_EQ(a.state(), "MASTER");
  EXPECT_TRUE(cl.a().hasAddress(kVip));
  EXPECT_FALSE(k.holdsVip()) << k.log();
  EXPECT_EQ(a.instance().transitions(), 2u) << "INIT->BACKUP->MASTER, no flapping";
  // lvsd dies: keepalived takes over.
  a.proc().kill9();
  ASSERT_TRUE(waitFor([&] { return k.holdsVip(); }, milliseconds(3000))) << k.log();
  // lvsd returns with the higher priority and preempts keepalived.
  a.start();
  ASSERT_TRUE(waitFor([&] { return a.state() == "MASTER"; }, milliseconds(5000))) << a.log();
  EXPECT_TRUE(waitFor([&] { return !k.holdsVip(); }, milliseconds(3000))) << k.log();
  std::string dump = a.counters();
  ASSERT_FALSE(dump.empty()) << a.log();
  EXPECT_EQ(counter(dump, "drop.bad-checksum"), 0u) << dump;
  EXPECT_EQ(counter(dump, "address_list_mismatch"), 0u) << dump;
}

TEST(HeartbeatNetns, KeepalivedInteropKeepalivedMaster) {
  Cluster cl({});
  Director a(cl, cl.a(), "a", vrrpConfig(100, 150));
  Keepalived k(cl, cl.b(), 150);
  k.start();
  ASSERT_TRUE(waitFor([&] { return k.holdsVip(); }, milliseconds(5000))) << k.log();
  a.start();
  ASSERT_TRUE(waitFor([&] { return a.state() == "BACKUP"; }, milliseconds(3000)));
  std::this_thread::sleep_for(milliseconds(1000));
  EXPECT_EQ(a.state(), "BACKUP") << a.log();
  EXPECT_FALSE(cl.a().hasAddress(kVip));
  EXPECT_EQ(a.instance().master(), "kb");
  // keepalived dies: lvsd takes over.
  k.kill();
  ASSERT_TRUE(waitFor([&] { return a.state() == "MASTER"; }, milliseconds(3000))) << a.log();
  EXPECT_TRUE(waitFor([&] { return cl.a().hasAddress(kVip); }, milliseconds(2000)));
  EXPECT_EQ(a.instance().last_reason(), "master-down-timer");
  // keepalived returns with the higher priority and preempts lvsd.
  k.start();
  ASSERT_TRUE(waitFor([&] { return a.state() == "BACKUP"; }, milliseconds(5000))) << k.log();
  EXPECT_EQ(a.instance().last_reason(), "higher-priority-master");
  EXPECT_TRUE(waitFor([&] { return k.holdsVip() && !cl.a().hasAddress(kVip); }, milliseconds(3000)));
}

// ---------------------------------------------------------------------------
// IPv6: NATIVE over IPv6 moving an IPv6 VIP (unsolicited NA, NODAD), and
// VRRPv3 over IPv6 (link-local sources) against keepalived.

const char* kVip6 = "fd00:77::100";

std::string native6Config() {
  return std::string(
             "director { name: \"a\" priority: 150 address { link: \"lan\" address: \"fd00:77::1\" } }\n"
             "director { name: \"b\" priority: 100 address { link: \"lan\" address: \"fd00:77::2\" } }\n"
             "heartbeat { interval_ms: 100 link { name: \"lan\" interface: \"eth0\" }"
             " key { id: 1 secret_hex: \"") +
         kKey + "\" } }\n" +
         "instance { name: \"web\" vrid: 51 vip_group: \"web\" }\n"
         "vip_group { name: \"web\" vip { address: \"" + kVip6 +
         "/64\" interface: \"eth0\" } announce { repeat: 3 interval_ms: 50 } }\n";
}

TEST(HeartbeatNetns, NativeOverIpv6MovesAnIpv6Vip) {
  Cluster cl({.ipv6 = true});
  Director a(cl, cl.a(), "a", native6Config()), b(cl, cl.b(), "b", native6Config());
  a.start();
  b.start();
  ASSERT_TRUE(stable(a, b)) << a.log() << b.log();
  ASSERT_TRUE(waitFor([&] { return cl.a().hasAddress(kVip6); }, milliseconds(2000)));
  const std::string macA = cl.a().mac("eth0"), macB = cl.b().mac("eth0");
  cl.c().exec(std::string("ping -6 -c 1 -W 2 ") + kVip6);
  EXPECT_EQ(cl.c().neighbour(kVip6), macA);
  a.proc().kill9();
  ASSERT_TRUE(waitFor([&] { return b.state() == "MASTER"; }, milliseconds(3000))) << b.log();
  EXPECT_TRUE(waitFor([&] { return cl.b().hasAddress(kVip6); }, milliseconds(2000)));
  EXPECT_EQ(cl.b().ip("-6 -o addr show dev eth0").find("tentative"), std::string::npos)
      << "VIP added without DAD";
  EXPECT_TRUE(waitFor([&] { return cl.c().neighbour(kVip6) == macB; }, milliseconds(2000)))
      << "client still has " << cl.c().neighbour(kVip6) << ", want " << macB
      << " (unsolicited NA)";
  cl.c().exec(std::string("ping -6 -c 1 -W 2 ") + kVip6);
}

TEST(HeartbeatNetns, KeepalivedInteropIpv6) {
  Cluster cl({.ipv6 = true});
  std::string cfg =
      "director { name: \"a\" priority: 100 address { link: \"lan\" address: \"fd00:77::1\" } }\n"
      "director { name: \"kb\" priority: 150 address { link: \"lan\" address: \"fd00:77::2\" } }\n"
      "heartbeat { protocol: VRRP3 interval_ms: 100 link { name: \"lan\" interface: \"eth0\" } }\n"
      "instance { name: \"web\" vrid: 52 vip_group: \"web\" }\n"
      "vip_group { name: \"web\" vip { address: \"" + std::string(kVip6) +
      "/64\" interface: \"eth0\" } }\n";
  Director a(cl, cl.a(), "a", cfg);
  std::ofstream(cl.path("ka6.conf"))
      << "global_defs {\n  router_id kb\n  vrrp_version 3\n  script_user root\n"
         "  enable_script_security\n}\n"
         "vrrp_instance web6 {\n  state BACKUP\n  interface eth0\n  virtual_router_id 52\n"
         "  priority 150\n  advert_int 0.1\n  virtual_ipaddress {\n    "
      << kVip6 << "/64\n  }\n}\n";
  Proc ka(cl.b(), {"keepalived", "-n", "-l", "-P", "-R", "-f", cl.path("ka6.conf"), "-p",
                   cl.path("ka6.pid"), "-r", cl.path("ka6-vrrp.pid")},
          cl.path("ka6.log"));
  ASSERT_TRUE(waitFor([&] { return cl.b().hasAddress(kVip6); }, milliseconds(5000)))
      << readFile(cl.path("ka6.log"));
  a.start();
  ASSERT_TRUE(waitFor([&] { return a.state() == "BACKUP"; }, milliseconds(3000)));
  std::this_thread::sleep_for(milliseconds(1000));
  EXPECT_EQ(a.state(), "BACKUP") << a.log();
  EXPECT_EQ(a.instance().transitions(), 1u);
  EXPECT_FALSE(cl.a().hasAddress(kVip6));
  // keepalived's VRRP process dies: lvsd takes over.
  std::string vpid = readFile(cl.path("ka6-vrrp.pid"));
  ASSERT_FALSE(vpid.empty());
  ::kill(std::stoi(vpid), SIGKILL);
  ASSERT_TRUE(waitFor([&] { return a.state() == "MASTER"; }, milliseconds(3000))) << a.log();
  EXPECT_TRUE(waitFor([&] { return cl.a().hasAddress(kVip6); }, milliseconds(2000)));
  std::string dump = a.counters();
  ASSERT_FALSE(dump.empty()) << a.log();
  EXPECT_EQ(counter(dump, "drop.bad-checksum") + counter(dump, "drop.bad-ttl"), 0u) << dump;
  ka.kill9();
}

}  // namespace
}  // namespace lvsd::netns
