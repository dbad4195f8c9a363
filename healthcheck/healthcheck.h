#pragma once
// healthcheck/: health checks that add, remove, drain and re-weight real
// servers. The only public header of the module.
//
// A CheckManager owns every check of one config. Checks are shared: one
// check runs per (probe target, check definition) however many virtual
// services hold the real server. Check results feed per-service pool logic
// (on_down remove/inhibit, dynamic weights, drain with deadline, sorry
// server, quorum with hysteresis) whose output is a plain "desired
// destination set + weights" per virtual service; daemon/ turns it into the
// desired IPVS state. Everything runs on one Asio io_context.

#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/address.h"
#include "core/clock.h"
#include "core/result.h"
#include "proto/config.pb.h"

namespace lvsd::healthcheck {

// One destination lvsd wants in a virtual service.
struct Destination {
  Endpoint address;
  uint32_t weight = 0;
  // Index into VirtualService.real_server of the config the pool was built
  // from (forwarding, tunnel and thresholds live there); -1 = the sorry server.
  int realServer = -1;
  bool operator==(const Destination&) const = default;
};

// The desired pool of one virtual service.
struct ServicePool {
  std::string service;  // VirtualService.name, else its key
  std::string key;      // config::serviceKey()
  int index = -1;       // index into Config.virtual_service
  std::vector<Destination> destinations;  // in config order, sorry server last
  bool sorryActive = false;
  bool quorum = false;    // up weight >= quorum (with hysteresis)
  uint64_t upWeight = 0;  // sum of weights of servers that are up and not draining
  bool operator==(const ServicePool&) const = default;
};

// Supplies active-connection counts (from IPVS stats) for draining servers.
class ConnectionCounter {
 public:
  virtual ~ConnectionCounter() = default;
  // nullopt when unknown (e.g. not yet in the kernel table).
  virtual std::optional<uint64_t> activeConnections(const std::string& serviceKey,
                                                    const Endpoint& realServer) = 0;
};

// Per-check counters and latencies (Prometheus-style totals).
struct CheckStats {
  uint64_t attempts = 0;
  uint64_t successes = 0;
  uint64_t failures = 0;
  uint64_t timeouts = 0;
  uint64_t transitions = 0;
  Duration lastLatency{0};
  Duration latencySum{0};  // over successful and failed attempts that completed
  uint64_t latencyCount = 0;
};

struct CheckStatus {
  std::string name;    // check name, or the probe kind for unnamed inline checks
  std::string kind;    // tcp http https udp dns ping exec file
  Endpoint target;
  bool up = false;
  std::optional<uint32_t> weight;  // dynamic weight from the last result
  bool drain = false;              // file probe said "drain"
  std::string lastReason;
  uint32_t users = 0;  // (service, real server) pairs sharing this check
  CheckStats stats;
};

struct RealServerStatus {
  Endpoint address;
  std::string state;  // ACTIVE DOWN DRAINING DRAINED
  bool up = false;
  uint32_t configuredWeight = 0;
  std::optional<uint32_t> weight;  // in the pool with this weight; nullopt = absent
  bool adminDrain = false;
  std::optional<uint32_t> adminWeight;
  std::string lastCheck;  // "http: status 503"
};

struct ServiceStatus {
  std::string service;
  std::string key;
  bool quorum = false;
  bool sorryActive = false;
  uint64_t upWeight = 0;
  std::vector<RealServerStatus> realServers;
};

struct Snapshot {
  std::vector<CheckStatus> checks;
  std::vector<ServiceStatus> services;
};

// Latency histogram over all attempts (Prometheus buckets, cumulative counts).
struct LatencyHistogram {
  static constexpr double kBoundsSeconds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                              0.1,   0.25,   0.5,   1,    2.5,   5};
  uint64_t buckets[std::size(kBoundsSeconds)] = {};  // count <= bound
  uint64_t count = 0;
  double sumSeconds = 0;
};

struct ManagerCounters {
  uint64_t checks = 0;           // running checks
  uint64_t attempts = 0;
  uint64_t failures = 0;
  uint64_t timeouts = 0;
  uint64_t checkTransitions = 0;   // check UP <-> DOWN
  uint64_t serverTransitions = 0;  // pool state changes of (service, real server)
  uint64_t poolUpdates = 0;        // ServicePool emissions
  uint64_t quorumChanges = 0;
  LatencyHistogram latency;
};

// A real server that lvsd found in the kernel's IPVS table at start as it
// would program it while the server is up (daemon/ compares; a predecessor
// left the table in place). Its checks start UP (then the ordinary rules
// apply), so a restart plans no IPVS operations.
struct AdoptedServer {
  std::string serviceKey;  // config::serviceKey()
  Endpoint realServer;
  auto operator<=>(const AdoptedServer&) const = default;
};

struct Callbacks {
  // A service's desired pool changed (also called once per service after
  // start() and after every reload that changed it).
  std::function<void(const ServicePool&)> onPool;
  // A service's quorum was lost (false) or regained (true); feeds the
  // heartbeat QuorumTracker.
  std::function<void(const std::string& service, bool held)> onQuorum;
};

struct Options {
  ConnectionCounter* connections = nullptr;  // optional; without it drains end at the deadline
  // How often active connections of draining servers are polled.
  Duration drainPoll = std::chrono::seconds(1);
  // Seed for interval jitter and probe ids (0 = from std::random_device).
  uint64_t seed = 0;
};

class CheckManager {
 public:
  CheckManager(boost::asio::io_context& io, const Clock& clock, Callbacks callbacks,
               Options options = {});
  ~CheckManager();
  CheckManager(const CheckManager&) = delete;
  CheckManager& operator=(const CheckManager&) = delete;

  // Builds checks and pools for `config` and starts them. Call once.
  // A check starts UP (see CheckerCore::start) when any
  // (service, real server) it serves is in `adopted`; the others start
  // from their `initial` state.
  Status start(const config::Config& config, const std::vector<AdoptedServer>& adopted = {});
  // Applies a new config: unchanged checks keep their state and timers,
  // changed or new ones start from their initial state, removed ones stop.
  // Operator overrides (drain, weight) survive for servers still present.
  // Either applies fully or returns an error and changes nothing.
  Status reload(const config::Config& config);
  void stop();

  // lvsctl drain|undrain|weight. `service` is a name or key; empty = every
  // service holding the real server. Error when nothing matches.
  Status drain(const std::string& service, const Endpoint& realServer);
  Status undrain(const std::string& service, const Endpoint& realServer);
  // nullopt clears the override.
  Status setWeight(const std::string& service, const Endpoint& realServer,
                   std::optional<uint32_t> weight);

  std::vector<ServicePool> pools() const;
  Snapshot snapshot() const;
  ManagerCounters counters() const;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace lvsd::healthcheck
