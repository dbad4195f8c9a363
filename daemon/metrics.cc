#include "daemon/metrics.h"

#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "core/address.h"
#include "core/log.h"

namespace lvsd::daemon::metrics {

namespace {

auto metricsLog() { return logger("metrics"); }

void atomicAdd(std::atomic<double>& a, double by) {
  double cur = a.load(std::memory_order_relaxed);
  while (!a.compare_exchange_weak(cur, cur + by, std::memory_order_relaxed)) {
  }
}

const char* typeName(Type t) {
  switch (t) {
    case Type::kCounter:
      return "counter";
    case Type::kGauge:
      return "gauge";
    case Type::kHistogram:
      return "histogram";
  }
  return "untyped";
}

// {a="x",b="y"} (with an extra trailing pair for histogram buckets).
std::string labelText(const std::vector<std::string>& names, const std::vector<std::string>& values,
                      const std::string& extraName = "", const std::string& extraValue = "") {
  if (names.empty() && extraName.empty()) return "";
  std::string s = "{";
  for (size_t i = 0; i < names.size(); ++i) {
    if (i) s += ',';
    s += names[i] + "=\"" + escapeLabelValue(values[i]) + "\"";
  }
  if (!extraName.empty()) {
    if (!names.empty()) s += ',';
    s += extraName + "=\"" + extraValue + "\"";
  }
  return s + "}";
}

template <typename T>
T* must(Result<T*> r) {
  if (!r) {
    // The catalogue is fixed and unit-tested; failing here is a build bug.
    metricsLog()->critical("metrics catalogue: {}", r.error().message);
    std::abort();
  }
  return *r;
}

}  // namespace

// ---------------------------------------------------------------------------
// Values

void Counter::inc(double by) {
  if (by < 0 || std::isnan(by)) return;  // a counter never goes down
  atomicAdd(value_, by);
}

void Counter::setTotal(double total) { value_.store(total, std::memory_order_relaxed); }

void Gauge::inc(double by) { atomicAdd(value_, by); }

Histogram::Histogram(const std::vector<double>& bounds)
    : bounds_(bounds), buckets_(new std::atomic<uint64_t>[bounds.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
}

void Histogram::observe(double v) {
  if (std::isnan(v)) return;
  size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  atomicAdd(sum_, v);
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::cumulative() const {
  std::vector<uint64_t> out(bounds_.size() + 1);
  uint64_t acc = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    acc += buckets_[i].load(std::memory_order_relaxed);
    out[i] = acc;
  }
  return out;
}

std::vector<double> latencyBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

std::vector<double> checkLatencyBuckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
}

bool Histogram::setSnapshot(const std::vector<uint64_t>& cumulative, uint64_t count, double sum) {
  if (cumulative.size() != bounds_.size()) return false;
  uint64_t prev = 0;
  for (size_t i = 0; i < cumulative.size(); ++i) {
    if (cumulative[i] < prev) return false;  // not cumulative
    prev = cumulative[i];
  }
  if (count < prev) return false;
  prev = 0;
  for (size_t i = 0; i < cumulative.size(); ++i) {
    buckets_[i].store(cumulative[i] - prev, std::memory_order_relaxed);
    prev = cumulative[i];
  }
  buckets_[bounds_.size()].store(count - prev, std::memory_order_relaxed);
  count_.store(count, std::memory_order_relaxed);
  sum_.store(sum, std::memory_order_relaxed);
  return true;
}

// ---------------------------------------------------------------------------
// Formatting

bool validMetricName(const std::string& n) {
  if (n.empty()) return false;
  for (size_t i = 0; i < n.size(); ++i) {
    char c = n[i];
    bool ok = std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':' ||
              (i > 0 && std::isdigit(static_cast<unsigned char>(c)));
    if (!ok) return false;
  }
  return true;
}

bool validLabelName(const std::string& n) {
  if (n.empty() || n.rfind("__", 0) == 0) return false;  // "__" is reserved
  for (size_t i = 0; i < n.size(); ++i) {
    char c = n[i];
    bool ok = std::isalpha(static_cast<unsigned char>(c)) || c == '_' ||
              (i > 0 && std::isdigit(static_cast<unsigned char>(c)));
    if (!ok) return false;
  }
  return n != "le" && n != "quantile";  // used by histograms and summaries
}

std::string formatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  // Integral values below 2^53 print exactly, without an exponent.
  if (v == std::floor(v) && std::fabs(v) < 9007199254740992.0)
    return std::to_string(static_cast<long long>(v));
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest round-trip form
  return std::string(buf, r.ptr);
}

std::string escapeLabelValue(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string escapeHelp(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Families

template <typename T>
T& Family<T>::labels(const std::vector<std::string>& values) {
  std::lock_guard<std::mutex> lock(mu_);
  if (values.size() != labels_.size()) {
    if (!detached_) {
      metricsLog()->error("metric {}: {} label value(s) given, {} expected; values dropped", name_,
                   values.size(), labels_.size());
      if constexpr (std::is_same_v<T, Histogram>) detached_ = std::make_unique<T>(bounds_);
      else detached_ = std::make_unique<T>();
    }
    return *detached_;
  }
  auto it = children_.find(values);
  if (it == children_.end()) {
    std::unique_ptr<T> child;
    if constexpr (std::is_same_v<T, Histogram>) child = std::make_unique<T>(bounds_);
    else child = std::make_unique<T>();
    it = children_.emplace(values, std::move(child)).first;
  }
  return *it->second;
}

template <typename T>
void Family<T>::remove(const std::vector<std::string>& values) {
  std::lock_guard<std::mutex> lock(mu_);
  children_.erase(values);
}

template <typename T>
void Family<T>::removeMatching(const std::string& label, const std::string& value) {
  std::lock_guard<std::mutex> lock(mu_);
  auto pos = std::find(labels_.begin(), labels_.end(), label);
  if (pos == labels_.end()) return;
  size_t i = static_cast<size_t>(pos - labels_.begin());
  for (auto it = children_.begin(); it != children_.end();)
    it = it->first[i] == value ? children_.erase(it) : std::next(it);
}

template <typename T>
void Family<T>::clear() {
  std::lock_guard<std::mutex> lock(mu_);
  children_.clear();
}

template <typename T>
size_t Family<T>::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return children_.size();
}

template <typename T>
void Family<T>::render(std::string& out) const {
  out += "# HELP " + name_ + " " + escapeHelp(help_) + "\n";
  out += "# TYPE " + name_ + " " + typeName(type_) + "\n";
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [values, child] : children_) {
    if constexpr (std::is_same_v<T, Histogram>) {
      auto cum = child->cumulative();
      const auto& b = child->bounds();
      for (size_t i = 0; i < b.size(); ++i)
        out += name_ + "_bucket" + labelText(labels_, values, "le", formatValue(b[i])) + " " +
               std::to_string(cum[i]) + "\n";
      out += name_ + "_bucket" + labelText(labels_, values, "le", "+Inf") + " " +
             std::to_string(cum.back()) + "\n";
      out += name_ + "_sum" + labelText(labels_, values) + " " + formatValue(child->sum()) + "\n";
      out += name_ + "_count" + labelText(labels_, values) + " " + std::to_string(cum.back()) + "\n";
    } else {
      out += name_ + labelText(labels_, values) + " " + formatValue(child->value()) + "\n";
    }
  }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

// ---------------------------------------------------------------------------
// Registry

template <typename T>
Result<Family<T>*> Registry::add(const std::string& name, const std::string& help,
                                 const std::vector<std::string>& labels, Type type,
                                 std::vector<double> bounds) {
  if (!validMetricName(name)) return Error("invalid metric name '" + name + "'");
  for (const auto& l : labels)
    if (!validLabelName(l)) return Error("metric " + name + ": invalid label name '" + l + "'");
  for (size_t i = 0; i < labels.size(); ++i)
    for (size_t j = i + 1; j < labels.size(); ++j)
      if (labels[i] == labels[j]) return Error("metric " + name + ": label '" + labels[i] + "' twice");
  if (type == Type::kHistogram) {
    if (bounds.empty()) return Error("histogram " + name + " needs buckets");
    for (size_t i = 0; i < bounds.size(); ++i)
      if (std::isnan(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1]))
        return Error("histogram " + name + ": buckets must increase");
    if (std::isinf(bounds.back())) bounds.pop_back();  // +Inf is implicit
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& f : families_) {
    // Histograms own name_bucket/_sum/_count; no other family may take them.
    bool clash = f->name() == name;
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      if (f->type() == Type::kHistogram && name == f->name() + suffix) clash = true;
      if (type == Type::kHistogram && f->name() == name + suffix) clash = true;
    }
    if (!clash) continue;
    auto* same = dynamic_cast<Family<T>*>(f.get());
    if (same && f->name() == name && f->type() == type && f->help() == help && f->labelNames() == labels)
      return same;  // idempotent: a component restarted by a reload
    return Error("metric " + name + " is already registered differently (as " + typeName(f->type()) +
                 " " + f->name() + ")");
  }
  auto fam = std::make_unique<Family<T>>(name, help, labels, type, std::move(bounds));
  auto* raw = fam.get();
  families_.push_back(std::move(fam));
  return raw;
}

Result<CounterFamily*> Registry::counter(const std::string& name, const std::string& help,
                                         const std::vector<std::string>& labels) {
  return add<Counter>(name, help, labels, Type::kCounter, {});
}

Result<GaugeFamily*> Registry::gauge(const std::string& name, const std::string& help,
                                     const std::vector<std::string>& labels) {
  return add<Gauge>(name, help, labels, Type::kGauge, {});
}

Result<HistogramFamily*> Registry::histogram(const std::string& name, const std::string& help,
                                             const std::vector<std::string>& labels,
                                             std::vector<double> bounds) {
  return add<Histogram>(name, help, labels, Type::kHistogram, std::move(bounds));
}

uint64_t Registry::addCollector(std::function<void()> collect) {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t id = nextCollector_++;
  collectors_.emplace(id, std::move(collect));
  return id;
}

void Registry::removeCollector(uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  collectors_.erase(id);
}

std::string Registry::render() const {
  std::vector<std::function<void()>> collect;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [id, c] : collectors_) collect.push_back(c);
  }
  // Collectors update families, so they run without the registry lock.
  for (const auto& c : collect) c();
  std::string out;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& f : families_) f->render(out);
  return out;
}

size_t Registry::families() const {
  std::lock_guard<std::mutex> lock(mu_);
  return families_.size();
}

// ---------------------------------------------------------------------------
// The catalogue

LvsdMetrics::LvsdMetrics(Registry& r)
    : registry(r),
      buildInfo(*must(r.gauge("lvsd_build_info", "lvsd version (always 1).", {"version"}))),
      startTime(*must(r.gauge("lvsd_start_time_seconds", "When lvsd started, Unix time."))),
      configGeneration(*must(r.gauge("lvsd_config_generation",
                                     "Generation of the running config (1 at start, +1 per applied reload)."))),
      reloads(*must(r.counter("lvsd_config_reloads_total",
                              "Reloads by result: applied, applied_with_errors, rejected.", {"result"}))),
      scrapes(*must(r.counter("lvsd_metrics_scrapes_total", "Requests served by the metrics endpoint."))),
      instanceRole(*must(r.gauge("lvsd_instance_role",
                                 "1 for the role each election instance is in (INIT, BACKUP, MASTER, FAULT), 0 for the others.",
                                 {"lvs_instance", "role"}))),
      instancePriority(*must(r.gauge("lvsd_instance_priority",
                                     "Effective priority of each instance (after trackers).", {"lvs_instance"}))),
      transitions(*must(r.counter("lvsd_instance_transitions_total", "Role transitions of each instance.",
                                  {"lvs_instance", "from", "to"}))),
      heartbeatsSent(*must(r.counter("lvsd_heartbeat_sent_total", "Heartbeats sent."))),
      heartbeatsReceived(*must(r.counter("lvsd_heartbeat_received_total", "Valid heartbeats received."))),
      heartbeatSendErrors(*must(r.counter("lvsd_heartbeat_send_errors_total", "Heartbeats the kernel refused to send."))),
      heartbeatDrops(*must(r.counter(
          "lvsd_heartbeat_dropped_total",
          "Heartbeats dropped, per reason (bad-mac, replayed, stale, unknown-peer, malformed, ...).",
          {"reason"}))),
      loopWakeups(*must(r.counter("lvsd_heartbeat_loop_wakeups_total", "Timer wake-ups of the heartbeat loop."))),
      loopLate(*must(r.counter("lvsd_heartbeat_loop_late_wakeups_total",
                               "Heartbeat loop wake-ups later than `over` seconds (0.001, 0.005, 0.02).",
                               {"over"}))),
      loopMaxLate(*must(r.gauge("lvsd_heartbeat_loop_max_lateness_seconds",
                                "Latest wake-up of the heartbeat loop so far."))),
      checkResults(*must(r.counter("lvsd_check_results_total",
                                   "Health-check results (success, failure, timeout), per check and target.",
                                   {"check", "target", "result"}))),
      checkLastDuration(*must(r.gauge("lvsd_check_last_duration_seconds",
                                      "Latency of each check's last completed attempt.", {"check", "target"}))),
      checkDuration(*must(r.histogram("lvsd_check_duration_seconds", "Latency of all health-check attempts.", {},
                                      checkLatencyBuckets()))),
      realServerUp(*must(r.gauge("lvsd_real_server_up", "1 when a real server passes its checks.",
                                 {"service", "real_server"}))),
      realServerWeight(*must(r.gauge("lvsd_real_server_weight",
                                     "Weight lvsd wants in IPVS for each real server.",
                                     {"service", "real_server"}))),
      ipvsApplies(*must(r.counter("lvsd_ipvs_applies_total", "Reconciliations of the IPVS table."))),
      ipvsOps(*must(r.counter("lvsd_ipvs_operations_total", "IPVS netlink operations issued."))),
      ipvsErrors(*must(r.counter("lvsd_ipvs_operation_errors_total", "IPVS netlink operations the kernel refused."))),
      syncPeerUp(*must(r.gauge("lvsd_sync_peer_up", "1 while the sync peer channel to a director is connected.",
                               {"peer"}))),
      syncPeerConnects(*must(r.counter("lvsd_sync_peer_connects_total", "Sync peer channel connections made.",
                                       {"peer"}))),
      syncChannelErrors(*must(r.counter("lvsd_sync_channel_errors_total", "Sync peer channel errors, per reason.",
                                        {"reason"}))),
      syncDaemonSwitches(*must(r.counter("lvsd_sync_daemon_switches_total",
                                         "Kernel sync daemon starts and stops."))),
      resyncs(*must(r.counter("lvsd_sync_resyncs_total", "Full connection-table resyncs sent."))),
      resyncLastEntries(*must(r.gauge("lvsd_sync_resync_last_entries", "Connections sent by the last resync."))),
      resyncLastDuration(*must(r.gauge("lvsd_sync_resync_last_duration_seconds", "Duration of the last resync."))),
      serviceConnections(*must(r.counter("lvsd_ipvs_service_connections_total",
                                         "Connections scheduled by each virtual service (kernel counter).",
                                         {"service"}))),
      servicePackets(*must(r.counter("lvsd_ipvs_service_packets_total",
                                     "Packets through each virtual service, per direction (in, out).",
                                     {"service", "direction"}))),
      serviceBytes(*must(r.counter("lvsd_ipvs_service_bytes_total",
                                   "Bytes through each virtual service, per direction (in, out).",
                                   {"service", "direction"}))),
      serviceCps(*must(r.gauge("lvsd_ipvs_service_connections_per_second",
                               "Connection rate of each virtual service (kernel estimator).", {"service"}))),
      servicePps(*must(r.gauge("lvsd_ipvs_service_packets_per_second",
                               "Packet rate of each virtual service (kernel estimator).",
                               {"service", "direction"}))),
      serviceBps(*must(r.gauge("lvsd_ipvs_service_bytes_per_second",
                               "Byte rate of each virtual service (kernel estimator).",
                               {"service", "direction"}))),
      destActive(*must(r.gauge("lvsd_ipvs_destination_active_connections",
                               "Active connections of each real server in IPVS.", {"service", "real_server"}))),
      destInactive(*must(r.gauge("lvsd_ipvs_destination_inactive_connections",
                                 "Inactive connections of each real server in IPVS.",
                                 {"service", "real_server"}))),
      destConnections(*must(r.counter("lvsd_ipvs_destination_connections_total",
                                      "Connections scheduled to each real server (kernel counter).",
                                      {"service", "real_server"}))),
      destBytes(*must(r.counter("lvsd_ipvs_destination_bytes_total",
                                "Bytes to and from each real server, per direction (in, out).",
                                {"service", "real_server", "direction"}))),
      destCps(*must(r.gauge("lvsd_ipvs_destination_connections_per_second",
                            "Connection rate of each real server (kernel estimator).",
                            {"service", "real_server"}))),
      destBps(*must(r.gauge("lvsd_ipvs_destination_bytes_per_second",
                            "Byte rate of each real server (kernel estimator).",
                            {"service", "real_server", "direction"}))) {}

// ---------------------------------------------------------------------------
// HTTP endpoint

namespace {

using boost::asio::ip::tcp;

std::string formatEndpoint(const tcp::endpoint& ep) {
  auto a = ep.address();
  std::string host = a.is_v6() ? "[" + a.to_string() + "]" : a.to_string();
  return host + ":" + std::to_string(ep.port());
}

}  // namespace

class HttpServer::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket sock, HttpServer& server, std::weak_ptr<int> alive)
      : sock_(std::move(sock)), timer_(sock_.get_executor()), server_(server), alive_(std::move(alive)) {}

  void start() {
    timer_.expires_after(kRequestTimeout);
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec) self->abort();  // a client that never finishes its request
    });
    read();
  }

  void abort() {
    boost::system::error_code ignored;
    sock_.close(ignored);
    timer_.cancel();
  }

 private:
  void read() {
    sock_.async_read_some(boost::asio::buffer(chunk_),
                          [self = shared_from_this()](const boost::system::error_code& ec, size_t n) {
                            if (ec) {
                              self->abort();  // peer gone: free the slot now, not at the timeout
                              return;
                            }
                            self->received(n);
                          });
  }

  void received(size_t n) {
    head_.append(chunk_.data(), n);
    size_t end = head_.find("\r\n\r\n");
    if (end == std::string::npos) end = head_.find("\n\n");  // lenient: bare LF clients
    if (end == std::string::npos) {
      if (head_.size() > kMaxRequestHead) {
        respond(431, "Request Header Fields Too Large", "request head over 8 KiB\n", false);
        return;
      }
      read();
      return;
    }
    if (end > kMaxRequestHead) {
      respond(431, "Request Header Fields Too Large", "request head over 8 KiB\n", false);
      return;
    }
    handle(head_.substr(0, head_.find_first_of("\r\n")));
  }

  void handle(const std::string& requestLine) {
    // METHOD SP TARGET SP HTTP/1.x (RFC 9112 §3)
    size_t a = requestLine.find(' ');
    size_t b = a == std::string::npos ? a : requestLine.find(' ', a + 1);
    if (a == std::string::npos || b == std::string::npos || requestLine.compare(b + 1, 7, "HTTP/1.") != 0 ||
        requestLine.size() != b + 9) {
      respond(400, "Bad Request", "malformed request line\n", false);
      return;
    }
    std::string method = requestLine.substr(0, a);
    std::string target = requestLine.substr(a + 1, b - a - 1);
    std::string path = target.substr(0, target.find('?'));
    bool head = method == "HEAD";
    if (method != "GET" && !head) {
      respond(405, "Method Not Allowed", "only GET and HEAD\n", false, "Allow: GET, HEAD\r\n");
      return;
    }
    if (path != "/metrics") {
      respond(404, "Not Found", "metrics are at /metrics\n", head);
      return;
    }
    if (alive_.expired()) return;  // the server is gone; the socket closes with us
    if (server_.scrapes_) server_.scrapes_->labels({}).inc();
    ++server_.served_;
    std::string body = server_.registry_.render();
    respond(200, "OK", std::move(body), head, "", "text/plain; version=0.0.4; charset=utf-8");
  }

  void respond(int code, const char* reason, std::string body, bool headOnly,
               const std::string& extra = "", const char* type = "text/plain; charset=utf-8") {
    out_ = "HTTP/1.1 " + std::to_string(code) + " " + reason + "\r\n" + "Content-Type: " + type +
           "\r\n" + "Content-Length: " + std::to_string(body.size()) + "\r\n" + extra +
           "Connection: close\r\n\r\n";
    if (!headOnly) out_ += body;
    boost::asio::async_write(sock_, boost::asio::buffer(out_),
                             [self = shared_from_this()](const boost::system::error_code&, size_t) {
                               boost::system::error_code ignored;
                               self->sock_.shutdown(tcp::socket::shutdown_both, ignored);
                               self->abort();
                             });
  }

  tcp::socket sock_;
  boost::asio::steady_timer timer_;
  HttpServer& server_;
  std::weak_ptr<int> alive_;
  std::array<char, 2048> chunk_{};
  std::string head_;
  std::string out_;
};

HttpServer::HttpServer(boost::asio::io_context& io, Registry& registry, CounterFamily* scrapes)
    : io_(io), registry_(registry), scrapes_(scrapes), alive_(std::make_shared<int>(0)) {}

HttpServer::~HttpServer() { close(); }

Status HttpServer::listen(const std::string& address) {
  auto ep = Endpoint::parse(address);
  if (!ep) return Error(ep.error().message);
  boost::system::error_code ec;
  auto ip = boost::asio::ip::make_address(ep->address().toString(), ec);
  if (ec) return Error("bad address " + address + ": " + ec.message());
  tcp::endpoint where(ip, ep->port());
  auto acc = std::make_unique<tcp::acceptor>(io_);
  acc->open(where.protocol(), ec);
  if (!ec) acc->set_option(tcp::acceptor::reuse_address(true), ec);  // restarts despite TIME_WAIT
  if (!ec && ip.is_v6()) acc->set_option(boost::asio::ip::v6_only(true), ec);
  if (!ec) acc->bind(where, ec);
  if (!ec) acc->listen(tcp::socket::max_listen_connections, ec);
  if (ec) return Error("cannot listen on " + address + ": " + ec.message(), ec.value());
  acceptor_ = std::move(acc);
  accept();
  return okStatus();
}

void HttpServer::accept() {
  acceptor_->async_accept([this, alive = std::weak_ptr<int>(alive_)](const boost::system::error_code& ec,
                                                                     tcp::socket sock) {
    if (alive.expired() || !acceptor_) return;
    if (ec) {
      if (ec == boost::asio::error::operation_aborted) return;
      metricsLog()->warn("metrics accept: {}", ec.message());
    } else {
      sessions_.remove_if([](const std::weak_ptr<Session>& w) { return w.expired(); });
      if (sessions_.size() >= kMaxConnections) {
        boost::system::error_code ignored;
        sock.close(ignored);  // bounded: a flood cannot pin memory or descriptors
      } else {
        auto s = std::make_shared<Session>(std::move(sock), *this, alive_);
        sessions_.push_back(s);
        s->start();
      }
    }
    accept();
  });
}

void HttpServer::close() {
  if (acceptor_) {
    boost::system::error_code ignored;
    acceptor_->close(ignored);
    acceptor_.reset();
  }
  for (auto& w : sessions_)
    if (auto s = w.lock()) s->abort();
  sessions_.clear();
  alive_ = std::make_shared<int>(0);  // outstanding handlers see the old token expire
}

std::string HttpServer::address() const {
  if (!acceptor_) return "";
  boost::system::error_code ec;
  auto ep = acceptor_->local_endpoint(ec);
  return ec ? "" : formatEndpoint(ep);
}

// ---------------------------------------------------------------------------
// The daemon's service

MetricsService::MetricsService(boost::asio::io_context& io, const std::string& version)
    : io_(io), families_(registry_) {
  families_.buildInfo.labels({version}).set(1);
}

Status MetricsService::apply(const config::Config& cfg) {
  std::string want = cfg.has_metrics() && cfg.metrics().has_listen() ? cfg.metrics().listen() : "";
  if (want == listen_ && (want.empty() || server_)) return okStatus();
  if (want.empty()) {
    stop();
    metricsLog()->info("metrics endpoint off");
    return okStatus();
  }
  auto next = std::make_unique<HttpServer>(io_, registry_, &families_.scrapes);
  auto s = next->listen(want);
  if (!s && server_ && s.error().code == EADDRINUSE) {
    // Moving between addresses that overlap (127.0.0.1:P -> 0.0.0.0:P):
    // free the port, and put the old endpoint back if the new one still fails.
    server_->close();
    s = next->listen(want);
    if (!s && !server_->listen(listen_)) server_.reset();
  }
  if (!s) return Error("metrics: " + s.error().message, s.error().code);
  if (server_) server_->close();
  server_ = std::move(next);
  listen_ = want;
  auto ep = Endpoint::parse(want);
  if (ep && !ep->address().isLoopback())
    metricsLog()->warn("metrics endpoint on non-loopback address {}: anyone who can reach it reads the "
                "cluster's state (no authentication)", want);
  metricsLog()->info("metrics endpoint http://{}/metrics", server_->address());
  return okStatus();
}

void MetricsService::stop() {
  if (server_) server_->close();
  server_.reset();
  listen_.clear();
}

}  // namespace lvsd::daemon::metrics
