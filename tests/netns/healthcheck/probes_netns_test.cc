// Probes against real servers in a private network namespace: for each
// probe up, down by closed port, down by timeout (a server that accepts or
// receives but never answers, or a black-holed address) and down by a wrong
// answer; plus flapping with rise 3 / fall 3.
#include <fcntl.h>
#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <fstream>
#include <thread>

#include "fakes/pool_text.h"
#include "healthcheck/http.h"
#include "healthcheck/plan.h"
#include "healthcheck/probe.h"
#include "healthcheck/runner.h"
#include "netns_env.h"
#include "test_server.h"

namespace lvsd::healthcheck {
namespace {

using namespace std::chrono_literals;
using lvsd::testing::Reply;
using lvsd::testing::TestServer;

Endpoint ep(const std::string& s) { return lvsd::testing::endpoint(s); }

CheckSpec makeSpec(const std::string& text, Endpoint target) {
  config::Check c;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &c)) << text;
  // Fast timing for tests unless the text sets it.
  if (!c.has_interval_ms()) c.set_interval_ms(50);
  if (!c.has_timeout_ms()) c.set_timeout_ms(400);
  if (!c.has_jitter_pct()) c.set_jitter_pct(0);
  CheckSpec s;
  s.kind = probeKind(c);
  s.name = c.name().empty() ? s.kind : c.name();
  s.def = canonicalCheck(c);
  s.target = target;
  s.key = target.toString() + "|" + s.def.ShortDebugString();
  return s;
}

struct CheckRun {
  std::vector<ProbeResult> results;
  std::vector<Transition> transitions;
  Health final = Health::kDown;
};

class ProbeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string err = lvsd::testing::enterTestNetns();
    ASSERT_EQ(err, "");
  }

  // Runs the check through the real runner until `attempts` attempts finished.
  CheckRun run(const CheckSpec& spec, size_t attempts = 1) {
    boost::asio::io_context io;
    SeededRng rng(42);
    TlsContexts tls;
    ProbeEnv env{io, rng, tls};
    auto probe = makeProbe(spec, env);
    EXPECT_TRUE(probe.ok()) << (probe.ok() ? "" : probe.error().message);
    CheckRun out;
    if (!probe.ok()) return out;
    std::shared_ptr<CheckRunner> runner;
    runner = std::make_shared<CheckRunner>(
        io, SystemClock::instance(), rng, spec, std::move(*probe),
        [&](CheckRunner& r, const ProbeResult& res, const CheckerCore::Step& step) {
          out.results.push_back(res);
          if (step.transition) out.transitions.push_back(*step.transition);
          if (out.results.size() >= attempts) {
            r.stop();
            io.stop();
          }
        });
    runner->start();
    io.run_for(30s);  // a bound for a broken build, not a timing assertion
    out.final = runner->core().health();
    runner->stop();
    EXPECT_EQ(out.results.size(), attempts) << "check did not finish";
    return out;
  }

  ProbeResult once(const std::string& text, Endpoint target) {
    auto r = run(makeSpec(text, target), 1);
    return r.results.empty() ? ProbeResult::fail("no result") : r.results[0];
  }

  // A port nobody listens on.
  static uint16_t closedPort(const char* ip = "127.0.0.1") {
    TestServer s;
    return s.listenHttp(ip, 0);  // bound, then closed when s goes away
  }
};

// --- TCP ----------------------------------------------------------------------

TEST_F(ProbeTest, TcpUp) {
  TestServer s;
  uint16_t port = s.listenHttp("10.0.0.1", 0);
  auto r = once("tcp {}", ep("10.0.0.1:" + std::to_string(port)));
  EXPECT_TRUE(r.up) << r.reason;
  EXPECT_EQ(r.reason, "connected");
}

TEST_F(ProbeTest, TcpClosedPort) {
  uint16_t port = closedPort();
  auto r = once("tcp {}", ep("127.0.0.1:" + std::to_string(port)));
  EXPECT_FALSE(r.up);
  EXPECT_EQ(r.reason, "connect: Connection refused");
}

TEST_F(ProbeTest, TcpTimeout) {
  auto r = once("tcp {} timeout_ms: 300", ep(std::string(lvsd::testing::kBlackHole) + ":80"));
  EXPECT_FALSE(r.up);
  EXPECT_TRUE(r.timedOut);
  EXPECT_EQ(r.reason, "timeout 300ms");
}

// --- HTTP ---------------------------------------------------------------------

TEST_F(ProbeTest, HttpUpSendsHostAndPath) {
  TestServer s;
  uint16_t port = s.listenHttp("10.0.0.2", 0);
  auto r = once(R"(http { path: "/healthz" })", ep("10.0.0.2:" + std::to_string(port)));
  EXPECT_TRUE(r.up) << r.reason;
  EXPECT_EQ(r.reason, "status 200");
  EXPECT_EQ(s.lastPath(), "/healthz");
  EXPECT_EQ(s.lastHost(), "10.0.0.2:" + std::to_string(port));
  r = once(R"(http { host: "www.example.org" status: "200" })", ep("10.0.0.2:" + std::to_string(port)));
  EXPECT_TRUE(r.up);
  EXPECT_EQ(s.lastHost(), "www.example.org");
}

TEST_F(ProbeTest, HttpClosedPort) {
  auto r = once("http {}", ep("127.0.0.1:" + std::to_string(closedPort())));
  EXPECT_FALSE(r.up);
  EXPECT_EQ(r.reason, "connect: Connection refused");
}

TEST_F(ProbeTest, HttpAcceptsButNeverAnswers) {
  TestServer s;
  s.setDefault(Reply::kHang);
  uint16_t port = s.listenHttp("127.0.0.1", 0);
  auto r = once("http {} timeout_ms: 300", ep("127.0.0.1:" + std::to_string(port)));
  EXPECT_FALSE(r.up);
  EXPECT_TRUE(r.timedOut);
  EXPECT_EQ(s.requests(), 1u);  // the request did arrive
}

TEST_F(ProbeTest, HttpClosesWithoutAnswer) {
  TestServer s;
  s.setDefault(Reply::kClose);
  uint16_t port = s.listenHttp("127.0.0.1", 0);
  auto r = once("http {}", ep("127.0.0.1:" + std::to_string(port)));
  EXPECT_FALSE(r.up);
  EXPECT_EQ(r.reason, "connection closed without a response");
}

TEST_F(ProbeTest, HttpWrongStatus) {
  TestServer s;
  s.setDefault(Reply::kStatus503);
  uint16_t port = s.listenHttp("127.0.0.1", 0);
  auto r = once("http {}", ep("127.0.0.1:" + std::to_string(port)));
  EXPECT_FALSE(r.up);
  EXPECT_EQ(r.reason, "status 503");
  // …unless 503 is accepted.
  r = once(R"(http { status: "500-503" })", ep("127.0.0.1:" + std::to_string(port)));
  EXPECT_TRUE(r.up);
}

TEST_F(ProbeTest, HttpBodyRegexAndDigest) {
  TestServer s;
  uint16_t port = s.listenHttp("127.0.0.1", 0);
  Endpoint t = ep("127.0.0.1:" + std::to_string(port));
  EXPECT_TRUE(once(R"(http { body_regex: "server: ok" })", t).up);
  std::string digest = sha256Hex(lvsd::testing::kOkBody);
  EXPECT_TRUE(once("http { body_sha256: \"" + digest + "\" }", t).up);
  s.setDefault(Reply::kWrongBody);
  auto r = once(R"(http { body_regex: "server: ok" })", t);
  EXPECT_FALSE(r.up);
  EXPECT_EQ(r.reason, "body does not match regex");
  r = once("http { body_sha256: \"" + digest + "\" }", t);
  EXPECT_FALSE(r.up);
  EXPECT_NE(r.reason.find("mismatch"), std::string::npos) << r.reason;
  s.setDefault(Reply::kOk);
  r = once("http { max_body_bytes: 4 body_sha256: \"" + digest + "\" }", t);
  EXPECT_FALSE(r.up);
  EXPECT_NE(r.reason.find("exceeds max_body_bytes 4"), std::string::npos) << r.reason;
}

TEST_F(ProbeTest, HttpKeepsItsConnectionBetweenChecks) {
  TestServer s;
  uint16_t port = s.listenHttp("127.0.0.1", 0);
  Endpoint t = ep("127.0.0.1:" + std::to_string(port));
  auto r = run(makeSpec("http {}", t), 4);
  for (const auto& x : r.results) EXPECT_TRUE(x.up) << x.reason;
  EXPECT_EQ(s.requests(), 4u);
  EXPECT_EQ(s.connections(), 1u);
  // The server drops the kept connection after each answer without saying
  // so: each next check notices before any answer and reconnects at once.
  s.setDefault(Reply::kOkThenClose);
  r = run(makeSpec("http {}", t), 3);
  for (const auto& x : r.results) EXPECT_TRUE(x.up) << x.reason;
  EXPECT_EQ(s.connections(), 1u + 3u);
  // reuse_connection: false is a connection per check.
  s.setDefault(Reply::kOk);
  r = run(makeSpec("http { reuse_connection: false }", t), 3);
  for (const auto& x : r.results) EXPECT_TRUE(x.up) << x.reason;
  EXPECT_EQ(s.connections(), 4u + 3u);
}

// --- HTTPS --------------------------------------------------------------------

class HttpsTest : public ProbeTest {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::filesystem::temp_directory_path() / ("lvsd-hc-tls-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "san.ext") << "subjectAltName=DNS:hc.test,IP:127.0.0.1\n";
    std::string d = dir_.string();
    std::string cmd =
        "cd " + d + " && "
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key "
        "-out ca.pem -days 2 -subj /CN=lvsd-test-ca && "
        "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout srv.key "
        "-out srv.csr -subj /CN=hc.test && "
        "openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem "
        "-days 2 -extfile san.ext";
    ok_ = std::system(("(" + cmd + ") >/dev/null 2>&1").c_str()) == 0;
  }
  static void TearDownTestSuite() { std::filesystem::remove_all(dir_); }
  void SetUp() override {
    ProbeTest::SetUp();
    ASSERT_TRUE(ok_) << "openssl could not make test certificates";
  }
  uint16_t serve(TestServer& s) {
    return s.listenHttp("127.0.0.1", 0, (dir_ / "srv.pem").string(), (dir_ / "srv.key").string());
  }
  std::string ca() { return (dir_ / "ca.pem").string(); }
  static inline std::filesystem::path dir_;
  static inline bool ok_ = false;
};

TEST_F(HttpsTest, UpWithSniAndVerification) {
  TestServer s;
  Endpoint t = ep("127.0.0.1:" + std::to_string(serve(s)));
  auto r = once("https { sni: \"hc.test\" verify_cert: true ca_file: \"" + ca() + "\" body_regex: \"ok\" }", t);
  EXPECT_TRUE(r.up) << r.reason;
  EXPECT_EQ(s.lastSni(), "hc.test");
  // Verification against the IP address in the certificate; no SNI for IPs.
  r = once("https { verify_cert: true ca_file: \"" + ca() + "\" }", t);
  EXPECT_TRUE(r.up) << r.reason;
  EXPECT_EQ(s.lastSni(), "");
}

TEST_F(HttpsTest, VerificationFailures) {
  TestServer s;
  Endpoint t = ep("127.0.0.1:" + std::to_string(serve(s)));
  auto r = once("https { sni: \"other.test\" verify_cert: true ca_file: \"" + ca() + "\" }", t);
  EXPECT_FALSE(r.up);
  EXPECT_NE(r.reason.find("tls handshake"), std::string::npos) << r.reason;
  // The system trust store does not know the test CA.
  r = once(R"(https { sni: "hc.test" verify_cert: true })", t);
  EXPECT_FALSE(r.up);
  EXPECT_NE(r.reason.find("tls handshake"), std::string::npos) << r.reason;
  // Without verification the same server is fine.
  r = once(R"(https { sni: "other.test" })", t);
  EXPECT_TRUE(r.up) << r.reason;
}

TEST_F(HttpsTest, KeepsTheTlsConnection) {
  TestServer s;
  Endpoint t = ep("127.0.0.1:" + std::to_string(serve(s)));
  auto r = run(makeSpec("https { verify_cert: true ca_file: \"" + ca() + "\" }", t), 3);
  for (const auto& x : r.results) EXPECT_TRUE(x.up) << x.reason;
  EXPECT_EQ(s.connections(), 1u);
  EXPECT_EQ(s.requests(), 3u);
}

TEST_F(HttpsTest, ClosedPort) {
  auto r = once("https {}", ep("127.0.0.1:" + std::to_string(closedPort())));
  EXPECT_FALSE(r.up);
  EXPECT_EQ(r.reason, "connect: Connection refused");
}

TEST_F(HttpsTest, AcceptsButNeverAnswers) {
  TestServer tls;
  tls.setDefault(Reply::kHang);
  auto r = once("https {} timeout_ms: 300", ep("127.0.0.1:" + std::to_string(serve(tls))));
  EXPECT_TRUE(r.timedOut) << r.reason;
  // A plain TCP server never completes the TLS handshake either.
  TestServer plain;
  plain.setDefault(Reply::kHang);
  uint16_t port = plain.listenHttp("127.0.0.1", 0);
  r = once("https {} timeout_ms: 300", ep("127.0.0.1:" + std::to_string(port)));
  EXPECT_FALSE(r.up);
  EXPECT_TRUE(r.timedOut) << r.reason;
}

TEST_F(HttpsTest, WrongStatusAndBody) {
  TestServer s;
  Endpoint t = ep("127.0.0.1:" + std::to_string(serve(s)));
  s.setDefault(Reply::kStatus503);
  EXPECT_EQ(once("https {}", t).reason, "status 503");
  s.setDefault(Reply::kWrongBody);
  EXPECT_EQ(once(R"(https { body_regex: "server: ok" })", t).reason, "body does not match regex");
}

// --- UDP ----------------------------------------------------------------------

TEST_F(ProbeTest, UdpUpClosedTimeoutWrong) {
  TestServer s;
  uint16_t port = s.listenUdp("127.0.0.1", 0);
  Endpoint t = ep("127.0.0.1:" + std::to_string(port));
  const std::string check = R"(udp { send_hex: "70696e67" expect_regex: "^pong:ping$" } timeout_ms: 300)";
  auto r = once(check, t);
  EXPECT_TRUE(r.up) << r.reason;
  s.setDefault(Reply::kWrongBody);
  r = once(check, t);
  EXPECT_FALSE(r.up);
  EXPECT_EQ(r.reason, "answer does not match expect_regex");
  s.setDefault(Reply::kHang);
  r = once(check, t);
  EXPECT_TRUE(r.timedOut) << r.reason;
  // Nobody on the port: ICMP port unreachable.
  uint16_t closed;
  {
    TestServer gone;
    closed = gone.listenUdp("127.0.0.1", 0);
  }
  r = once(check, ep("127.0.0.1:" + std::to_string(closed)));
  EXPECT_FALSE(r.up);
  EXPECT_EQ(r.reason, "receive: Connection refused");
}

// --- DNS ----------------------------------------------------------------------

class DnsTest : public ProbeTest {
 protected:
  void SetUp() override {
    ProbeTest::SetUp();
    port_ = 5300 + getpid() % 600;
    pid_ = fork();
    if (pid_ == 0) {
      std::string p = "--port=" + std::to_string(port_);
      execlp("dnsmasq", "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv",
             "--no-hosts", "--bind-interfaces", "--listen-address=127.0.0.1", p.c_str(),
             "--user=root", "--pid-file=", "--local=/test/", "--host-record=up.test,10.1.2.3",
             "--log-facility=/dev/null", static_cast<char*>(nullptr));
      _exit(127);
    }
    ASSERT_GT(pid_, 0);
    // Wait until dnsmasq answers (bounded by attempts, not by sleeping).
    for (int i = 0; i < 100; ++i) {
      auto r = run(makeSpec(R"(dns { query: "up.test" type: "A" } timeout_ms: 100 interval_ms: 20)",
                            target()), 1);
      if (!r.results.empty() && r.results[0].up) return;
      int status;
      ASSERT_EQ(waitpid(pid_, &status, WNOHANG), 0) << "dnsmasq exited";
    }
    FAIL() << "dnsmasq did not start";
  }
  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }
  Endpoint target() { return ep("127.0.0.1:" + std::to_string(port_)); }
  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

TEST_F(DnsTest, UpAndWrongAnswers) {
  auto r = once(R"(dns { query: "up.test" type: "A" })", target());
  EXPECT_TRUE(r.up) << r.reason;
  EXPECT_EQ(r.reason, "1 answer");
  // dnsmasq answers AAAA for an IPv4-only name with NOERROR and no data.
  r = once(R"(dns { query: "up.test" type: "AAAA" })", target());
  EXPECT_FALSE(r.up);
  EXPECT_EQ(r.reason, "no answer of type 28");
  r = once(R"(dns { query: "missing.test" type: "A" })", target());
  EXPECT_FALSE(r.up);
  EXPECT_EQ(r.reason, "rcode NXDOMAIN");
}

TEST_F(ProbeTest, DnsClosedPortAndSilentServer) {
  TestServer silent;
  silent.setDefault(Reply::kHang);
  uint16_t port = silent.listenUdp("127.0.0.1", 0);
  auto r = once(R"(dns { query: "up.test" } timeout_ms: 300)", ep("127.0.0.1:" + std::to_string(port)));
  EXPECT_TRUE(r.timedOut) << r.reason;
  EXPECT_EQ(silent.requests(), 1u);
  // A server answering garbage (not a DNS reply to our id) is no answer.
  silent.setDefault(Reply::kWrongBody);
  r = once(R"(dns { query: "up.test" } timeout_ms: 300)", ep("127.0.0.1:" + std::to_string(port)));
  EXPECT_TRUE(r.timedOut) << r.reason;
  r = once(R"(dns { query: "up.test" })", ep("127.0.0.1:" + std::to_string(closedPort())));
  EXPECT_FALSE(r.up);
  EXPECT_EQ(r.reason, "receive: Connection refused");
}

// --- ICMP ---------------------------------------------------------------------

TEST_F(ProbeTest, PingUpAndTimeout) {
  auto r = once("ping {}", ep("10.0.0.3:0"));
  EXPECT_TRUE(r.up) << r.reason;
  r = once("ping {} timeout_ms: 300", ep(std::string(lvsd::testing::kBlackHole) + ":0"));
  EXPECT_FALSE(r.up);
  EXPECT_TRUE(r.timedOut);
  r = once("ping {}", ep("[::1]:0"));
  EXPECT_TRUE(r.up) << r.reason;
}

TEST_F(ProbeTest, PingWithDatagramSocketAndIgnoredEcho) {
  // Allow unprivileged ICMP sockets in this namespace: the datagram path.
  ASSERT_EQ(std::system("sysctl -qw net.ipv4.ping_group_range='0 0'"), 0);
  auto r = once("ping {}", ep("10.0.0.3:0"));
  EXPECT_TRUE(r.up) << r.reason;
  // A host that ignores echo requests is down by timeout.
  ASSERT_EQ(std::system("sysctl -qw net.ipv4.icmp_echo_ignore_all=1"), 0);
  r = once("ping {} timeout_ms: 300", ep("10.0.0.3:0"));
  EXPECT_TRUE(r.timedOut) << r.reason;
  ASSERT_EQ(std::system("sysctl -qw net.ipv4.icmp_echo_ignore_all=0"), 0);
  ASSERT_EQ(std::system("sysctl -qw net.ipv4.ping_group_range='1 0'"), 0);
}

// --- exec ---------------------------------------------------------------------

TEST_F(ProbeTest, ExecExitCodes) {
  Endpoint t = ep("10.0.0.1:80");
  EXPECT_TRUE(once(R"(exec { argv: "/bin/true" })", t).up);
  auto r = once(R"(exec { argv: "/bin/false" })", t);
  EXPECT_FALSE(r.up);
  EXPECT_EQ(r.reason, "exit 1");
  r = once(R"(exec { argv: ["/bin/sh", "-c", "exit 7"] dynamic_weight: true })", t);
  EXPECT_TRUE(r.up);
  EXPECT_EQ(r.weight, 5u);
  r = once(R"(exec { argv: ["/bin/sh", "-c", "exit 7"] })", t);
  EXPECT_FALSE(r.up);
  // Placeholders carry the target; the argument is passed as is (no shell).
  r = once(R"(exec { argv: ["/bin/sh", "-c", "test \"$1\" = 10.0.0.1:80 && test \"$2\" = '$HOME'", "x", "{ip}:{port}", "$HOME"] })", t);
  EXPECT_TRUE(r.up) << r.reason;
  r = once(R"(exec { argv: "/nonexistent/probe" })", t);
  EXPECT_FALSE(r.up);
  EXPECT_EQ(r.reason, "exec /nonexistent/probe: No such file or directory");
}

TEST_F(ProbeTest, ExecTimeoutKillsTheProcessGroup) {
  auto dir = std::filesystem::temp_directory_path() / ("lvsd-hc-exec-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::string pids = (dir / "pids").string();
  // The command and a grandchild both record their pids, then hang.
  auto r = once(R"(exec { argv: ["/bin/sh", "-c", "echo $$ >> )" + pids +
                    R"(; sleep 60 & echo $! >> )" + pids + R"(; wait"] } timeout_ms: 300)",
                ep("10.0.0.1:80"));
  EXPECT_TRUE(r.timedOut) << r.reason;
  std::ifstream in(pids);
  std::vector<pid_t> seen;
  for (pid_t p; in >> p;) seen.push_back(p);
  ASSERT_EQ(seen.size(), 2u);
  // The runner returned at the timeout; the kill already happened then, so
  // the processes are gone (or zombies of a reaped group) — poll briefly.
  for (pid_t p : seen) {
    bool gone = false;
    for (int i = 0; i < 200 && !gone; ++i) {
      std::ifstream stat("/proc/" + std::to_string(p) + "/stat");
      std::string s;
      std::getline(stat, s);
      gone = s.empty() || s.find(") Z") != std::string::npos;
      if (!gone) std::this_thread::sleep_for(5ms);
    }
    EXPECT_TRUE(gone) << "pid " << p << " survived the timeout";
  }
  std::filesystem::remove_all(dir);
}

// --- file ---------------------------------------------------------------------

TEST_F(ProbeTest, FileContent) {
  auto path = std::filesystem::temp_directory_path() / ("lvsd-hc-file-" + std::to_string(getpid()));
  std::string check = "file { path: \"" + path.string() + "\" }";
  std::filesystem::remove(path);
  auto r = once(check, Endpoint());
  EXPECT_TRUE(r.up);
  EXPECT_EQ(r.reason, "no file");
  std::ofstream(path) << "down\n";
  EXPECT_FALSE(once(check, Endpoint()).up);
  std::ofstream(path) << "drain\n";
  r = once(check, Endpoint());
  EXPECT_TRUE(r.up);
  EXPECT_TRUE(r.drain);
  std::ofstream(path) << "weight 12\n";
  EXPECT_EQ(once(check, Endpoint()).weight, 12u);
  chmod(path.c_str(), 0);
  std::filesystem::remove(path);
}

// --- thresholds against a real flapping server ---------------------------------

TEST_F(ProbeTest, FlappingHttpWithRise3Fall3) {
  TestServer s;
  uint16_t port = s.listenHttp("127.0.0.1", 0);
  // Single bad answers (a 503, a hang) between good ones: no state change.
  for (Reply r : {Reply::kStatus503, Reply::kOk, Reply::kOk, Reply::kHang, Reply::kOk,
                  Reply::kStatus503, Reply::kStatus503, Reply::kOk, Reply::kWrongBody, Reply::kOk})
    s.queue(r);
  auto spec = makeSpec(R"(http { body_regex: "server: ok" } rise: 3 fall: 3 initial: UP timeout_ms: 200)",
                       ep("127.0.0.1:" + std::to_string(port)));
  auto run1 = run(spec, 10);
  EXPECT_TRUE(run1.transitions.empty());
  EXPECT_EQ(run1.final, Health::kUp);
  int failures = 0;
  for (const auto& r : run1.results) failures += r.up ? 0 : 1;
  EXPECT_EQ(failures, 5);
  // Three bad answers in a row do change it, exactly once.
  for (int i = 0; i < 3; ++i) s.queue(Reply::kStatus503);
  s.setDefault(Reply::kOk);
  auto run2 = run(spec, 3);
  ASSERT_EQ(run2.transitions.size(), 1u);
  EXPECT_EQ(run2.transitions[0].toString(), "UP -> DOWN reason=status 503 (fall 3/3)");
}

TEST_F(ProbeTest, FlappingUdpWithRise3Fall3FromDown) {
  TestServer s;
  uint16_t port = s.listenUdp("127.0.0.1", 0);
  s.setDefault(Reply::kHang);
  for (Reply r : {Reply::kOk, Reply::kOk, Reply::kHang, Reply::kOk, Reply::kOk, Reply::kWrongBody})
    s.queue(r);
  auto spec = makeSpec(R"(udp { send_hex: "6869" expect_regex: "pong" } rise: 3 fall: 3 timeout_ms: 150)",
                       ep("127.0.0.1:" + std::to_string(port)));
  auto r = run(spec, 6);
  EXPECT_TRUE(r.transitions.empty());
  EXPECT_EQ(r.final, Health::kDown);
}

}  // namespace
}  // namespace lvsd::healthcheck
