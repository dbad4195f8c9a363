#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <map>
#include <unordered_map>

#include "core/log.h"
#include "healthcheck/healthcheck.h"
#include "healthcheck/plan.h"
#include "healthcheck/pool.h"
#include "healthcheck/probe.h"
#include "healthcheck/runner.h"

namespace lvsd::healthcheck {

namespace {

struct User {
  size_t pool;
  size_t rs;
};

struct CheckEntry {
  CheckSpec spec;
  std::shared_ptr<CheckRunner> runner;
  std::vector<User> users;
  CheckStats latency;  // latency part of the stats (the core counts the rest)
};

struct PoolEntry {
  std::vector<std::vector<std::shared_ptr<CheckEntry>>> checks;  // per real server
  std::unique_ptr<PoolLogic> logic;
  bool dirty = true;
  bool needsPoll = false;  // draining: poll connections until done
};

std::string rsKey(const std::string& serviceKey, const Endpoint& ep) {
  return serviceKey + "|" + ep.toString();
}

}  // namespace

class CheckManager::Impl {
 public:
  Impl(boost::asio::io_context& io, const Clock& clock, Callbacks cb, Options opt)
      : io_(io), clock_(clock), cb_(std::move(cb)), opt_(opt), rng_(opt.seed),
        env_{io, rng_, tls_}, drainTimer_(io) {}

  ~Impl() { stop(); }

  Status apply(const config::Config& config, bool initial,
               const std::vector<AdoptedServer>& adopted = {}) {
    auto plan = buildPlan(config);
    if (!plan) return std::move(plan).takeError();
    // Only a start adopts: on a reload lvsd's own checks know better.
    const std::vector<bool> adoptedUp =
        initial ? adoptedChecks(*plan, adopted) : std::vector<bool>(plan->checks.size(), false);

    // Build everything new first; only then swap (all or nothing).
    std::unordered_map<std::string, std::shared_ptr<CheckEntry>> checks;
    std::vector<std::pair<std::shared_ptr<CheckEntry>, bool>> fresh;  // with adoptedUp
    std::vector<std::shared_ptr<CheckEntry>> byIndex;
    for (size_t id = 0; id < plan->checks.size(); ++id) {
      auto& spec = plan->checks[id];
      auto it = checks_.find(spec.key);
      std::shared_ptr<CheckEntry> e;
      if (it != checks_.end()) {
        e = it->second;
        e->spec.name = spec.name;  // names are not part of the key
      } else {
        auto probe = makeProbe(spec, env_);
        if (!probe) return std::move(probe).takeError().context("check " + spec.name + " " + spec.target.toString());
        e = std::make_shared<CheckEntry>();
        e->spec = spec;
        // The runner never outlives its entry (stopped before the entry goes).
        CheckEntry* raw = e.get();
        e->runner = std::make_shared<CheckRunner>(
            io_, clock_, rng_, spec, std::move(*probe),
            [this, raw](CheckRunner&, const ProbeResult& res, const CheckerCore::Step& step) {
              onAttempt(*raw, res, step);
            });
        fresh.emplace_back(e, adoptedUp[id]);
      }
      e->users.clear();
      checks.emplace(spec.key, e);
      byIndex.push_back(e);
    }

    std::vector<PoolEntry> pools;
    for (size_t p = 0; p < plan->pools.size(); ++p) {
      auto& pp = plan->pools[p];
      PoolEntry pe;
      pe.logic = std::make_unique<PoolLogic>(pp.spec);
      for (size_t r = 0; r < pp.checks.size(); ++r) {
        std::vector<std::shared_ptr<CheckEntry>> list;
        for (size_t id : pp.checks[r]) {
          list.push_back(byIndex[id]);
          byIndex[id]->users.push_back({p, r});
        }
        pe.checks.push_back(std::move(list));
      }
      pools.push_back(std::move(pe));
    }

    // Carry operator overrides, drain progress and quorum by (service key,
    // real server address).
    std::unordered_map<std::string, std::pair<const PoolLogic*, size_t>> oldServers;
    std::unordered_map<std::string, const PoolLogic*> oldPools;
    for (const auto& pe : pools_) {
      oldPools[pe.logic->spec().key] = pe.logic.get();
      for (size_t r = 0; r < pe.logic->size(); ++r)
        oldServers[rsKey(pe.logic->spec().key, pe.logic->spec().realServers[r].address)] = {
            pe.logic.get(), r};
    }
    for (auto& pe : pools) {
      const auto& spec = pe.logic->spec();
      for (size_t r = 0; r < pe.logic->size(); ++r) {
        auto it = oldServers.find(rsKey(spec.key, spec.realServers[r].address));
        if (it == oldServers.end()) continue;
        auto [old, idx] = it->second;
        pe.logic->setAdmin(r, old->admin(idx));
        pe.logic->restoreDrainProgress(r, old->drainProgress(idx));
        pe.logic->restoreServerState(r, old->state(idx));
      }
      if (auto it = oldPools.find(spec.key); it != oldPools.end()) {
        pe.logic->restoreQuorum(it->second->current().quorum);
        pe.logic->restoreLast(it->second->current());
      }
    }

    // Swap in.
    for (auto& [key, e] : checks_)
      if (!checks.count(key)) e->runner->stop();
    checks_ = std::move(checks);
    pools_ = std::move(pools);
    // Start the new checks first (start() only arms timers): an adopted
    // check is UP from here on, so the first pool already has its servers.
    size_t adoptedCount = 0;
    for (auto& [e, up] : fresh) {
      e->runner->start(up);
      adoptedCount += up;
    }
    for (size_t p = 0; p < pools_.size(); ++p)
      for (size_t r = 0; r < pools_[p].logic->size(); ++r) refreshServer(p, r);
    logger("healthcheck")->info("{}: {} checks ({} new, {} adopted UP from the kernel table), {} services",
                                initial ? "start" : "reload", checks_.size(), fresh.size(),
                                adoptedCount, pools_.size());
    flush();
    return okStatus();
  }

  void stop() {
    for (auto& [key, e] : checks_) e->runner->stop();
    drainTimer_.cancel();
    stopped_ = true;
  }

  // Combines the outputs of a real server's checks: up when all are up;
  // the lowest dynamic weight; drain when any asks for it.
  CheckOutput combine(size_t p, size_t r) const {
    CheckOutput out;
    out.health = Health::kUp;
    std::string upReason;
    for (const auto& e : pools_[p].checks[r]) {
      const auto& core = e->runner->core();
      if (core.health() == Health::kDown) {
        if (out.health == Health::kUp) out.reason = e->spec.name + ": " + core.lastReason();
        out.health = Health::kDown;
        continue;
      }
      if (core.weight()) out.weight = out.weight ? std::min(*out.weight, *core.weight()) : *core.weight();
      out.drain = out.drain || core.drain();
      if (upReason.empty()) upReason = e->spec.name + ": " + core.lastReason();
    }
    if (out.health == Health::kUp) {
      out.reason = pools_[p].checks[r].empty() ? "no checks" : upReason;
    } else {
      out.weight.reset();
      out.drain = false;
    }
    return out;
  }

  void refreshServer(size_t p, size_t r) {
    pools_[p].logic->setCheckOutput(r, combine(p, r));
    markDirty(p);
  }

  void markDirty(size_t p) {
    pools_[p].dirty = true;
    if (flushPosted_) return;
    flushPosted_ = true;
    // Coalesce: many checks changing in one loop turn cost one evaluation.
    boost::asio::post(io_, [this, alive = std::weak_ptr<bool>(alive_)] {
      if (alive.expired()) return;
      flushPosted_ = false;
      flush();
    });
  }

  void onAttempt(CheckEntry& entry, const ProbeResult& res, const CheckerCore::Step& step) {
    ++counters_.attempts;
    if (!res.up) ++counters_.failures;
    if (res.timedOut) ++counters_.timeouts;
    double secs = std::chrono::duration<double>(res.latency).count();
    auto& h = counters_.latency;
    for (size_t i = 0; i < std::size(LatencyHistogram::kBoundsSeconds); ++i)
      if (secs <= LatencyHistogram::kBoundsSeconds[i]) ++h.buckets[i];
    ++h.count;
    h.sumSeconds += secs;
    auto& st = entry.latency;
    st.latencySum += res.latency;
    ++st.latencyCount;
    st.lastLatency = res.latency;
    if (step.transition) ++counters_.checkTransitions;
    if (!step.outputChanged) return;
    for (const auto& u : entry.users) refreshServer(u.pool, u.rs);
  }

  void flush() {
    if (stopped_) return;
    TimePoint now = clock_.now();
    std::optional<TimePoint> wake;
    bool draining = false;
    for (auto& pe : pools_) {
      if (!pe.dirty && !pe.needsPoll) continue;
      pe.dirty = false;
      const auto& spec = pe.logic->spec();
      auto e = pe.logic->evaluate(now, [&](size_t rs) -> std::optional<uint64_t> {
        if (!opt_.connections) return std::nullopt;
        return opt_.connections->activeConnections(spec.key, spec.realServers[rs].address);
      });
      for (const auto& t : e.transitions) {
        ++counters_.serverTransitions;
        logger("healthcheck")->info("service={} rs={} {} -> {} reason={}", spec.service,
                                    spec.realServers[t.realServer].address.toString(),
                                    serverStateName(t.from), serverStateName(t.to), t.reason);
      }
      if (e.quorumChange) {
        ++counters_.quorumChanges;
        logger("healthcheck")->info("service={} quorum {} up_weight={} min={} hysteresis={}",
                                    spec.service, *e.quorumChange ? "REGAINED" : "LOST",
                                    e.pool.upWeight, spec.quorumMin, spec.quorumHysteresis);
        if (cb_.onQuorum) cb_.onQuorum(spec.service, *e.quorumChange);
      }
      if (e.changed) {
        ++counters_.poolUpdates;
        if (cb_.onPool) cb_.onPool(e.pool);
      }
      pe.needsPoll = e.draining;
      if (e.draining) {
        draining = true;
        if (e.nextDeadline && (!wake || *e.nextDeadline < *wake)) wake = e.nextDeadline;
      }
    }
    if (draining) {
      TimePoint poll = now + opt_.drainPoll;
      if (!wake || poll < *wake) wake = poll;
      drainTimer_.expires_at(*wake);
      drainTimer_.async_wait([this, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& ec) {
        if (ec || alive.expired()) return;
        flush();
      });
    } else {
      drainTimer_.cancel();
    }
  }

  // --- operator overrides ---------------------------------------------------
  template <typename F>
  Status forEachMatch(const std::string& service, const Endpoint& rs, F&& f) {
    int matches = 0;
    for (size_t p = 0; p < pools_.size(); ++p) {
      const auto& spec = pools_[p].logic->spec();
      if (!service.empty() && service != spec.service && service != spec.key) continue;
      for (size_t r = 0; r < spec.realServers.size(); ++r) {
        if (spec.realServers[r].address != rs) continue;
        AdminOverride a = pools_[p].logic->admin(r);
        f(a);
        pools_[p].logic->setAdmin(r, a);
        markDirty(p);
        ++matches;
      }
    }
    if (matches == 0)
      return Error("no real server " + rs.toString() +
                   (service.empty() ? std::string(" in any service") : " in service '" + service + "'"));
    return okStatus();
  }

  std::vector<ServicePool> pools() const {
    std::vector<ServicePool> out;
    for (const auto& pe : pools_) out.push_back(pe.logic->current());
    return out;
  }

  Snapshot snapshot() const {
    Snapshot s;
    std::vector<const CheckEntry*> sorted;
    for (const auto& [k, e] : checks_) sorted.push_back(e.get());
    std::sort(sorted.begin(), sorted.end(), [](const CheckEntry* a, const CheckEntry* b) {
      return std::tie(a->spec.target, a->spec.name, a->spec.key) <
             std::tie(b->spec.target, b->spec.name, b->spec.key);
    });
    for (const CheckEntry* e : sorted) {
      const auto& core = e->runner->core();
      CheckStatus c;
      c.name = e->spec.name;
      c.kind = e->spec.kind;
      c.target = e->spec.target;
      c.up = core.health() == Health::kUp;
      c.weight = core.weight();
      c.drain = core.drain();
      c.lastReason = core.lastReason();
      c.users = static_cast<uint32_t>(e->users.size());
      const auto& k = core.counters();
      c.stats.attempts = k.attempts;
      c.stats.successes = k.successes;
      c.stats.failures = k.failures;
      c.stats.timeouts = k.timeouts;
      c.stats.transitions = k.transitions;
      c.stats.lastLatency = e->latency.lastLatency;
      c.stats.latencySum = e->latency.latencySum;
      c.stats.latencyCount = e->latency.latencyCount;
      s.checks.push_back(std::move(c));
    }
    for (const auto& pe : pools_) {
      const auto& L = *pe.logic;
      const auto& cur = L.current();
      ServiceStatus ss;
      ss.service = L.spec().service;
      ss.key = L.spec().key;
      ss.quorum = cur.quorum;
      ss.sorryActive = cur.sorryActive;
      ss.upWeight = cur.upWeight;
      for (size_t r = 0; r < L.size(); ++r) {
        RealServerStatus rs;
        rs.address = L.spec().realServers[r].address;
        rs.state = serverStateName(L.state(r));
        rs.up = L.checkOutput(r).health == Health::kUp;
        rs.configuredWeight = L.spec().realServers[r].weight;
        for (const auto& d : cur.destinations)
          if (d.realServer == static_cast<int>(r)) rs.weight = d.weight;
        rs.adminDrain = L.admin(r).drain;
        rs.adminWeight = L.admin(r).weight;
        rs.lastCheck = combine(&pe - pools_.data(), r).reason;  // live, not as of the last change
        ss.realServers.push_back(std::move(rs));
      }
      s.services.push_back(std::move(ss));
    }
    return s;
  }

  ManagerCounters counters() const {
    ManagerCounters c = counters_;
    c.checks = checks_.size();
    return c;
  }

 private:
  boost::asio::io_context& io_;
  const Clock& clock_;
  Callbacks cb_;
  Options opt_;
  SeededRng rng_;
  TlsContexts tls_;
  ProbeEnv env_;
  boost::asio::steady_timer drainTimer_;
  std::unordered_map<std::string, std::shared_ptr<CheckEntry>> checks_;
  std::vector<PoolEntry> pools_;
  ManagerCounters counters_;
  bool flushPosted_ = false;
  bool stopped_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

CheckManager::CheckManager(boost::asio::io_context& io, const Clock& clock, Callbacks callbacks,
                           Options options)
    : impl_(std::make_unique<Impl>(io, clock, std::move(callbacks), options)) {}

CheckManager::~CheckManager() = default;

Status CheckManager::start(const config::Config& config, const std::vector<AdoptedServer>& adopted) {
  return impl_->apply(config, true, adopted);
}
Status CheckManager::reload(const config::Config& config) { return impl_->apply(config, false); }
void CheckManager::stop() { impl_->stop(); }

Status CheckManager::drain(const std::string& service, const Endpoint& rs) {
  return impl_->forEachMatch(service, rs, [](AdminOverride& a) { a.drain = true; });
}
Status CheckManager::undrain(const std::string& service, const Endpoint& rs) {
  return impl_->forEachMatch(service, rs, [](AdminOverride& a) { a.drain = false; });
}
Status CheckManager::setWeight(const std::string& service, const Endpoint& rs,
                               std::optional<uint32_t> weight) {
  if (weight && *weight > 65535) return Error("weight " + std::to_string(*weight) + " outside 0..65535");
  return impl_->forEachMatch(service, rs, [&](AdminOverride& a) { a.weight = weight; });
}

std::vector<ServicePool> CheckManager::pools() const { return impl_->pools(); }
Snapshot CheckManager::snapshot() const { return impl_->snapshot(); }
ManagerCounters CheckManager::counters() const { return impl_->counters(); }

}  // namespace lvsd::healthcheck
