// The services pipeline: config → health checks (pools) + dynamic weights →
// desired IPVS table → reconciler → kernel.
//
// All decisions happen on the io_context thread. The kernel is driven from
// one worker thread (DESIGN.md: bulk netlink never runs on the loop); the
// loop hands it the latest desired table and the worker coalesces: if ten
// pool changes arrive while a batch is in flight, the next batch plans
// against the newest table only.
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "core/log.h"
#include "daemon/component.h"
#include "daemon/dry_run_backend.h"
#include "daemon/event_log.h"
#include "daemon/control_server.h"
#include "daemon/metrics_mirror.h"
#include "feedback/feedback.h"
#include "healthcheck/healthcheck.h"
#include "ipvs/from_config.h"
#include "ipvs/ipvs.h"

namespace lvsd::daemon {
namespace {

namespace asio = boost::asio;
auto servicesLog() { return logger("services"); }

// Owns the backend and the reconciler; everything on its own thread.
class IpvsWorker {
 public:
  using ReportFn = std::function<void(Result<ipvs::ReconcileReport>)>;

  IpvsWorker(std::unique_ptr<ipvs::IpvsBackend> backend, ipvs::Ownership ownership,
             ReportFn onReport)
      : backend_(std::move(backend)),
        reconciler_(*backend_, std::move(ownership)),
        onReport_(std::move(onReport)),
        thread_([this] { loop(); }) {}

  ~IpvsWorker() { stop(); }

  void stop() {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  // Plans and applies `desired` soon; a newer submit replaces an older one
  // that has not started yet.
  void submit(ipvs::Table desired) {
    {
      std::lock_guard lock(mu_);
      pending_ = std::move(desired);
      ++submitted_;
    }
    cv_.notify_all();
  }

  // Runs `fn` on the worker thread with exclusive access to backend and
  // reconciler, and waits for it (used for previews, reads and shutdown).
  template <typename T>
  T call(std::function<T(ipvs::IpvsBackend&, ipvs::Reconciler&)> fn) {
    auto task = std::make_shared<std::packaged_task<T()>>(
        [this, fn = std::move(fn)] { return fn(*backend_, reconciler_); });
    auto fut = task->get_future();
    {
      std::lock_guard lock(mu_);
      tasks_.push_back([task] { (*task)(); });
    }
    cv_.notify_all();
    return fut.get();
  }

  // Destination counters per service, refreshed by the worker after every
  // apply and every few seconds.
  std::map<ipvs::ServiceKey, std::vector<ipvs::DestinationEntry>> stats() const {
    std::lock_guard lock(statsMu_);
    return stats_;
  }
  // Kernel statistics of the same services (one dump), refreshed with them.
  std::map<ipvs::ServiceKey, ipvs::ServiceEntry> serviceStats() const {
    std::lock_guard lock(statsMu_);
    return serviceStats_;
  }
  // Whether stats() were read after the newest submitted table was applied:
  // a drain that just set weight 0 must not trust counters read before its
  // connection opened (they would say 0 and end the drain at once).
  bool statsCurrent() const {
    uint64_t submitted;
    {
      std::lock_guard lock(mu_);
      submitted = submitted_;
    }
    std::lock_guard lock(statsMu_);
    return statsGen_ == submitted;
  }
  // The reconciler's totals as of the last apply or refresh.
  ipvs::Reconciler::Counters counters() const {
    std::lock_guard lock(statsMu_);
    return counters_;
  }

 private:
  void loop() {
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait_for(lock, std::chrono::seconds(2),
                   [this] { return stopping_ || pending_ || !tasks_.empty(); });
      if (stopping_) return;
      while (!tasks_.empty()) {
        auto t = std::move(tasks_.front());
        tasks_.pop_front();
        lock.unlock();
        t();
        lock.lock();
      }
      std::optional<ipvs::Table> desired;
      desired.swap(pending_);
      if (desired) appliedGen_ = submitted_;
      lock.unlock();
      if (desired) {
        lastDesired_ = *desired;
        onReport_(reconciler_.apply(*desired));
      }
      refreshStats(appliedGen_);
      lock.lock();
    }
  }

  void refreshStats(uint64_t gen) {
    std::map<ipvs::ServiceKey, std::vector<ipvs::DestinationEntry>> fresh;
    for (const auto& vs : lastDesired_) {
      auto d = backend_->destinations(vs.service.key);
      if (d) fresh[vs.service.key] = std::move(*d);
    }
    std::map<ipvs::ServiceKey, ipvs::ServiceEntry> services;
    if (!lastDesired_.empty())
      if (auto all = backend_->services())
        for (auto& e : *all)
          if (fresh.count(e.service.key)) services[e.service.key] = std::move(e);
    std::lock_guard lock(statsMu_);
    stats_ = std::move(fresh);
    statsGen_ = gen;
    serviceStats_ = std::move(services);
    counters_ = reconciler_.counters();
  }

  std::unique_ptr<ipvs::IpvsBackend> backend_;
  ipvs::Reconciler reconciler_;
  ReportFn onReport_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  uint64_t submitted_ = 0;   // tables submitted (mu_)
  uint64_t appliedGen_ = 0;  // worker thread only: submitted_ when the last one was taken
  bool stopping_ = false;
  std::optional<ipvs::Table> pending_;
  std::deque<std::function<void()>> tasks_;
  ipvs::Table lastDesired_;  // worker thread only
  mutable std::mutex statsMu_;
  std::map<ipvs::ServiceKey, std::vector<ipvs::DestinationEntry>> stats_;
  std::map<ipvs::ServiceKey, ipvs::ServiceEntry> serviceStats_;
  uint64_t statsGen_ = 0;  // appliedGen_ when stats_ were read (statsMu_)
  ipvs::Reconciler::Counters counters_;
  std::thread thread_;  // last: starts after everything above exists
};

using RsKey = std::pair<int, int>;  // (service index, real server index)

class ServicesComponent final : public Component, public healthcheck::ConnectionCounter {
 public:
  explicit ServicesComponent(Context& ctx)
      : ctx_(ctx),
        checks_(ctx.io, ctx.clock,
                healthcheck::Callbacks{[this](const healthcheck::ServicePool& p) { onPool(p); },
                                       [this](const std::string& s, bool held) {
                                         onQuorum(s, held);
                                       }},
                healthcheck::Options{this}),
        feedback_(ctx.io, ctx.clock,
                  feedback::Callbacks{[this](const feedback::WeightUpdate& u) { onWeight(u); }}) {
  }

  const char* name() const override { return "services"; }

  Status start(const config::ConfigPtr& cfg) override {
    cfg_ = cfg;
    effective_ = cfg->proto;
    dryRun_ = ctx_.dryRun || cfg->proto.ipvs().backend() == config::Ipvs::DRY_RUN;
    std::unique_ptr<ipvs::IpvsBackend> backend;
    if (dryRun_) {
      backend = makeDryRunBackend();
    } else {
      auto nl = ipvs::makeNetlinkBackend();
      if (!nl)
        return Error("IPVS: " + nl.error().message + " (on hosts without IPVS use --dry-run)");
      backend = std::move(*nl);
    }
    if (auto t = ipvs::timeoutsFromConfig(cfg->proto); t.tcp || t.tcpFin || t.udp) {
      if (auto s = backend->setTimeouts(t); !s) return Error("IPVS timeouts: " + s.error().message);
    }
    worker_ = std::make_unique<IpvsWorker>(
        std::move(backend), ipvs::ownershipFromConfig(cfg->proto),
        [this](Result<ipvs::ReconcileReport> r) {
          asio::post(ctx_.io, [this, r = std::move(r)]() mutable { onReport(std::move(r)); });
        });
    if (auto s = rebuildBase(); !s) return s;
    registerControl();
    if (auto s = checks_.start(effective_, adoptFromKernel()); !s)
      return Error("healthcheck: " + s.error().message);
    if (auto s = feedback_.start(effective_); !s) return Error("feedback: " + s.error().message);
    started_ = true;
    scheduleApply();
    if (ctx_.metrics)  // read when scraped, on this loop: checks, pools, kernel stats
      collector_ = ctx_.metrics->registry.addCollector([this] { collectMetrics(); });
    return okStatus();
  }

  Status reload(const config::ConfigPtr& from, const config::ConfigPtr& to) override {
    cfg_ = to;
    effective_ = to->proto;  // runtime additions end at a reload (said so in docs)
    runtime_.clear();
    feedbackWeights_.clear();
    if (auto s = rebuildBase(); !s) return s;
    worker_->call<int>([o = ipvs::ownershipFromConfig(to->proto)](auto&, ipvs::Reconciler& r) {
      auto owned = r.ownership().owned;  // keep what we created: it may need deleting
      auto next = o;
      next.owned.insert(owned.begin(), owned.end());
      r.setOwnership(std::move(next));
      return 0;
    });
    if (auto s = checks_.reload(effective_); !s) return Error("healthcheck: " + s.error().message);
    // The checks re-emit only the pools the reload changed: take every
    // pool as it now is (service indices may have moved), so an unchanged
    // service keeps its destinations instead of planning against none.
    pools_.clear();
    for (auto& p : checks_.pools()) pools_[p.index] = std::move(p);
    if (auto s = feedback_.reload(effective_); !s) return Error("feedback: " + s.error().message);
    scheduleApply();
    return okStatus();
  }

  ~ServicesComponent() override { removeCollector(); }

  void stop(bool leave) override {
    removeCollector();
    if (!started_) return;
    started_ = false;
    feedback_.stop();
    checks_.stop();
    if (!leave && worker_) {
      // Remove what lvsd owns: plan against an empty desired table.
      auto n = worker_->call<size_t>([](auto&, ipvs::Reconciler& r) -> size_t {
        auto rep = r.apply({});
        return rep ? rep->ops.size() : 0;
      });
      servicesLog()->info("stop: removed lvsd's IPVS objects ({} ops)", n);
    } else {
      servicesLog()->info("stop: leaving IPVS table in place");
    }
    if (worker_) worker_->stop();
  }

  void fillStatus(control::Status& status) const override {
    auto snap = checks_.snapshot();
    auto stats = worker_ ? worker_->stats()
                         : std::map<ipvs::ServiceKey, std::vector<ipvs::DestinationEntry>>{};
    for (int i = 0; i < effective_.virtual_service_size(); ++i) {
      const auto& vs = effective_.virtual_service(i);
      auto* out = status.add_service();
      out->set_name(base_[i].name);
      out->set_key(base_[i].vs.service.key.toString());
      out->set_scheduler(vs.scheduler());
      const healthcheck::ServiceStatus* hs = nullptr;
      for (const auto& s : snap.services)
        if (s.key == config::serviceKey(vs)) hs = &s;
      out->set_quorum_ok(hs ? hs->quorum : true);
      out->set_sorry_active(hs && hs->sorryActive);
      const auto* kernel = stats.count(base_[i].vs.service.key)
                               ? &stats.at(base_[i].vs.service.key)
                               : nullptr;
      auto desired = desiredFor(i);
      for (int j = 0; j < vs.real_server_size(); ++j) {
        const auto& d = base_[i].vs.destinations[j];
        auto* rs = out->add_real_server();
        rs->set_address(d.endpoint().toString());
        rs->set_forwarding(ipvs::forwardingName(d.forwarding));
        rs->set_configured_weight(vs.real_server(j).weight());
        rs->set_runtime_added(runtime_.count({i, j}) > 0);
        for (const auto& w : desired.destinations)
          if (w.sameKey(d)) rs->set_weight(w.weight);
        if (hs) {
          for (const auto& r : hs->realServers) {
            if (r.address != d.endpoint()) continue;
            rs->set_up(r.up);
            rs->set_draining(r.state == "DRAINING");
            rs->set_last_check(r.lastCheck);
          }
        }
        if (kernel)
          for (const auto& e : *kernel)
            if (e.dest.sameKey(d)) {
              rs->set_active_connections(e.activeConns);
              rs->set_inactive_connections(e.inactiveConns);
              rs->set_cps(e.stats.cps);
            }
      }
    }
  }

  void dumpState(std::vector<std::string>& lines) const override {
    auto c = checks_.counters();
    lines.push_back("services: services=" + std::to_string(effective_.virtual_service_size()) +
                    " checks=" + std::to_string(c.checks) + " applies=" +
                    std::to_string(applies_) + " ops=" + std::to_string(opsApplied_) +
                    " op_errors=" + std::to_string(opErrors_) +
                    " backend=" + (dryRun_ ? "dry-run" : "netlink"));
  }

  // healthcheck::ConnectionCounter: drains end when active connections reach 0.
  std::optional<uint64_t> activeConnections(const std::string& serviceKey,
                                            const Endpoint& rs) override {
    // Unknown (the drain keeps waiting) until the counters were read after
    // the pool's latest change reached the kernel.
    if (!worker_ || applyQueued_ || !worker_->statsCurrent()) return std::nullopt;
    auto stats = worker_->stats();
    for (const auto& b : base_) {
      if (b.key != serviceKey) continue;
      auto it = stats.find(b.vs.service.key);
      if (it == stats.end()) return std::nullopt;
      for (const auto& e : it->second)
        if (e.dest.endpoint() == rs) return e.activeConns;
    }
    return std::nullopt;
  }

 private:
  struct Base {
    std::string name;
    std::string key;  // config::serviceKey
    ipvs::VirtualServer vs;  // every configured real server at its configured weight
    std::optional<ipvs::Destination> sorry;
  };

  // Upgrades without downtime (docs/operations.md): a predecessor that
  // stopped with `ipvs.on_stop: LEAVE` left its table, in which the servers
  // it saw up have their configured weight. Those start up (their checks
  // begin UP, then rise/fall as usual) instead of down, so the first
  // plan is empty rather than a removal of every server until its checks
  // pass. The dump also fills the reconciler's cache for that first plan.
  std::vector<healthcheck::AdoptedServer> adoptFromKernel() {
    auto kernel = worker_->call<std::optional<ipvs::Table>>(
        [](auto&, ipvs::Reconciler& r) -> std::optional<ipvs::Table> {
          if (!r.refresh()) return std::nullopt;
          return r.cached();
        });
    if (!kernel) {
      servicesLog()->warn("start: cannot read the IPVS table; every checked real server starts down");
      return {};
    }
    ipvs::Table configured;
    for (const auto& b : base_) configured.push_back(b.vs);
    std::vector<healthcheck::AdoptedServer> out;
    for (const auto& p : ipvs::presentAsConfigured(configured, *kernel))
      for (const auto& b : base_)
        if (b.vs.service.key == p.service) out.push_back({b.key, p.destination});
    servicesLog()->info("start: {} of the configured real servers found in the IPVS table as configured: "
                "their checks start UP",
                out.size());
    return out;
  }

  Status rebuildBase() {
    std::vector<Base> next;
    for (const auto& vs : effective_.virtual_service()) {
      auto v = ipvs::virtualServerFromConfig(vs);
      if (!v) return Error(v.error().message);
      Base b{vs.name().empty() ? config::serviceKey(vs) : vs.name(), config::serviceKey(vs),
             std::move(*v), std::nullopt};
      if (vs.has_sorry_server()) {
        auto ep = Endpoint::parse(vs.sorry_server().address(), true);
        if (!ep) return Error("sorry_server: " + ep.error().message);
        config::VirtualService one;
        one.CopyFrom(vs);
        one.clear_real_server();
        auto* rs = one.add_real_server();
        rs->set_address(vs.sorry_server().address());
        rs->set_weight(vs.sorry_server().weight());
        if (vs.sorry_server().has_forwarding()) rs->set_forwarding(vs.sorry_server().forwarding());
        auto sv = ipvs::virtualServerFromConfig(one);
        if (!sv) return Error(sv.error().message);
        b.sorry = sv->destinations.at(0);
      }
      next.push_back(std::move(b));
    }
    base_ = std::move(next);
    return okStatus();
  }

  // The desired kernel state of service i: its pool (health, drains, sorry)
  // with dynamic weights applied on top.
  ipvs::VirtualServer desiredFor(int i) const {
    ipvs::VirtualServer out;
    out.service = base_[i].vs.service;
    auto p = pools_.find(i);
    if (p == pools_.end()) return out;
    for (const auto& d : p->second.destinations) {
      ipvs::Destination dest;
      if (d.realServer < 0) {
        if (!base_[i].sorry) continue;
        dest = *base_[i].sorry;
        dest.weight = d.weight;
      } else {
        dest = base_[i].vs.destinations.at(d.realServer);
        dest.weight = d.weight;
        if (!applyFeedback(i, d.realServer, dest)) continue;
      }
      out.destinations.push_back(dest);
    }
    return out;
  }

  ipvs::Table desiredTable() const {
    ipvs::Table t;
    for (size_t i = 0; i < base_.size(); ++i) t.push_back(desiredFor(static_cast<int>(i)));
    return t;
  }

  void scheduleApply() {
    if (applyQueued_ || !started_) return;
    applyQueued_ = true;
    // Coalesce every change made in this turn of the loop into one plan.
    asio::post(ctx_.io, [this] {
      applyQueued_ = false;
      if (started_) worker_->submit(desiredTable());
    });
  }

  void collectMetrics() {
    auto& m = *ctx_.metrics;
    auto snap = checks_.snapshot();
    // lvsd_real_server_weight is the weight lvsd wants in IPVS: the pool's
    // with dynamic weights, drains and `down` on top (absent = 0).
    for (auto& svc : snap.services)
      for (size_t i = 0; i < base_.size(); ++i) {
        if (base_[i].key != svc.key) continue;
        auto desired = desiredFor(static_cast<int>(i));
        for (auto& rs : svc.realServers) {
          rs.weight.reset();
          for (const auto& d : desired.destinations)
            if (d.endpoint() == rs.address) rs.weight = d.weight;
        }
      }
    metrics::mirrorChecks(m, snap, checks_.counters());
    if (!worker_) return;
    auto c = worker_->counters();
    metrics::mirrorIpvsCounters(m, c.applies, c.opsSent, c.opErrors);
    auto services = worker_->serviceStats();
    auto dests = worker_->stats();
    std::vector<metrics::ServiceStats> out;
    for (const auto& b : base_) {
      auto it = services.find(b.vs.service.key);
      if (it == services.end()) continue;
      out.push_back({b.name, it->second, dests[b.vs.service.key]});
    }
    metrics::mirrorIpvsStats(m, out);
  }

  void removeCollector() {
    if (collector_ && ctx_.metrics) ctx_.metrics->registry.removeCollector(collector_);
    collector_ = 0;
  }

  void onPool(const healthcheck::ServicePool& pool) {
    if (pool.index < 0 || pool.index >= static_cast<int>(base_.size())) return;
    pools_[pool.index] = pool;
    scheduleApply();
  }

  void onQuorum(const std::string& service, bool held) {
    servicesLog()->warn("service={} quorum {}", service, held ? "regained" : "lost");
    ctx_.events.transition("services", service, held ? "QUORUM_LOST" : "QUORUM_OK",
                           held ? "QUORUM_OK" : "QUORUM_LOST", held ? "quorum-regained" : "quorum-lost",
                           "");
    ctx_.bus.quorum.emit(service, held);
  }

  void onWeight(const feedback::WeightUpdate& u) {
    if (u.kind == feedback::WeightUpdate::Kind::kConfigured)
      feedbackWeights_.erase({u.serviceIndex, u.realServerIndex});
    else
      feedbackWeights_[{u.serviceIndex, u.realServerIndex}] = u;
    scheduleApply();
  }

  // Feedback on top of the pool: a dynamic weight replaces the configured
  // one of an active server (an operator's weight or a check's dynamic
  // weight, i.e. anything but the configured weight, wins); `drain` gives
  // weight 0; `down` removes the server (weight 0 when the service inhibits).
  // Returns false when the destination must be left out.
  bool applyFeedback(int svc, int rs, ipvs::Destination& dest) const {
    auto it = feedbackWeights_.find({svc, rs});
    if (it == feedbackWeights_.end()) return true;
    const auto& u = it->second;
    const auto& vs = effective_.virtual_service(svc);
    switch (u.kind) {
      case feedback::WeightUpdate::Kind::kDynamic:
        if (dest.weight != 0 && dest.weight == vs.real_server(rs).weight()) dest.weight = u.weight;
        return true;
      case feedback::WeightUpdate::Kind::kDrain:
        dest.weight = 0;
        return true;
      case feedback::WeightUpdate::Kind::kDown:
        dest.weight = 0;
        return vs.on_down() == config::VirtualService::INHIBIT;
      case feedback::WeightUpdate::Kind::kConfigured:
        return true;
    }
    return true;
  }

  void onReport(Result<ipvs::ReconcileReport> r) {
    ++applies_;
    if (!r) {
      ++opErrors_;
      servicesLog()->error("IPVS apply failed: {}", r.error().message);
      return;
    }
    opsApplied_ += r->ops.size();
    for (const auto& op : r->ops) servicesLog()->info("ipvs: {}", op.toString());
    for (const auto& e : r->errors) {
      ++opErrors_;
      servicesLog()->error("ipvs: {}", e.error.message);
      control::Event ev;
      ev.set_module("ipvs");
      ev.set_kind("error");
      ev.set_subject(r->ops.at(e.index).objectName());
      ev.set_reason(e.error.message);
      ctx_.events.publish(std::move(ev));
    }
  }

  control::Response fail(const std::string& msg) const {
    control::Response r;
    r.set_ok(false);
    r.add_error(msg);
    return r;
  }
  control::Response done(const std::string& msg) const {
    control::Response r;
    r.set_ok(true);
    r.set_text(msg);
    return r;
  }

  void registerControl() {
    using control::Request;
    auto rsOf = [](const std::string& text) { return Endpoint::parse(text, true); };
    ctx_.control.handle(Request::kDrain, [this, rsOf](const Request& q) {
      auto ep = rsOf(q.drain().real_server());
      if (!ep) return fail("real server: " + ep.error().message);
      auto s = checks_.drain(q.drain().service(), *ep);
      return s ? done("draining " + ep->toString()) : fail(s.error().message);
    });
    ctx_.control.handle(Request::kUndrain, [this, rsOf](const Request& q) {
      auto ep = rsOf(q.undrain().real_server());
      if (!ep) return fail("real server: " + ep.error().message);
      auto s = checks_.undrain(q.undrain().service(), *ep);
      return s ? done("undrained " + ep->toString()) : fail(s.error().message);
    });
    ctx_.control.handle(Request::kSetWeight, [this, rsOf](const Request& q) {
      auto ep = rsOf(q.set_weight().real_server());
      if (!ep) return fail("real server: " + ep.error().message);
      auto s = checks_.setWeight(q.set_weight().service(), *ep, q.set_weight().weight());
      return s ? done("weight of " + ep->toString() + " set to " +
                      std::to_string(q.set_weight().weight()))
               : fail(s.error().message);
    });
    ctx_.control.handle(Request::kAddServer, [this](const Request& q) {
      return runtimeServer(q.add_server(), true);
    });
    ctx_.control.handle(Request::kRemoveServer, [this](const Request& q) {
      return runtimeServer(q.remove_server(), false);
    });
  }

  // Runtime add/remove: edit a copy of the config and apply it the way a
  // reload would (unchanged checks keep their state), without touching the
  // file. A reload drops these changes; status marks added servers.
  control::Response runtimeServer(const control::RuntimeServerRequest& q, bool add) {
    auto ep = Endpoint::parse(q.real_server(), true);
    if (!ep) return fail("real server: " + ep.error().message);
    int svc = -1;
    for (int i = 0; i < effective_.virtual_service_size(); ++i)
      if (base_[i].name == q.service() || base_[i].key == q.service()) svc = i;
    if (svc < 0) return fail("no virtual service '" + q.service() + "'");
    config::Config next = effective_;
    auto* vs = next.mutable_virtual_service(svc);
    int found = -1;
    for (int j = 0; j < vs->real_server_size(); ++j) {
      auto e = Endpoint::parse(vs->real_server(j).address(), true);
      if (e && (*e == *ep || (e->port() == 0 && e->address() == ep->address()))) found = j;
    }
    std::map<RsKey, bool> runtime = runtime_;
    if (add) {
      if (found >= 0) return fail(ep->toString() + " is already in " + base_[svc].name);
      if (q.weight() > 65535) return fail("weight must be 0..65535");
      auto svcKey = ipvs::serviceKeyFromConfig(*vs);
      if (svcKey && svcKey->family != ep->address().family())
        return fail(ep->toString() + ": address family differs from the service's");
      auto* rs = vs->add_real_server();
      rs->set_address(ep->toString());
      rs->set_weight(q.weight());
      runtime[{svc, vs->real_server_size() - 1}] = true;
    } else {
      if (found < 0) return fail(ep->toString() + " is not in " + base_[svc].name);
      vs->mutable_real_server()->DeleteSubrange(found, 1);
      std::map<RsKey, bool> shifted;
      for (auto [k, v] : runtime) {
        if (k.first != svc || k.second < found) shifted[k] = v;
        else if (k.second > found) shifted[{k.first, k.second - 1}] = v;
      }
      runtime = std::move(shifted);
    }
    if (auto s = checks_.reload(next); !s) return fail("healthcheck: " + s.error().message);
    effective_ = std::move(next);
    runtime_ = std::move(runtime);
    if (auto s = rebuildBase(); !s) return fail(s.error().message);
    (void)feedback_.reload(effective_);
    scheduleApply();
    std::string what = std::string(add ? "added " : "removed ") + ep->toString() +
                       (add ? " to " : " from ") + base_[svc].name +
                       " at runtime (until the next reload)";
    servicesLog()->info("{}", what);
    control::Event ev;
    ev.set_module("services");
    ev.set_kind("runtime");
    ev.set_subject(base_[svc].name);
    ev.set_reason(what);
    ctx_.events.publish(std::move(ev));
    return done(what);
  }

  Context& ctx_;
  config::ConfigPtr cfg_;
  config::Config effective_;  // the config plus runtime additions/removals
  bool dryRun_ = false;
  bool started_ = false;
  bool applyQueued_ = false;
  std::vector<Base> base_;
  std::map<int, healthcheck::ServicePool> pools_;
  std::map<RsKey, bool> runtime_;
  std::map<RsKey, feedback::WeightUpdate> feedbackWeights_;
  uint64_t applies_ = 0, opsApplied_ = 0, opErrors_ = 0;
  uint64_t collector_ = 0;  // metrics collector id
  healthcheck::CheckManager checks_;
  feedback::FeedbackManager feedback_;
  std::unique_ptr<IpvsWorker> worker_;  // last: stopped and joined first
};

}  // namespace

std::unique_ptr<Component> makeServicesComponent(Context& ctx) {
  return std::make_unique<ServicesComponent>(ctx);
}

}  // namespace lvsd::daemon
