// Metrics registry, exposition format 0.0.4 and the HTTP endpoint.
#include "daemon/metrics.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <cstring>

#include <chrono>
#include <set>
#include <sstream>
#include <thread>

namespace lvsd::daemon::metrics {
namespace {

TEST(MetricsFormat, ValuesAndEscapes) {
  EXPECT_EQ(formatValue(0), "0");
  EXPECT_EQ(formatValue(42), "42");
  EXPECT_EQ(formatValue(-3), "-3");
  EXPECT_EQ(formatValue(0.005), "0.005");
  EXPECT_EQ(formatValue(1.5e300), "1.5e+300");
  EXPECT_EQ(formatValue(1.0 / 0.0), "+Inf");
  EXPECT_EQ(formatValue(-1.0 / 0.0), "-Inf");
  EXPECT_EQ(formatValue(std::nan("")), "NaN");
  EXPECT_EQ(formatValue(9007199254740993.0), "9007199254740992");  // beyond 2^53: shortest form
  EXPECT_EQ(escapeLabelValue("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  EXPECT_EQ(escapeHelp("x\\y\nz \"q\""), "x\\\\y\\nz \"q\"");
}

TEST(MetricsFormat, Names) {
  EXPECT_TRUE(validMetricName("lvsd_x:y_total"));
  EXPECT_FALSE(validMetricName("9lives"));
  EXPECT_FALSE(validMetricName("a-b"));
  EXPECT_FALSE(validMetricName(""));
  EXPECT_TRUE(validLabelName("real_server"));
  EXPECT_FALSE(validLabelName("__reserved"));
  EXPECT_FALSE(validLabelName("le"));
  EXPECT_FALSE(validLabelName("a:b"));
}

TEST(MetricsRegistry, RendersTextExposition004) {
  Registry r;
  auto c = r.counter("lvsd_things_total", "Things.\nCounted.", {"kind", "where"});
  ASSERT_TRUE(c.ok());
  auto g = r.gauge("lvsd_level", "A level.");
  ASSERT_TRUE(g.ok());
  (*c)->labels({"b", "x\"y"}).inc(2);
  (*c)->labels({"a", "z"}).inc();
  (*c)->labels({"a", "z"}).inc(-5);  // counters never go down
  (*g)->labels({}).set(-1.25);
  EXPECT_EQ(r.render(),
            "# HELP lvsd_things_total Things.\\nCounted.\n"
            "# TYPE lvsd_things_total counter\n"
            "lvsd_things_total{kind=\"a\",where=\"z\"} 1\n"
            "lvsd_things_total{kind=\"b\",where=\"x\\\"y\"} 2\n"
            "# HELP lvsd_level A level.\n"
            "# TYPE lvsd_level gauge\n"
            "lvsd_level -1.25\n");
}

TEST(MetricsRegistry, HistogramBucketsAreCumulative) {
  Registry r;
  auto h = r.histogram("lvsd_lat_seconds", "Latency.", {"peer"}, {0.125, 1, 10});
  ASSERT_TRUE(h.ok());
  auto& x = (*h)->labels({"p"});
  // Binary fractions: the sum is exact.
  for (double v : {0.0625, 0.125, 0.5, 2.0, 16.0, 16.0}) x.observe(v);
  EXPECT_EQ(r.render(),
            "# HELP lvsd_lat_seconds Latency.\n"
            "# TYPE lvsd_lat_seconds histogram\n"
            "lvsd_lat_seconds_bucket{peer=\"p\",le=\"0.125\"} 2\n"
            "lvsd_lat_seconds_bucket{peer=\"p\",le=\"1\"} 3\n"
            "lvsd_lat_seconds_bucket{peer=\"p\",le=\"10\"} 4\n"
            "lvsd_lat_seconds_bucket{peer=\"p\",le=\"+Inf\"} 6\n"
            "lvsd_lat_seconds_sum{peer=\"p\"} 34.6875\n"
            "lvsd_lat_seconds_count{peer=\"p\"} 6\n");
}

TEST(MetricsRegistry, HistogramsCanMirrorAModulesBuckets) {
  Registry r;
  auto h = *r.histogram("lvsd_m_seconds", "Mirrored.", {}, {0.5, 1});
  auto& x = h->labels({});
  EXPECT_FALSE(x.setSnapshot({1}, 1, 0.25));         // wrong number of bounds
  EXPECT_FALSE(x.setSnapshot({3, 2}, 4, 1.0));       // not cumulative
  EXPECT_FALSE(x.setSnapshot({1, 2}, 1, 1.0));       // count below the last bucket
  EXPECT_EQ(x.count(), 0u);
  ASSERT_TRUE(x.setSnapshot({1, 3}, 5, 7.5));
  EXPECT_EQ(x.cumulative(), (std::vector<uint64_t>{1, 3, 5}));
  EXPECT_EQ(x.count(), 5u);
  EXPECT_DOUBLE_EQ(x.sum(), 7.5);
  x.observe(0.75);  // a mirror may also be observed into
  EXPECT_EQ(x.cumulative(), (std::vector<uint64_t>{1, 4, 6}));
  EXPECT_EQ(checkLatencyBuckets().size(), 12u);
}

TEST(MetricsRegistry, RegistrationIsIdempotentButConflictsAreErrors) {
  Registry r;
  auto a = r.counter("lvsd_x_total", "X.", {"a"});
  ASSERT_TRUE(a.ok());
  auto again = r.counter("lvsd_x_total", "X.", {"a"});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*a, *again);
  EXPECT_FALSE(r.gauge("lvsd_x_total", "X.", {"a"}).ok());
  EXPECT_FALSE(r.counter("lvsd_x_total", "X.", {"b"}).ok());
  EXPECT_FALSE(r.counter("lvsd_x_total", "Other help.", {"a"}).ok());
  ASSERT_TRUE(r.histogram("lvsd_h", "H.", {}, {1, 2}).ok());
  EXPECT_FALSE(r.gauge("lvsd_h_count", "clash with the histogram's series").ok());
  EXPECT_FALSE(r.histogram("lvsd_bad", "B.", {}, {2, 1}).ok());
  EXPECT_FALSE(r.histogram("lvsd_empty", "B.", {}, {}).ok());
  EXPECT_FALSE(r.counter("bad-name", "B.").ok());
  EXPECT_FALSE(r.counter("lvsd_y", "B.", {"a", "a"}).ok());
  EXPECT_FALSE(r.counter("lvsd_z", "B.", {"le"}).ok());
  EXPECT_EQ(r.families(), 2u);
}

TEST(MetricsRegistry, WrongLabelArityIsDetachedNotRendered) {
  Registry r;
  auto c = r.counter("lvsd_x_total", "X.", {"a", "b"});
  ASSERT_TRUE(c.ok());
  (*c)->labels({"only-one"}).inc();
  EXPECT_EQ((*c)->size(), 0u);
  EXPECT_EQ(r.render().find("only-one"), std::string::npos);
}

TEST(MetricsRegistry, ChildrenCanBeRemoved) {
  Registry r;
  auto g = *r.gauge("lvsd_up", "Up.", {"service", "real_server"});
  g->labels({"s1", "a"}).set(1);
  g->labels({"s1", "b"}).set(1);
  g->labels({"s2", "a"}).set(0);
  g->remove({"s1", "b"});
  EXPECT_EQ(g->size(), 2u);
  g->removeMatching("service", "s1");
  EXPECT_EQ(g->size(), 1u);
  g->removeMatching("nope", "s2");
  EXPECT_EQ(g->size(), 1u);
  g->clear();
  EXPECT_EQ(g->size(), 0u);
}

TEST(MetricsRegistry, CollectorsRunBeforeEachRender) {
  Registry r;
  auto g = *r.gauge("lvsd_polled", "Read on scrape.");
  int calls = 0;
  uint64_t id = r.addCollector([&] { g->labels({}).set(++calls); });
  EXPECT_NE(r.render().find("lvsd_polled 1\n"), std::string::npos);
  EXPECT_NE(r.render().find("lvsd_polled 2\n"), std::string::npos);
  r.removeCollector(id);
  EXPECT_NE(r.render().find("lvsd_polled 2\n"), std::string::npos);
  EXPECT_EQ(calls, 2);
}

TEST(MetricsRegistry, ConcurrentUpdatesAreNotLost) {
  Registry r;
  auto c = *r.counter("lvsd_n_total", "N.", {"t"});
  auto h = *r.histogram("lvsd_h_seconds", "H.", {}, {1});
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&, t] {
      for (int i = 0; i < 10000; ++i) {
        c->labels({std::to_string(t % 2)}).inc();
        h->labels({}).observe(0.5);
      }
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(c->labels({"0"}).value() + c->labels({"1"}).value(), 40000);
  EXPECT_EQ(h->labels({}).count(), 40000u);
  EXPECT_DOUBLE_EQ(h->labels({}).sum(), 20000);
}

// Every family the issue names exists from the start, so a scrape shows
// them all whatever modules run.
TEST(LvsdMetrics, CatalogueRegistersEveryFamily) {
  Registry r;
  LvsdMetrics m(r);
  std::string text = r.render();
  for (const char* name :
       {"lvsd_build_info", "lvsd_instance_role", "lvsd_instance_transitions_total",
        "lvsd_heartbeat_loop_late_wakeups_total", "lvsd_heartbeat_dropped_total", "lvsd_check_results_total",
        "lvsd_check_duration_seconds", "lvsd_real_server_up", "lvsd_real_server_weight",
        "lvsd_ipvs_operations_total", "lvsd_ipvs_operation_errors_total", "lvsd_sync_resyncs_total",
        "lvsd_sync_peer_up", "lvsd_ipvs_service_connections_total",
        "lvsd_ipvs_service_connections_per_second", "lvsd_ipvs_destination_active_connections",
        "lvsd_ipvs_destination_connections_per_second", "lvsd_config_reloads_total"})
    EXPECT_NE(text.find(std::string("# TYPE ") + name + " "), std::string::npos) << name;
  // A second catalogue on the same registry (a restarted daemon object) is fine.
  LvsdMetrics again(r);
  EXPECT_EQ(&again.transitions, &m.transitions);
}

// --- HTTP endpoint ----------------------------------------------------------

// A TCP connection to 127.0.0.1:port, or -1.
int connectLoopback(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// A blocking client: sends `request` to 127.0.0.1:port, returns all it reads.
std::string exchange(uint16_t port, const std::string& request, bool closeWrite = false) {
  int fd = connectLoopback(port);
  if (fd < 0) return "connect failed";
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  size_t off = 0;
  while (off < request.size()) {
    ssize_t n = ::send(fd, request.data() + off, request.size() - off, MSG_NOSIGNAL);
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  if (closeWrite) ::shutdown(fd, SHUT_WR);
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

class MetricsHttp : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = server_.listen("127.0.0.1:0");
    ASSERT_TRUE(s.ok()) << s.error().message;
    std::string addr = server_.address();
    port_ = static_cast<uint16_t>(std::stoi(addr.substr(addr.rfind(':') + 1)));
    (*registry_.gauge("lvsd_test_value", "Test."))->labels({}).set(7);
    thread_ = std::thread([this] {
      auto guard = boost::asio::make_work_guard(io_);
      io_.run();
    });
  }
  void TearDown() override {
    io_.stop();
    thread_.join();
    server_.close();
  }
  std::string get(const std::string& req, bool closeWrite = false) { return exchange(port_, req, closeWrite); }

  boost::asio::io_context io_;
  Registry registry_;
  CounterFamily* scrapes_ = *registry_.counter("lvsd_metrics_scrapes_total", "Scrapes.");
  HttpServer server_{io_, registry_, scrapes_};
  uint16_t port_ = 0;
  std::thread thread_;
};

TEST_F(MetricsHttp, ServesMetrics) {
  std::string r = get("GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n");
  ASSERT_EQ(r.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << r;
  EXPECT_NE(r.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"), std::string::npos);
  EXPECT_NE(r.find("Connection: close\r\n"), std::string::npos);
  std::string body = r.substr(r.find("\r\n\r\n") + 4);
  EXPECT_NE(r.find("Content-Length: " + std::to_string(body.size()) + "\r\n"), std::string::npos);
  EXPECT_NE(body.find("lvsd_test_value 7\n"), std::string::npos) << body;
  // The scrape counter counts this scrape before rendering.
  EXPECT_NE(body.find("lvsd_metrics_scrapes_total 1\n"), std::string::npos) << body;
  // Query strings are ignored; HEAD has headers only.
  std::string q = get("GET /metrics?name[]=x HTTP/1.0\r\n\r\n");
  EXPECT_EQ(q.rfind("HTTP/1.1 200 OK", 0), 0u) << q;
  std::string h = get("HEAD /metrics HTTP/1.1\r\n\r\n");
  EXPECT_EQ(h.rfind("HTTP/1.1 200 OK", 0), 0u);
  EXPECT_EQ(h.substr(h.find("\r\n\r\n") + 4), "");
}

TEST_F(MetricsHttp, RequestsArriveInPieces) {
  int fd = connectLoopback(port_);
  ASSERT_GE(fd, 0);
  for (const char* piece : {"GE", "T /met", "rics HTTP/1.1\r", "\nHost: a\r\n", "\r\n"}) {
    ASSERT_GT(::send(fd, piece, strlen(piece), MSG_NOSIGNAL), 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  char buf[64] = {};
  ASSERT_GT(::recv(fd, buf, sizeof buf - 1, 0), 0);
  ::close(fd);
  EXPECT_EQ(std::string(buf).rfind("HTTP/1.1 200 OK", 0), 0u) << buf;
}

TEST_F(MetricsHttp, RefusesWhatItDoesNotServe) {
  EXPECT_EQ(get("GET / HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 404 Not Found\r\n", 0), 0u);
  EXPECT_EQ(get("GET /metricsx HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 404", 0), 0u);
  std::string post = get("POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(post.rfind("HTTP/1.1 405 Method Not Allowed\r\n", 0), 0u);
  EXPECT_NE(post.find("Allow: GET, HEAD\r\n"), std::string::npos);
  EXPECT_EQ(get("GARBAGE\r\n\r\n").rfind("HTTP/1.1 400", 0), 0u);
  EXPECT_EQ(get("GET /metrics SPDY/3\r\n\r\n").rfind("HTTP/1.1 400", 0), 0u);
  std::string big = "GET /metrics HTTP/1.1\r\nX: " + std::string(9000, 'a') + "\r\n\r\n";
  EXPECT_EQ(get(big).rfind("HTTP/1.1 431", 0), 0u);
  // A client that closes without a full request gets nothing, and the
  // server keeps serving.
  EXPECT_EQ(get("GET /metr", true), "");
  EXPECT_EQ(get("GET /metrics HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 200", 0), 0u);
}

TEST_F(MetricsHttp, ConnectionsAreBounded) {
  // Idle connections up to the limit are held; beyond it they are closed at once.
  std::vector<int> fds;
  for (size_t i = 0; i < HttpServer::kMaxConnections + 3; ++i) {
    int fd = connectLoopback(port_);
    ASSERT_GE(fd, 0);
    fds.push_back(fd);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  size_t closed = 0;
  for (int fd : fds) {
    char c;
    timeval tv{0, 100000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (::recv(fd, &c, 1, 0) == 0) ++closed;  // EOF: refused by the limit
  }
  EXPECT_EQ(closed, 3u);
  for (int fd : fds) ::close(fd);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(get("GET /metrics HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 200", 0), 0u);
}

TEST(MetricsHttpListen, BadAddressesAreErrors) {
  boost::asio::io_context io;
  Registry r;
  HttpServer s(io, r);
  EXPECT_FALSE(s.listen("not-an-address").ok());
  EXPECT_FALSE(s.listen("192.0.2.1:9").ok());  // not ours: EADDRNOTAVAIL
  EXPECT_FALSE(s.listening());
  ASSERT_TRUE(s.listen("127.0.0.1:0").ok());
  HttpServer t(io, r);
  auto busy = t.listen(s.address());
  ASSERT_FALSE(busy.ok());
  EXPECT_EQ(busy.error().code, EADDRINUSE);
}

TEST(MetricsService, FollowsConfigListen) {
  boost::asio::io_context io;
  MetricsService m(io, "9.9.9");
  config::Config cfg;
  EXPECT_TRUE(m.apply(cfg).ok());
  EXPECT_EQ(m.address(), "");
  // Pick a free port, then switch on, keep, move and switch off.
  HttpServer probe(io, m.registry());
  ASSERT_TRUE(probe.listen("127.0.0.1:0").ok());
  std::string addr = probe.address();
  probe.close();
  cfg.mutable_metrics()->set_listen(addr);
  ASSERT_TRUE(m.apply(cfg).ok());
  EXPECT_EQ(m.address(), addr);
  ASSERT_TRUE(m.apply(cfg).ok());  // unchanged: nothing happens
  EXPECT_EQ(m.address(), addr);
  // A move to an address that cannot be bound keeps the old endpoint.
  cfg.mutable_metrics()->set_listen("192.0.2.1:9465");
  EXPECT_FALSE(m.apply(cfg).ok());
  EXPECT_EQ(m.address(), addr);
  cfg.clear_metrics();
  ASSERT_TRUE(m.apply(cfg).ok());
  EXPECT_EQ(m.address(), "");
  EXPECT_NE(m.registry().render().find("lvsd_build_info{version=\"9.9.9\"} 1\n"), std::string::npos);
}

}  // namespace
}  // namespace lvsd::daemon::metrics
