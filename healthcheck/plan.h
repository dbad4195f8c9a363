#pragma once
// Pure: turns a Config into the checks to run and the pools they feed.
// One check per (probe target, check definition): a real server in many
// virtual services, or several servers sharing a probe target, share one
// check. The definition is compared in canonical form (defaults explicit,
// name ignored), so a check that did not change keeps its key across a
// reload and with it its state.

#include <string>
#include <string_view>
#include <vector>

#include "core/address.h"
#include "core/result.h"
#include "healthcheck/pool.h"
#include "proto/config.pb.h"

namespace lvsd::healthcheck {

struct CheckSpec {
  std::string key;    // target + canonical definition; equal keys = one check
  config::Check def;  // canonical: every defaulted field explicit
  std::string name;   // for logs: the check's name, else its kind
  std::string kind;   // tcp http https udp dns ping exec file
  Endpoint target;    // unspecified for file probes (the file is the target)
};

struct PoolPlan {
  PoolSpec spec;
  // For each real server, indices into Plan::checks; empty = no checks
  // (always up).
  std::vector<std::vector<size_t>> checks;
};

struct Plan {
  std::vector<CheckSpec> checks;
  std::vector<PoolPlan> pools;
};

Result<Plan> buildPlan(const config::Config& config);

// For each of plan.checks: whether it starts UP because a (service key,
// real server) it serves is adopted from the kernel's table. A check shared
// by several servers or services starts UP when any of them is adopted: the
// previous lvsd kept that server in, so this same check was up.
std::vector<bool> adoptedChecks(const Plan& plan, const std::vector<AdoptedServer>& adopted);

// Check.target against the real server: "ip:port", "[v6]:port", "ip",
// "[v6]", a bare IPv6 address, ":port" or "ip:" (the missing part is the
// real server's); empty = the real server itself.
Result<Endpoint> resolveTarget(std::string_view target, const Endpoint& realServer);

const char* probeKind(const config::Check& check);

// A copy with every unset field that has a default set explicitly (recursively
// into set sub-messages), name and target cleared.
config::Check canonicalCheck(const config::Check& check);

}  // namespace lvsd::healthcheck
