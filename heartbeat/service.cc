// The I/O shell: one thread with its own io_context runs the engine, the
// sockets and the timer; trackers, notify hooks and logging each run
// elsewhere so nothing they do can delay an advertisement.
#include <pthread.h>
#include <sched.h>
#include <spdlog/async.h>
#include <spdlog/async_logger.h>
#include <sys/random.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <cstring>
#include <future>
#include <random>
#include <thread>

#include "core/log.h"
#include "heartbeat/engine.h"
#include "heartbeat/heartbeat.h"
#include "heartbeat/notify.h"
#include "heartbeat/tracker_monitor.h"
#include "heartbeat/transport.h"

namespace lvsd::heartbeat {

namespace asio = boost::asio;

namespace {

constexpr auto kHousekeeping = std::chrono::seconds(10);

// Log lines from the heartbeat thread go through spdlog's asynchronous
// queue (overrun-oldest: a stuck sink loses old lines, it never blocks the
// loop) into the sinks of the module logger, at its level.
class RtLog {
 public:
  RtLog()
      : base_(lvsd::logger("heartbeat")),
        pool_(std::make_shared<spdlog::details::thread_pool>(8192, 1)),
        async_(std::make_shared<spdlog::async_logger>("heartbeat", base_->sinks().begin(),
                                                       base_->sinks().end(), pool_,
                                                       spdlog::async_overflow_policy::overrun_oldest)) {
    async_->set_level(spdlog::level::trace);
    async_->flush_on(spdlog::level::info);
  }
  void operator()(spdlog::level::level_enum level, const std::string& line) {
    if (base_->should_log(level)) async_->log(level, line);
  }

 private:
  std::shared_ptr<spdlog::logger> base_;
  std::shared_ptr<spdlog::details::thread_pool> pool_;
  std::shared_ptr<spdlog::async_logger> async_;
};

// How late the loop wakes up for its deadlines.
struct Lateness {
  uint64_t wakeups = 0, over1ms = 0, over5ms = 0, over20ms = 0;
  Duration max{0};
  Duration windowMax{0};  // since the last housekeeping report
  void record(Duration d) {
    if (d.count() < 0) d = Duration(0);
    ++wakeups;
    if (d > std::chrono::milliseconds(1)) ++over1ms;
    if (d > std::chrono::milliseconds(5)) ++over5ms;
    if (d > std::chrono::milliseconds(20)) ++over20ms;
    max = std::max(max, d);
    windowMax = std::max(windowMax, d);
  }
};

uint64_t randomBootId() {
  uint64_t id = 0;
  if (::getrandom(&id, sizeof(id), 0) == sizeof(id) && id != 0) return id;
  std::random_device rd;
  return (uint64_t(rd()) << 32) | rd() | 1;
}

std::string join(const std::vector<std::string>& v, const char* sep = ",") {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

}  // namespace

class HeartbeatService::Impl final : public EngineObserver {
 public:
  Impl(Model model, Callbacks cb)
      : model_(std::move(model)),
        cb_(std::move(cb)),
        work_(asio::make_work_guard(io_)),
        timer_(io_),
        housekeeping_(io_),
        notify_([this](bool warn, const std::string& l) { log(warn, l); }) {}

  ~Impl() override { stop(); }

  Status start(const std::vector<std::string>& resume) {
    if (auto st = Transport::resolveSources(model_); !st) return st;
    auto t = Transport::open(
        io_, model_, [this](const ReceivedPacket& p) { engine_->onPacket(p); },
        [this] { rearm(); });
    if (!t) return std::move(t).takeError();
    transport_ = std::move(*t);
    engine_ = std::make_unique<Engine>(model_, SystemClock::instance(), *transport_, *this,
                                       randomBootId());
    trackers_ = std::make_unique<TrackerMonitor>(
        model_,
        [this](size_t tracker, TrackerStatus s) {
          asio::post(io_, [this, tracker, s] {
            engine_->setTracker(tracker, s);
            rearm();
          });
        },
        [this](bool warn, const std::string& l) { log(warn, l); });
    auto first = trackers_->initial();
    for (size_t i = 0; i < first.size(); ++i)
      if (first[i]) engine_->setTracker(i, *first[i]);
    if (auto st = trackers_->start(); !st) return st;
    notify_.start();
    running_ = true;
    thread_ = std::thread([this, resume] {
      realtime();
      engine_->start(resume);
      rearm();
      armHousekeeping();
      io_.run();
    });
    return okStatus();
  }

  void stop() {
    if (!thread_.joinable()) return;
    trackers_->stop();
    asio::post(io_, [this] {
      engine_->stop();
      cache_ = engine_->snapshot();
      timer_.cancel();
      housekeeping_.cancel();
      transport_.reset();
      work_.reset();
    });
    thread_.join();
    running_ = false;
    notify_.stop();
  }

  EngineSnapshot snapshot() const {
    if (running_) {
      auto p = std::make_shared<std::promise<EngineSnapshot>>();
      auto f = p->get_future();
      asio::post(const_cast<asio::io_context&>(io_), [this, p] { p->set_value(engine_->snapshot()); });
      if (f.wait_for(std::chrono::seconds(1)) == std::future_status::ready) return f.get();
    }
    return cache_;
  }

  template <typename Fn>
  void onLoop(Fn&& fn) {
    asio::post(io_, [this, fn = std::forward<Fn>(fn)] {
      if (!engine_ || !running_) return;
      fn(*engine_);
      rearm();
    });
  }

  std::map<std::string, uint64_t> counters() const {
    auto p = std::make_shared<std::promise<std::map<std::string, uint64_t>>>();
    auto f = p->get_future();
    if (!running_) return last_;
    asio::post(const_cast<asio::io_context&>(io_), [this, p] { p->set_value(collect()); });
    if (f.wait_for(std::chrono::seconds(1)) != std::future_status::ready) return last_;
    return f.get();
  }

  const Model& model() const { return model_; }

  // EngineObserver, on the heartbeat thread.
  void onTransition(const Transition& t, size_t instance) override {
    log(false, t.line);
    if (cb_.onTransition) cb_.onTransition(t);
    notify_.enqueue(notifyJobs(model_.notify, model_.instances[instance].notify, t));
  }
  void onReassert(const std::string& instance, const std::vector<std::string>& groups) override {
    log(false, "instance=" + instance + " heard a lower-priority master: re-asserting");
    if (cb_.onReassert) cb_.onReassert(instance, groups);
  }
  void onNotice(bool warning, const std::string& text) override { log(warning, text); }

 private:
  void log(bool warning, const std::string& line) {
    rtlog_(warning ? spdlog::level::warn : spdlog::level::info, line);
  }

  void realtime() {
    if (model_.realtimePriority == 0) return;
    sched_param sp{};
    sp.sched_priority = static_cast<int>(model_.realtimePriority);
    int err = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
    if (err != 0)
      log(true, "cannot run the heartbeat thread with SCHED_FIFO priority " +
                    std::to_string(model_.realtimePriority) + ": " + std::strerror(err));
    else
      log(false, "heartbeat thread runs with SCHED_FIFO priority " +
                     std::to_string(model_.realtimePriority));
  }

  // One timer for the engine's next deadline. A deadline that moved later
  // keeps the earlier wake-up (it re-arms then), so a packet flood does not
  // churn the timer.
  void rearm() {
    auto d = engine_->nextDeadline();
    if (!d) {
      if (armed_) {
        timer_.cancel();
        armed_.reset();
      }
      return;
    }
    if (armed_ && *armed_ <= *d) return;
    armed_ = d;
    timer_.expires_at(asio::steady_timer::time_point(d->time_since_epoch()));
    timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      Duration late{0};
      if (armed_) {
        late = std::chrono::steady_clock::now() - *armed_;
        late_.record(late);
      }
      armed_.reset();
      // Packets that arrived before the deadline count before it fires.
      transport_->drainAll();
      engine_->onTimer(late);
      rearm();
    });
  }

  void armHousekeeping() {
    housekeeping_.expires_after(kHousekeeping);
    housekeeping_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      report();
      armHousekeeping();
    });
  }

  void report() {
    const Counters& c = engine_->counters();
    uint64_t dropped = c.dropped();
    if (dropped != lastDropped_) {
      std::string detail;
      for (size_t r = 1; r < kDropReasonCount; ++r)
        if (c.drops[r] != lastDrops_[r])
          detail += std::string(detail.empty() ? "" : " ") +
                    dropReasonName(static_cast<DropReason>(r)) + "=" +
                    std::to_string(c.drops[r] - lastDrops_[r]);
      log(true, "dropped " + std::to_string(dropped - lastDropped_) + " packets in the last " +
                    std::to_string(kHousekeeping.count()) + " s: " + detail);
      lastDropped_ = dropped;
      lastDrops_ = c.drops;
    }
    // Late by more than a fifth of the shortest interval puts a master-down
    // timer at risk: say so.
    Duration shortest = std::chrono::hours(1);
    for (const auto& in : model_.instances) shortest = std::min(shortest, in.interval);
    if (late_.windowMax > std::max<Duration>(std::chrono::milliseconds(2), shortest / 5))
      log(true, "loop woke up to " + std::to_string(toMillis(late_.windowMax)) +
                    " ms late in the last " + std::to_string(kHousekeeping.count()) +
                    " s (shortest interval " + std::to_string(toMillis(shortest)) + " ms)");
    late_.windowMax = Duration(0);
    last_ = collect();
  }

  std::map<std::string, uint64_t> collect() const {
    std::map<std::string, uint64_t> m;
    const Counters& c = engine_->counters();
    m["received"] = c.received;
    m["sent"] = c.sent;
    m["send_errors"] = c.sendErrors;
    m["transitions"] = c.transitions;
    m["reasserts"] = c.reasserts;
    m["address_list_mismatch"] = c.addressListMismatch;
    m["stall_graces"] = c.stallGraces;
    m["dropped"] = c.dropped() + (transport_ ? transport_->truncated() : 0);
    for (size_t r = 1; r < kDropReasonCount; ++r)
      m[std::string("drop.") + dropReasonName(static_cast<DropReason>(r))] = c.drops[r];
    if (transport_) {
      m["drop.oversize"] += transport_->truncated();
      m["receive_errors"] = transport_->receiveErrors();
    }
    m["loop.wakeups"] = late_.wakeups;
    m["loop.late_over_1ms"] = late_.over1ms;
    m["loop.late_over_5ms"] = late_.over5ms;
    m["loop.late_over_20ms"] = late_.over20ms;
    m["loop.max_late_us"] =
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(late_.max).count());
    auto n = notify_.counters();
    m["notify.run"] = n.run;
    m["notify.failed"] = n.failed;
    m["notify.timed_out"] = n.timedOut;
    return m;
  }

  Model model_;
  Callbacks cb_;
  RtLog rtlog_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  asio::steady_timer timer_;
  asio::steady_timer housekeeping_;
  std::optional<TimePoint> armed_;
  std::unique_ptr<Transport> transport_;
  std::unique_ptr<Engine> engine_;
  NotifyRunner notify_;
  std::unique_ptr<TrackerMonitor> trackers_;
  std::thread thread_;
  std::atomic<bool> running_{false};
  Lateness late_;
  uint64_t lastDropped_ = 0;
  DropCounters lastDrops_{};
  EngineSnapshot cache_;
  std::map<std::string, uint64_t> last_;
};

// ---------------------------------------------------------------------------

HeartbeatService::HeartbeatService(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HeartbeatService::~HeartbeatService() = default;

Result<std::unique_ptr<HeartbeatService>> HeartbeatService::create(const config::Config& cfg,
                                                                   const std::string& self,
                                                                   const std::string& digest,
                                                                   Callbacks callbacks) {
  auto model = buildModel(cfg, self, digest);
  if (!model) return std::move(model).takeError();
  return std::unique_ptr<HeartbeatService>(
      new HeartbeatService(std::make_unique<Impl>(std::move(*model), std::move(callbacks))));
}

Status HeartbeatService::start(const std::vector<std::string>& resume) {
  return impl_->start(resume);
}
void HeartbeatService::stop() { impl_->stop(); }

Status HeartbeatService::failover(const std::string& instance, Duration duration) {
  const Model& m = impl_->model();
  std::vector<size_t> which;
  for (size_t i = 0; i < m.instances.size(); ++i)
    if (instance.empty() || m.instances[i].name == instance) which.push_back(i);
  if (which.empty()) return Error("no instance " + instance);
  impl_->onLoop([which, duration](Engine& e) {
    std::optional<TimePoint> until;
    if (duration.count() > 0) until = SystemClock::instance().now() + duration;
    for (size_t i : which) e.failover(i, until);
  });
  return okStatus();
}

void HeartbeatService::endFailovers() {
  impl_->onLoop([](Engine& e) {
    for (size_t i = 0; i < e.model().instances.size(); ++i) e.clearFailover(i);
  });
}

void HeartbeatService::setQuorum(const std::string& virtualService, bool ok) {
  impl_->onLoop([vs = virtualService, ok](Engine& e) {
    const auto& trackers = e.model().trackers;
    for (size_t t = 0; t < trackers.size(); ++t)
      if (trackers[t].kind == TrackerKind::kQuorum && trackers[t].virtualService == vs)
        e.setTracker(t, {true, ok, 0});
  });
}

void HeartbeatService::setConfigDigest(const std::string& digest) {
  impl_->onLoop([digest](Engine& e) { e.setDigest(digest); });
}

void HeartbeatService::setHealth(uint32_t services, uint32_t servicesQuorumOk,
                                 uint32_t realServers, uint32_t realServersUp) {
  impl_->onLoop([=](Engine& e) {
    wire::Health h;
    h.set_services(services);
    h.set_services_quorum_ok(servicesQuorumOk);
    h.set_real_servers(realServers);
    h.set_real_servers_up(realServersUp);
    e.setHealth(h);
  });
}

void HeartbeatService::fillStatus(control::Status& status) const {
  EngineSnapshot s = impl_->snapshot();
  for (const auto& i : s.instances) {
    auto* is = status.add_instance();
    is->set_name(i.name);
    is->set_state(stateName(i.state));
    is->set_priority(i.priority);
    is->set_effective_priority(i.effectivePriority);
    is->set_master(i.master);
    is->set_since_unix_ms(i.sinceUnixMs);
    is->set_last_reason(reasonName(i.lastReason));
    is->set_transitions(i.transitions);
  }
  for (const auto& p : s.peers) {
    auto* ps = status.add_peer();
    ps->set_name(p.name);
    ps->set_config_digest(p.configDigest);
    ps->set_config_mismatch(p.configMismatch);
    ps->set_last_heard_unix_ms(p.lastHeardUnixMs);
    for (const auto& l : p.linksUp) ps->add_links_up(l);
  }
}

std::vector<std::string> HeartbeatService::dumpState() const {
  std::vector<std::string> lines;
  EngineSnapshot s = impl_->snapshot();
  for (const auto& i : s.instances)
    lines.push_back("heartbeat: instance=" + i.name + " state=" + stateName(i.state) +
                    " prio=" + std::to_string(i.effectivePriority) + "/" +
                    std::to_string(i.priority) + " master=" + (i.master.empty() ? "-" : i.master) +
                    " reason=" + reasonName(i.lastReason) +
                    " transitions=" + std::to_string(i.transitions));
  for (const auto& p : s.peers)
    lines.push_back("heartbeat: peer=" + p.name + " links_up=" +
                    (p.linksUp.empty() ? "-" : join(p.linksUp)) +
                    " config_mismatch=" + (p.configMismatch ? "yes" : "no"));
  std::string c;
  for (const auto& [k, v] : counters())
    if (v) c += (c.empty() ? "" : " ") + k + "=" + std::to_string(v);
  lines.push_back("heartbeat: counters " + c);
  return lines;
}

std::map<std::string, uint64_t> HeartbeatService::counters() const { return impl_->counters(); }

}  // namespace lvsd::heartbeat
