#include "healthcheck/pool.h"

#include "config/config.h"

namespace lvsd::healthcheck {

const char* serverStateName(ServerState s) {
  switch (s) {
    case ServerState::kActive: return "ACTIVE";
    case ServerState::kDown: return "DOWN";
    case ServerState::kDraining: return "DRAINING";
    case ServerState::kDrained: return "DRAINED";
  }
  return "?";
}

Result<PoolSpec> PoolSpec::fromProto(const config::VirtualService& vs, int index) {
  PoolSpec s;
  s.key = config::serviceKey(vs);
  s.service = vs.name().empty() ? s.key : vs.name();
  s.index = index;
  for (int i = 0; i < vs.real_server_size(); ++i) {
    const auto& rs = vs.real_server(i);
    auto ep = Endpoint::parse(rs.address(), /*allowNoPort=*/true);
    if (!ep) return Error(ep.error().message).context("real_server[" + std::to_string(i) + "]");
    s.realServers.push_back({*ep, rs.weight()});
  }
  s.inhibitOnDown = vs.on_down() == config::VirtualService::INHIBIT;
  if (vs.has_sorry_server()) {
    auto ep = Endpoint::parse(vs.sorry_server().address(), /*allowNoPort=*/true);
    if (!ep) return Error(ep.error().message).context("sorry_server");
    s.sorry = *ep;
    s.sorryWeight = vs.sorry_server().weight();
  }
  if (vs.has_quorum()) {
    s.quorumMin = vs.quorum().min_weight();
    s.quorumHysteresis = vs.quorum().hysteresis();
  }
  s.drainTimeout = seconds(vs.drain_timeout_s());
  return s;
}

PoolLogic::PoolLogic(PoolSpec spec) : spec_(std::move(spec)), servers_(spec_.realServers.size()) {
  last_.service = spec_.service;
  last_.key = spec_.key;
  last_.index = spec_.index;
}

void PoolLogic::setCheckOutput(size_t rs, CheckOutput out) { servers_.at(rs).check = std::move(out); }
void PoolLogic::setAdmin(size_t rs, AdminOverride admin) { servers_.at(rs).admin = admin; }

PoolLogic::DrainProgress PoolLogic::drainProgress(size_t rs) const {
  return {servers_.at(rs).drainSince, servers_.at(rs).drainDone};
}

void PoolLogic::restoreDrainProgress(size_t rs, DrainProgress p) {
  servers_.at(rs).drainSince = p.since;
  servers_.at(rs).drainDone = p.done;
}

void PoolLogic::restoreServerState(size_t rs, ServerState s) {
  servers_.at(rs).state = s;
  servers_.at(rs).evaluated = true;
}

void PoolLogic::restoreLast(const ServicePool& pool) {
  last_ = pool;
  evaluatedOnce_ = true;
}

PoolLogic::Eval PoolLogic::evaluate(TimePoint now, const ConnectionsFn& connections) {
  Eval e;
  ServicePool pool;
  pool.service = spec_.service;
  pool.key = spec_.key;
  pool.index = spec_.index;

  for (size_t i = 0; i < servers_.size(); ++i) {
    Server& s = servers_[i];
    const RealServerSpec& rs = spec_.realServers[i];
    const bool drainWanted = s.admin.drain || s.check.drain;
    std::string drainReason;
    bool drainStarts = false;
    if (!drainWanted) {
      s.drainSince.reset();
      s.drainDone = false;
    } else if (!s.drainSince) {
      s.drainSince = now;
      drainStarts = true;
    }

    ServerState next;
    std::string reason;
    if (s.check.health == Health::kDown) {
      next = ServerState::kDown;
      reason = s.check.reason.empty() ? "check down" : s.check.reason;
    } else if (drainWanted) {
      // A drain starts as DRAINING: its weight 0 must reach the kernel before
      // a connection count can say it is done (a count read earlier may
      // predate the connection being drained).
      if (!s.drainDone && !drainStarts) {
        std::optional<uint64_t> active = connections ? connections(i) : std::nullopt;
        if (active && *active == 0) {
          s.drainDone = true;
          drainReason = "no active connections";
        } else if (now >= *s.drainSince + spec_.drainTimeout) {
          s.drainDone = true;
          drainReason = "drain timeout " + std::to_string(toMillis(spec_.drainTimeout) / 1000) +
                        "s" + (active ? " with " + std::to_string(*active) + " active" : "");
        }
      }
      next = s.drainDone ? ServerState::kDrained : ServerState::kDraining;
      reason = s.drainDone ? drainReason
                           : (s.admin.drain ? "operator drain" : "drain requested by check");
      if (s.drainDone && drainReason.empty()) reason = "drained";
    } else {
      next = ServerState::kActive;
      reason = s.check.reason.empty() ? "check up" : s.check.reason;
      if (s.state == ServerState::kDraining || s.state == ServerState::kDrained)
        reason = "undrain";
    }

    if (!s.evaluated || next != s.state) {
      if (s.evaluated || next != ServerState::kDown)
        e.transitions.push_back({i, s.evaluated ? s.state : ServerState::kDown, next, reason});
      s.state = next;
      s.evaluated = true;
    }

    switch (s.state) {
      case ServerState::kActive: {
        uint32_t w = s.admin.weight ? *s.admin.weight
                     : s.check.weight ? *s.check.weight
                                      : rs.weight;
        pool.destinations.push_back({rs.address, w, static_cast<int>(i)});
        pool.upWeight += w;
        break;
      }
      case ServerState::kDraining:
        pool.destinations.push_back({rs.address, 0, static_cast<int>(i)});
        e.draining = true;
        if (!e.nextDeadline || *s.drainSince + spec_.drainTimeout < *e.nextDeadline)
          e.nextDeadline = *s.drainSince + spec_.drainTimeout;
        break;
      case ServerState::kDown:
        if (spec_.inhibitOnDown) pool.destinations.push_back({rs.address, 0, static_cast<int>(i)});
        break;
      case ServerState::kDrained:
        break;
    }
  }

  if (pool.upWeight == 0 && spec_.sorry) {
    pool.destinations.push_back({*spec_.sorry, spec_.sorryWeight, -1});
    pool.sorryActive = true;
  }

  bool held;
  if (!quorum_) {
    held = pool.upWeight >= spec_.quorumMin;
  } else if (*quorum_) {
    held = pool.upWeight >= spec_.quorumMin;
  } else {
    held = pool.upWeight >= spec_.quorumMin + spec_.quorumHysteresis;
  }
  if (!quorum_ || *quorum_ != held) e.quorumChange = held;
  quorum_ = held;
  pool.quorum = held;

  e.changed = !evaluatedOnce_ || !(pool == last_);
  evaluatedOnce_ = true;
  last_ = std::move(pool);
  e.pool = last_;
  return e;
}

}  // namespace lvsd::healthcheck
