// lvs-agent and FeedbackManager end to end, in a private network namespace:
// both dialects of the agent, the poller against live agents, an agent that
// dies (fallback with a log line, or down when it is the health check), and
// agents that answer garbage, too much or nothing at all.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "feedback/agent_protocol.h"
#include "feedback/feedback.h"

namespace lvsd::feedback {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// Runs argv to completion; its exit status.
int runCommand(std::vector<std::string> argv) {
  pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> a;
    for (auto& s : argv) a.push_back(s.data());
    a.push_back(nullptr);
    execvp(a[0], a.data());
    _exit(127);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

// The whole process moves into a fresh network namespace with the test
// addresses on lo. Empty on success.
std::string privateNetns() {
  static std::string err = []() -> std::string {
    if (geteuid() != 0) return "netns tests need root (network namespaces); refusing to skip";
    if (unshare(CLONE_NEWNET) != 0) return "unshare(CLONE_NEWNET) failed";
    if (runCommand({"ip", "link", "set", "lo", "up"}) != 0) return "ip link set lo up failed";
    for (const char* a : {"10.0.0.11/32", "10.0.0.12/32", "10.0.0.21/32", "10.0.0.22/32",
                          "10.0.0.23/32", "10.0.0.24/32"})
      if (runCommand({"ip", "addr", "add", a, "dev", "lo"}) != 0)
        return std::string("ip addr add ") + a + " failed";
    return "";
  }();
  return err;
}

std::string agentBinary() {
  const char* dir = std::getenv("LVSD_BUILD_DIR");
  return std::string(dir ? dir : ".") + "/bin/lvs-agent";
}

// An lvs-agent child process, stopped with SIGTERM.
class Agent {
 public:
  Agent(const std::string& addr, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {agentBinary(), "--listen", addr, "--port", "7411",
                                     "--interval-ms", "100", "--samples", "3", "--log-level", "warn"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    pid_ = fork();
    if (pid_ == 0) {
      std::vector<char*> a;
      for (auto& s : argv) a.push_back(s.data());
      a.push_back(nullptr);
      execv(a[0], a.data());
      _exit(127);
    }
  }
  ~Agent() { stop(); }
  void stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    int st = 0;
    waitpid(pid_, &st, 0);
    status_ = st;
    pid_ = -1;
  }
  pid_t pid() const { return pid_; }
  int status() const { return status_; }

 private:
  pid_t pid_ = -1;
  int status_ = 0;
};

// Blocking client: connect, send `out`, read until EOF or timeout.
struct Exchange {
  bool connected = false;
  std::string in;
};
Exchange exchange(const std::string& addr, const std::string& out, int timeoutMs = 2000) {
  Exchange ex;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(7411);
  inet_pton(AF_INET, addr.c_str(), &sa.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    close(fd);
    return ex;
  }
  ex.connected = true;
  if (!out.empty()) (void)!write(fd, out.data(), out.size());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
  char buf[8192];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    ex.in.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return ex;
}

// Retries `fn` until it returns true or `limit` passes (real time: these
// are integration tests against real processes).
bool eventually(const std::function<bool()>& fn, std::chrono::milliseconds limit = 10s) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (fn()) return true;
    usleep(50 * 1000);
  }
  return fn();
}

class AgentNetns : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string err = privateNetns();
    ASSERT_TRUE(err.empty()) << err;
    ASSERT_EQ(access(agentBinary().c_str(), X_OK), 0) << agentBinary() << " missing";
  }
};

TEST_F(AgentNetns, AnswersBothDialectsAndRunsAsNobody) {
  Agent agent("10.0.0.11");
  ASSERT_TRUE(eventually([] { return exchange("10.0.0.11", "", 500).connected; }));
  // Unprivileged: started as root, it dropped to nobody.
  std::ifstream status("/proc/" + std::to_string(agent.pid()) + "/status");
  std::string line, uid;
  while (std::getline(status, line))
    if (line.rfind("Uid:", 0) == 0) uid = line;
  EXPECT_NE(uid.find("65534"), std::string::npos) << uid;

  // HAProxy agent-check: silent client, then an agent-send line. Once the
  // window is full, the answer carries a weight.
  std::string text;
  ASSERT_TRUE(eventually([&] {
    text = exchange("10.0.0.11", "").in;
    return text.find('%') != std::string::npos;
  })) << text;
  auto parsed = parseTextAnswer(text);
  ASSERT_TRUE(parsed) << parsed.error().message << ": " << text;
  EXPECT_TRUE(parsed->up);
  EXPECT_EQ(parsed->state, agent::READY);
  ASSERT_TRUE(parsed->weightPct);
  EXPECT_GE(*parsed->weightPct, 1u);
  EXPECT_LE(*parsed->weightPct, 100u);
  EXPECT_EQ(exchange("10.0.0.11", "be_web/srv1\n").in.back(), '\n');

  // Binary: the window lvsd asks for.
  agent::AgentRequest req;
  req.set_version(1);
  req.set_samples(3);
  req.set_sample_interval_ms(100);
  ReportReader reader;
  ASSERT_EQ(reader.feed(exchange("10.0.0.11", encodeRequest(req)).in), ReportReader::State::kDone)
      << reader.detail();
  const auto& r = reader.report();
  EXPECT_TRUE(r.valid()) << r.reason();
  EXPECT_EQ(r.window_samples(), 2u);
  EXPECT_GT(r.mem_total_kb(), 0u);
  EXPECT_GT(r.mem_available_kb(), 0);
  EXPECT_GE(r.cpus(), 1u);

  // Oversized and slow requests get no answer, and the agent lives on.
  EXPECT_EQ(exchange("10.0.0.11", std::string("\0\0\x10\0", 4)).in, "");
  EXPECT_EQ(exchange("10.0.0.11", std::string("\0\0", 2), 3000).in, "");  // closed at 2 s
  EXPECT_EQ(exchange("10.0.0.11", std::string(300, 'x') + "\n").in, "");
  EXPECT_EQ(exchange("10.0.0.11", "").in.back(), '\n');
  agent.stop();
  EXPECT_TRUE(WIFEXITED(agent.status()) && WEXITSTATUS(agent.status()) == 0) << agent.status();
}

TEST_F(AgentNetns, StateFileDrainsAndDowns) {
  char tmpl[] = "/tmp/lvsd-agent-state-XXXXXX";
  int fd = mkstemp(tmpl);
  ASSERT_GE(fd, 0);
  close(fd);
  chmod(tmpl, 0644);  // readable by nobody
  std::string path = tmpl;
  Agent agent("10.0.0.11", {"--state-file", path});
  ASSERT_TRUE(eventually([] { return exchange("10.0.0.11", "", 500).connected; }));
  std::ofstream(path) << "drain\n";
  EXPECT_TRUE(eventually([] { return exchange("10.0.0.11", "").in == "drain\n"; }));
  std::ofstream(path) << "down maintenance window\n";
  EXPECT_TRUE(eventually([] { return exchange("10.0.0.11", "").in == "down #state-file: maintenance window\n"; }));
  std::ofstream(path) << "ready\n";
  EXPECT_TRUE(eventually([] { return exchange("10.0.0.11", "").in.rfind("up ready", 0) == 0; }));
  unlink(path.c_str());
}

config::Config parseConfig(const std::string& text) {
  config::Config c;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &c)) << text;
  return c;
}

struct Recorder {
  std::vector<WeightUpdate> updates;
  Callbacks callbacks() {
    return Callbacks{[this](const WeightUpdate& u) { updates.push_back(u); }};
  }
  const WeightUpdate* last(const std::string& rs) const {
    for (auto it = updates.rbegin(); it != updates.rend(); ++it)
      if (it->realServer.toString() == rs) return &*it;
    return nullptr;
  }
};

// Runs the io_context until `done` or the limit.
bool runUntil(asio::io_context& io, const std::function<bool()>& done,
              std::chrono::milliseconds limit = 15s) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < end) {
    io.restart();
    io.run_for(50ms);
  }
  return done();
}

const char* kTwoAgents = R"(
  feedback { policy: ADAPTIVE poll_interval_ms: 400 samples: 3 sample_interval_ms: 100
             agent_timeout_ms: 300 agent_fall: 2 %s }
  virtual_service {
    name: "web" address: "192.0.2.10:80" forwarding: TUN
    real_server { address: "10.0.0.11:80" weight: 7 }
    real_server { address: "10.0.0.12:80" weight: 7 }
  }
)";

std::string twoAgents(const std::string& extra) {
  std::string t = kTwoAgents;
  t.replace(t.find("%s"), 2, extra);
  return t;
}

TEST_F(AgentNetns, ManagerFollowsAgentsAndFallsBackWhenOneDies) {
  Agent a1("10.0.0.11"), a2("10.0.0.12");
  asio::io_context io;
  Recorder rec;
  FeedbackManager mgr(io, SystemClock::instance(), rec.callbacks());
  ASSERT_TRUE(mgr.start(parseConfig(twoAgents(""))));
  // Both get a dynamic weight (adaptive's baseline is 1000, configured is 7).
  ASSERT_TRUE(runUntil(io, [&] {
    auto* u1 = rec.last("10.0.0.11:80");
    auto* u2 = rec.last("10.0.0.12:80");
    return u1 && u2 && u1->kind == WeightUpdate::Kind::kDynamic &&
           u2->kind == WeightUpdate::Kind::kDynamic;
  }));
  EXPECT_EQ(rec.last("10.0.0.11:80")->service, "web");
  EXPECT_NE(rec.last("10.0.0.11:80")->line.find("reason=adaptive mem="), std::string::npos);

  a2.stop();
  ASSERT_TRUE(runUntil(io, [&] {
    auto* u2 = rec.last("10.0.0.12:80");
    return u2->kind == WeightUpdate::Kind::kConfigured;
  }));
  const WeightUpdate* u2 = rec.last("10.0.0.12:80");
  EXPECT_EQ(u2->weight, 7u);
  EXPECT_EQ(u2->reason.rfind("agent-unreachable: connect:", 0), 0u) << u2->reason;
  EXPECT_NE(u2->line.find("-> 7 reason=agent-unreachable"), std::string::npos) << u2->line;
  Counters c = mgr.counters();
  EXPECT_GE(c.connectErrors, 2u);
  EXPECT_GE(c.fallbacks, 1u);
  EXPECT_GE(c.answers, 2u);
  auto view = mgr.snapshot();
  ASSERT_EQ(view.size(), 1u);
  EXPECT_EQ(view[0].realServers[1].kind, "configured");
  EXPECT_EQ(view[0].realServers[0].kind, "dynamic");
  mgr.stop();
}

TEST_F(AgentNetns, DeadAgentThatIsTheHealthCheckTakesItsServerDown) {
  Agent a1("10.0.0.11");  // 10.0.0.12 has no agent at all
  asio::io_context io;
  Recorder rec;
  FeedbackManager mgr(io, SystemClock::instance(), rec.callbacks());
  ASSERT_TRUE(mgr.start(parseConfig(twoAgents("agent_is_health_check: true"))));
  ASSERT_TRUE(runUntil(io, [&] {
    auto* u2 = rec.last("10.0.0.12:80");
    return u2 && u2->kind == WeightUpdate::Kind::kDown;
  }));
  EXPECT_EQ(mgr.counters().downs, 1u);
  mgr.stop();
}

// Fake agents served from this process: each accepted connection gets
// `answer` (after reading the request) — or nothing.
class FakeAgent {
 public:
  FakeAgent(asio::io_context& io, const std::string& addr, std::string answer, bool silent = false)
      : acceptor_(io, asio::ip::tcp::endpoint(asio::ip::make_address(addr), 7411)),
        answer_(std::move(answer)),
        silent_(silent) {
    accept();
  }

 private:
  void accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, asio::ip::tcp::socket s) {
      if (ec) return;
      auto sock = std::make_shared<asio::ip::tcp::socket>(std::move(s));
      held_.push_back(sock);  // silent: keep it open, never answer
      if (!silent_) asio::async_write(*sock, asio::buffer(answer_), [sock](auto, size_t) {
        boost::system::error_code ignored;
        sock->shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
      });
      accept();
    });
  }
  asio::ip::tcp::acceptor acceptor_;
  std::string answer_;
  bool silent_;
  std::vector<std::shared_ptr<asio::ip::tcp::socket>> held_;
};

TEST_F(AgentNetns, MisbehavingAgentsAreCountedNeverFatal) {
  asio::io_context io;
  FakeAgent oversized(io, "10.0.0.21", std::string("\0\x10\0\0", 4) + std::string(1000, 'x'));
  FakeAgent silent(io, "10.0.0.22", "", true);
  FakeAgent text(io, "10.0.0.23", "up ready 75%\n");
  FakeAgent garbage(io, "10.0.0.24", std::string("\0\0\0\x03\xff\xff\xff", 7));
  Recorder rec;
  FeedbackManager mgr(io, SystemClock::instance(), rec.callbacks());
  ASSERT_TRUE(mgr.start(parseConfig(R"(
    feedback { policy: PAPER_2 poll_interval_ms: 300 agent_timeout_ms: 200 agent_fall: 2
               agent_is_health_check: true }
    virtual_service {
      name: "bad" address: "192.0.2.10:80"
      real_server { address: "10.0.0.21:80" }
      real_server { address: "10.0.0.22:80" }
      real_server { address: "10.0.0.23:80" }
      real_server { address: "10.0.0.24:80" }
    })")));
  ASSERT_TRUE(runUntil(io, [&] { return mgr.counters().rounds >= 3; }));
  Counters c = mgr.counters();
  EXPECT_GE(c.oversized, 2u);
  EXPECT_GE(c.timeouts, 2u);
  EXPECT_GE(c.malformed, 4u);  // the text answer and the garbage frame
  EXPECT_EQ(c.answers, 0u);
  // Each is treated as a dead agent: with the agent as health check, down.
  for (const char* rs : {"10.0.0.21:80", "10.0.0.22:80", "10.0.0.23:80", "10.0.0.24:80"}) {
    const WeightUpdate* u = rec.last(rs);
    ASSERT_NE(u, nullptr) << rs;
    EXPECT_EQ(u->kind, WeightUpdate::Kind::kDown) << rs;
  }
  EXPECT_NE(rec.last("10.0.0.21:80")->reason.find("exceeds"), std::string::npos);
  EXPECT_NE(rec.last("10.0.0.22:80")->reason.find("too slow"), std::string::npos);
  EXPECT_NE(rec.last("10.0.0.23:80")->reason.find("not a report frame"), std::string::npos);
  mgr.stop();
}

}  // namespace
}  // namespace lvsd::feedback
