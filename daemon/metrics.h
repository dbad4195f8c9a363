#pragma once
// Prometheus metrics: a registry of counter, gauge and histogram families
// with labels, rendered in the text exposition format 0.0.4, and a minimal
// HTTP/1.1 endpoint (GET /metrics) on the loop's io_context.
//
// Components register families through the registry, or use the catalogue
// of lvsd's standard families (LvsdMetrics, reachable from Context::metrics)
// so that every family exists — with HELP and TYPE — from the first scrape,
// whatever modules are running. Values may be updated from any thread
// (atomics); creating children and rendering take a per-family lock.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/result.h"
#include "proto/config.pb.h"

namespace lvsd::daemon::metrics {

// A monotonically increasing count.
class Counter {
 public:
  void inc(double by = 1);
  // Mirrors a total kept elsewhere (kernel IPVS statistics): the value must
  // not go down except when the source resets.
  void setTotal(double total);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Gauge {
 public:
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void inc(double by = 1);
  void dec(double by = 1) { inc(-by); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  explicit Histogram(const std::vector<double>& bounds);
  void observe(double v);
  // Mirrors a histogram kept elsewhere (a module's own buckets): cumulative
  // counts per bound (bounds().size() values), the total count and sum.
  // Returns false (and changes nothing) when the sizes do not match.
  bool setSnapshot(const std::vector<uint64_t>& cumulative, uint64_t count, double sum);
  // Cumulative counts per upper bound (the last is +Inf), sum and count.
  std::vector<uint64_t> cumulative() const;
  double sum() const { return sum_.load(std::memory_order_relaxed); }
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // bounds_.size() + 1 (+Inf)
  std::atomic<double> sum_{0};
  std::atomic<uint64_t> count_{0};
};

enum class Type { kCounter, kGauge, kHistogram };

// Base of the typed families: name, help, label names, rendering.
class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, std::vector<std::string> labels, Type type)
      : name_(std::move(name)), help_(std::move(help)), labels_(std::move(labels)), type_(type) {}
  virtual ~FamilyBase() = default;
  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& labelNames() const { return labels_; }
  Type type() const { return type_; }
  virtual void render(std::string& out) const = 0;
  // Number of label sets (children) currently exported.
  virtual size_t size() const = 0;

 protected:
  std::string name_, help_;
  std::vector<std::string> labels_;
  Type type_;
};

// A family's children keyed by label values. Children live as long as the
// family unless removed; references stay valid until then.
template <typename T>
class Family final : public FamilyBase {
 public:
  Family(std::string name, std::string help, std::vector<std::string> labels, Type type,
         std::vector<double> bounds)
      : FamilyBase(std::move(name), std::move(help), std::move(labels), type),
        bounds_(std::move(bounds)) {}

  // The child for these label values (in labelNames() order), created on
  // first use. A wrong number of values is a programming error: the child
  // returned then is detached (never rendered) and the mistake is logged.
  T& labels(const std::vector<std::string>& values);
  // Drops a child (a real server that left the config).
  void remove(const std::vector<std::string>& values);
  // Drops every child whose label `label` equals `value`.
  void removeMatching(const std::string& label, const std::string& value);
  void clear();
  size_t size() const override;
  void render(std::string& out) const override;

 private:
  std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<T>> children_;
  std::unique_ptr<T> detached_;
};

using CounterFamily = Family<Counter>;
using GaugeFamily = Family<Gauge>;
using HistogramFamily = Family<Histogram>;

// Default latency buckets in seconds.
std::vector<double> latencyBuckets();
// The buckets of lvsd_check_duration_seconds: healthcheck's
// LatencyHistogram::kBoundsSeconds, so the component can mirror it.
std::vector<double> checkLatencyBuckets();

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Registers (or returns the already registered, identical) family. A name
  // that is invalid, or already registered with another type, help, label
  // set or buckets, is an error. Families live as long as the registry.
  Result<CounterFamily*> counter(const std::string& name, const std::string& help,
                                 const std::vector<std::string>& labels = {});
  Result<GaugeFamily*> gauge(const std::string& name, const std::string& help,
                             const std::vector<std::string>& labels = {});
  Result<HistogramFamily*> histogram(const std::string& name, const std::string& help,
                                     const std::vector<std::string>& labels,
                                     std::vector<double> bounds = latencyBuckets());

  // Runs before each render (on the rendering thread): for values read on
  // demand, such as kernel IPVS statistics. Returns an id for removal.
  uint64_t addCollector(std::function<void()> collect);
  void removeCollector(uint64_t id);

  // Text exposition format 0.0.4: families in registration order, children
  // sorted by label values.
  std::string render() const;
  size_t families() const;

 private:
  template <typename T>
  Result<Family<T>*> add(const std::string& name, const std::string& help,
                         const std::vector<std::string>& labels, Type type,
                         std::vector<double> bounds);

  mutable std::mutex mu_;
  std::vector<std::unique_ptr<FamilyBase>> families_;
  std::map<uint64_t, std::function<void()>> collectors_;
  uint64_t nextCollector_ = 1;
};

// Name and value formatting of the exposition format (exposed for tests).
bool validMetricName(const std::string& name);
bool validLabelName(const std::string& name);
std::string formatValue(double v);
std::string escapeLabelValue(const std::string& v);
std::string escapeHelp(const std::string& v);

// lvsd's standard families (docs/operations.md lists them). Label values:
// lvs_instance = election instance name (not "instance", which Prometheus
// gives every target); service = the service's name (its key
// by default, e.g. "tcp/192.0.2.10:80"); real_server = "ip:port".
struct LvsdMetrics {
  explicit LvsdMetrics(Registry& r);
  Registry& registry;

  // daemon
  GaugeFamily& buildInfo;            // lvsd_build_info{version} 1
  GaugeFamily& startTime;            // lvsd_start_time_seconds
  GaugeFamily& configGeneration;     // lvsd_config_generation
  CounterFamily& reloads;            // lvsd_config_reloads_total{result}
  CounterFamily& scrapes;            // lvsd_metrics_scrapes_total
  // election (heartbeat component: transitions, status)
  GaugeFamily& instanceRole;         // lvsd_instance_role{lvs_instance,role} 1 for the current role
  GaugeFamily& instancePriority;     // lvsd_instance_priority{lvs_instance}
  CounterFamily& transitions;        // lvsd_instance_transitions_total{lvs_instance,from,to}
  // heartbeat (HeartbeatService::counters())
  CounterFamily& heartbeatsSent;     // lvsd_heartbeat_sent_total            "sent"
  CounterFamily& heartbeatsReceived; // lvsd_heartbeat_received_total        "received"
  CounterFamily& heartbeatSendErrors;  // lvsd_heartbeat_send_errors_total   "send_errors"
  CounterFamily& heartbeatDrops;     // lvsd_heartbeat_dropped_total{reason} "drop.REASON"
  CounterFamily& loopWakeups;        // lvsd_heartbeat_loop_wakeups_total    "loop.wakeups"
  CounterFamily& loopLate;           // lvsd_heartbeat_loop_late_wakeups_total{over} "loop.late_over_Nms"
  GaugeFamily& loopMaxLate;          // lvsd_heartbeat_loop_max_lateness_seconds "loop.max_late_us"
  // health checks (healthcheck Snapshot / ManagerCounters)
  CounterFamily& checkResults;       // lvsd_check_results_total{check,target,result}
  GaugeFamily& checkLastDuration;    // lvsd_check_last_duration_seconds{check,target}
  HistogramFamily& checkDuration;    // lvsd_check_duration_seconds (all checks; healthcheck's buckets)
  GaugeFamily& realServerUp;         // lvsd_real_server_up{service,real_server}
  GaugeFamily& realServerWeight;     // lvsd_real_server_weight{service,real_server}
  // IPVS programming (Reconciler::counters())
  CounterFamily& ipvsApplies;        // lvsd_ipvs_applies_total
  CounterFamily& ipvsOps;            // lvsd_ipvs_operations_total
  CounterFamily& ipvsErrors;         // lvsd_ipvs_operation_errors_total
  // sync (SyncStatus)
  GaugeFamily& syncPeerUp;           // lvsd_sync_peer_up{peer}
  CounterFamily& syncPeerConnects;   // lvsd_sync_peer_connects_total{peer}
  CounterFamily& syncChannelErrors;  // lvsd_sync_channel_errors_total{reason}
  CounterFamily& syncDaemonSwitches; // lvsd_sync_daemon_switches_total
  CounterFamily& resyncs;            // lvsd_sync_resyncs_total
  GaugeFamily& resyncLastEntries;    // lvsd_sync_resync_last_entries
  GaugeFamily& resyncLastDuration;   // lvsd_sync_resync_last_duration_seconds
  // kernel IPVS statistics (ipvs::Stats of services and destinations)
  CounterFamily& serviceConnections;  // lvsd_ipvs_service_connections_total{service}
  CounterFamily& servicePackets;      // lvsd_ipvs_service_packets_total{service,direction}
  CounterFamily& serviceBytes;        // lvsd_ipvs_service_bytes_total{service,direction}
  GaugeFamily& serviceCps;            // lvsd_ipvs_service_connections_per_second{service}
  GaugeFamily& servicePps;            // lvsd_ipvs_service_packets_per_second{service,direction}
  GaugeFamily& serviceBps;            // lvsd_ipvs_service_bytes_per_second{service,direction}
  GaugeFamily& destActive;            // lvsd_ipvs_destination_active_connections{service,real_server}
  GaugeFamily& destInactive;          // lvsd_ipvs_destination_inactive_connections{service,real_server}
  CounterFamily& destConnections;     // lvsd_ipvs_destination_connections_total{service,real_server}
  CounterFamily& destBytes;           // lvsd_ipvs_destination_bytes_total{service,real_server,direction}
  GaugeFamily& destCps;               // lvsd_ipvs_destination_connections_per_second{service,real_server}
  GaugeFamily& destBps;               // lvsd_ipvs_destination_bytes_per_second{service,real_server,direction}
};

// The HTTP endpoint. Answers GET/HEAD /metrics with the registry's text;
// 404 for other paths, 405 for other methods, 400 for malformed requests,
// 431 for request heads over 8 KiB. One request per connection
// ("Connection: close"); at most kMaxConnections at once; a client has
// kRequestTimeout to send its request.
class HttpServer {
 public:
  static constexpr size_t kMaxConnections = 16;
  static constexpr size_t kMaxRequestHead = 8192;
  static constexpr std::chrono::milliseconds kRequestTimeout{5000};

  HttpServer(boost::asio::io_context& io, Registry& registry, CounterFamily* scrapes = nullptr);
  ~HttpServer();

  // Binds "ip:port" (port 0 = any, for tests); replaces nothing.
  Status listen(const std::string& address);
  void close();
  bool listening() const { return acceptor_ != nullptr; }
  // The bound address ("127.0.0.1:9465"), empty when closed.
  std::string address() const;
  uint64_t served() const { return served_; }

 private:
  class Session;
  void accept();

  boost::asio::io_context& io_;
  Registry& registry_;
  CounterFamily* scrapes_;
  std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
  std::list<std::weak_ptr<Session>> sessions_;
  uint64_t served_ = 0;
  // Replaced on close(): handlers queued before it find theirs expired.
  std::shared_ptr<int> alive_;
};

// What the daemon holds: the registry, the standard families and the
// endpoint, started, moved or stopped as config.metrics.listen says.
class MetricsService {
 public:
  MetricsService(boost::asio::io_context& io, const std::string& version);

  Registry& registry() { return registry_; }
  LvsdMetrics& families() { return families_; }

  // Applies config.metrics: unset = off; a new address binds first and only
  // then replaces the old endpoint, so a failed move keeps metrics served.
  Status apply(const config::Config& cfg);
  void stop();
  std::string address() const { return server_ ? server_->address() : ""; }

 private:
  boost::asio::io_context& io_;
  Registry registry_;
  LvsdMetrics families_;
  std::unique_ptr<HttpServer> server_;
  std::string listen_;  // as configured
};

}  // namespace lvsd::daemon::metrics
