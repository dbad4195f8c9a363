#pragma once
// A fast, deterministic simulator of the paper's experiment, for policy
// development (bench/feedback-sim). Pure: simulated time only.
//
// Model (docs/dynamic-weights.md, "The simulator"):
//   - Requests arrive as a Poisson stream; a fraction are expensive (a CGI
//     that forks a child holding cgiKb for its whole run), the rest cheap
//     (a small static file).
//   - Each real server runs a preforked httpd: a pool of processes, each
//     holding httpdKb, that grows when every process is busy and shrinks by
//     one per second while more than maxSpare are idle (Apache's behaviour,
//     and the paper's "idle processes waiting out their timeout hold memory").
//   - CPU is processor-shared: a server runs its active requests at
//     speed × min(1, cpus / demand). Memory beyond the server's RAM swaps:
//     swap-out is reported, the server slows down and its CGIs block (`b`).
//   - The director is IPVS wlc: each new connection goes to the server with
//     the least (active × 256 + inactive) / weight; weight 0 gets nothing.
//     A finished connection stays inactive for inactiveTimeout (the paper's
//     Table 1: 30–100 active vs 1,900–1,970 inactive per server).
//   - Agents sample every sampleInterval; the director takes the mean of the
//     last (samples − 1) samples every pollInterval, runs the policy and sets
//     the weights (the paper: 5 s, 5 samples, 60 s).
// Every policy sees the same arrival stream (common random numbers).

#include <cstdint>
#include <string>
#include <vector>

#include "feedback/policy.h"

namespace lvsd::feedback::sim {

struct ServerModel {
  double totalKb = 262144;   // RAM
  double baseUsedKb = 102400;  // kernel, daemons, page tables
  double speed = 1.0;        // relative CPU/disk speed
  double cpus = 1;
};

struct Workload {
  double arrivalsPerS = 133;   // ~4,000 requests per 30 s
  double expensiveShare = 0.075;  // 3 CGI items in a 40-item agenda
  double cheapWorkS = 0.002;   // core-seconds at speed 1
  double expensiveWorkS = 0.08;
  double expensiveCpuShare = 0.5;  // a CGI waits on its files half the time
  double cgiKb = 1700;          // the perl child
  double httpdKb = 3000;        // one httpd process
  double inactiveTimeoutS = 30;
  uint32_t startServers = 10;   // Apache prefork defaults
  uint32_t minSpare = 5;
  uint32_t maxSpare = 10;
};

struct RunSpec {
  std::vector<ServerModel> servers;
  Workload load;
  config::Feedback::Policy policy = config::Feedback::NONE;  // NONE = plain wlc
  PolicyParams params;
  double durationS = 900;  // the paper: 15 minutes
  double stepS = 0.01;
  double sampleIntervalS = 5;
  uint32_t samples = 5;  // first dropped
  double pollIntervalS = 60;
  double recordIntervalS = 5;  // how often available memory is recorded
  uint64_t seed = 1;
};

struct ServerResult {
  double meanAvailableKb = 0;
  double minAvailableKb = 0;
  uint64_t connections = 0;
  uint64_t expensive = 0;
  double meanActive = 0;
  double meanInactive = 0;
  double swappedOutKb = 0;
};

struct RunResult {
  std::vector<ServerResult> servers;
  // Mean over records of (max − min) available memory across servers.
  double meanRangeKb = 0;
  // Max − min of the servers' mean available memory (Table 2's "1 − 2" for
  // two servers, as a magnitude).
  double spreadOfMeansKb = 0;
  uint64_t arrivals = 0;
  uint64_t completed = 0;
  uint64_t dropped = 0;      // no server with weight > 0
  uint64_t weightEdits = 0;  // weight changes applied (ipvsadm -e)
  // How often the sign of (w_0 − w_1) flipped: the paper's "wave".
  uint64_t weightFlips = 0;
  // (poll, server) pairs that left a server at weight 0 (a stall, paper policies).
  uint64_t zeroWeights = 0;
  double meanExpensiveLatencyS = 0;
};

RunResult run(const RunSpec& spec);

// IPVS wlc (ip_vs_wlc.c): the server with the least (active × 256 +
// inactive) / weight; ties go to the first; weight 0 never. -1 = none.
int wlcPick(const std::vector<uint64_t>& active, const std::vector<uint64_t>& inactive,
            const std::vector<uint32_t>& weights);

// Deterministic generator (splitmix64) so results do not depend on the
// standard library's distributions.
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t next();
  double uniform();                  // [0, 1)
  double exponential(double rate);   // mean 1 / rate
 private:
  uint64_t s_;
};

}  // namespace lvsd::feedback::sim
