// The heartbeat component: the election (heartbeat/) and the VIPs it
// decides about (vip/). heartbeat/ runs on a thread of its own and reports
// transitions; this file turns them into VIP commands (on vip/'s thread), an
// ordered event-log entry and a bus `role` signal (on the daemon loop), and
// feeds quorum results back to the election.
#include <boost/asio/post.hpp>

#include <mutex>

#include "core/log.h"
#include "daemon/component.h"
#include "daemon/control_server.h"
#include "daemon/event_log.h"
#include "daemon/metrics_mirror.h"
#include "heartbeat/heartbeat.h"
#include "vip/vip.h"

namespace lvsd::daemon {
namespace {

namespace asio = boost::asio;
auto vipLog() { return logger("vip"); }

// The parts of the config the election is built from.
std::string electionConfig(const config::Config& c) {
  config::Config part;
  *part.mutable_director() = c.director();
  *part.mutable_heartbeat() = c.heartbeat();
  *part.mutable_instance() = c.instance();
  *part.mutable_sync_group() = c.sync_group();
  *part.mutable_tracker() = c.tracker();
  if (c.has_notify()) *part.mutable_notify() = c.notify();
  std::string out;
  part.SerializeToString(&out);
  return out;
}

class HeartbeatComponent final : public Component {
 public:
  explicit HeartbeatComponent(Context& ctx) : ctx_(ctx) {}

  const char* name() const override { return "heartbeat"; }

  Status start(const config::ConfigPtr& cfg) override {
    const auto& c = cfg->proto;
    if (c.instance_size() == 0) return okStatus();  // nothing to elect, no VIPs to hold
    auto groups = vip::groupsFromConfig(c);
    if (!groups) return std::move(groups).takeError();
    // VIPs are real even with --dry-run / the DRY_RUN IPVS backend: those
    // are about the IPVS table, and an election without addresses tests
    // nothing.
    auto backend = vip::makeNetlinkBackend();
    if (!backend) return std::move(backend).takeError();
    // A restart in place: a MASTER that stopped with release_on_stop false
    // left its VIPs. Resuming as MASTER keeps them (INIT -> BACKUP would
    // remove them) and advertises before the backups' timers run out.
    std::vector<std::string> resume;
    if (!c.heartbeat().release_on_stop()) resume = stillHeld(c, *groups, **backend);
    auto announcer = vip::makePacketAnnouncer();
    if (!announcer) return std::move(announcer).takeError();
    vips_ = std::make_unique<vip::VipManager>(std::move(*backend), std::move(*announcer));
    vips_->onError([](const std::string& e) { vipLog()->error("{}", e); });
    // Not fatal: the worker runs, only without real-time priority.
    if (auto st = vips_->start(std::move(*groups), static_cast<int>(c.heartbeat().realtime_priority()));
        !st)
      vipLog()->warn("{}", st.error().message);

    releaseOnStop_ = c.heartbeat().release_on_stop();
    heartbeat::Callbacks cb;
    // On the heartbeat thread: VIP commands go straight to vip/'s thread, the
    // rest is posted (in order) to the daemon loop.
    cb.onTransition = [this](const heartbeat::Transition& t) {
      if (t.to == heartbeat::State::kMaster) vips_->acquire(t.vipGroups);
      else if (t.to != heartbeat::State::kStop || releaseOnStop_) vips_->release(t.vipGroups);
      asio::post(ctx_.io, [this, t] {
        std::string from = heartbeat::stateName(t.from), to = heartbeat::stateName(t.to);
        std::string reason = heartbeat::reasonName(t.reason);
        ctx_.events.transition("heartbeat", t.instance, from, to, reason, "heartbeat: " + t.line);
        if (ctx_.metrics) metrics::countTransition(*ctx_.metrics, t.instance, from, to);
        ctx_.bus.role.emit(t.instance, from, to, reason);
      });
    };
    cb.onReassert = [this](const std::string&, const std::vector<std::string>& groups) {
      vips_->reannounce(groups);
    };
    auto hb = heartbeat::HeartbeatService::create(c, ctx_.director, cfg->digest, std::move(cb));
    if (!hb) return std::move(hb).takeError();
    hb_ = std::move(*hb);
    ctx_.bus.quorum.connect([this](const std::string& service, bool held) {
      if (hb_) hb_->setQuorum(service, held);
    });
    election_ = electionConfig(c);
    ctx_.control.handle(control::Request::kFailover, [this](const control::Request& q) {
      control::Response r;
      auto st = hb_->failover(q.failover().instance(), std::chrono::seconds(q.failover().duration_s()));
      r.set_ok(st.ok());
      if (!st) r.add_error(st.error().message);
      else
        r.set_text("failover: " + (q.failover().instance().empty() ? std::string("every instance")
                                                                     : q.failover().instance()) +
                   " runs at priority 1" +
                   (q.failover().duration_s() ? " for " + std::to_string(q.failover().duration_s()) + " s"
                                              : std::string(" until the next reload")));
      return r;
    });
    if (auto st = hb_->start(resume); !st) return st;
    if (ctx_.metrics)  // on the loop when scraped; counters() asks the heartbeat thread
      collector_ = ctx_.metrics->registry.addCollector([this] {
        metrics::mirrorHeartbeat(*ctx_.metrics, hb_->counters());
        control::Status s;
        hb_->fillStatus(s);
        metrics::mirrorInstances(*ctx_.metrics, s);
      });
    return okStatus();
  }

  Status reload(const config::ConfigPtr& from, const config::ConfigPtr& to) override {
    if (!hb_) {
      if (to->proto.instance_size() == 0) return okStatus();
      return Error("election instances were added: restart lvsd to start the heartbeat");
    }
    auto groups = vip::groupsFromConfig(to->proto);
    if (!groups) return std::move(groups).takeError();
    vips_->update(std::move(*groups));  // held groups get exactly the difference
    hb_->setConfigDigest(to->digest);
    hb_->endFailovers();  // `lvsctl failover` without a duration lasts until a reload
    if (electionConfig(to->proto) != election_)
      return Error(
          "directors, heartbeat, instances, sync groups, trackers or notify hooks changed: "
          "the running election keeps the previous ones until lvsd restarts");
    return okStatus();
  }

  ~HeartbeatComponent() override { removeCollector(); }

  void stop(bool leave) override {
    removeCollector();
    // heartbeat.release_on_stop decides about the VIPs, not `leave`: keeping
    // them while the backup takes over would put one address on two hosts.
    if (hb_) hb_->stop();
    if (vips_) {
      vips_->sync();
      vips_->stop(false);
    }
  }

  // Instances every VIP of which is on its interface.
  static std::vector<std::string> stillHeld(const config::Config& c,
                                            const std::vector<vip::GroupSpec>& groups,
                                            vip::AddressBackend& backend) {
    std::vector<std::string> out;
    for (const auto& inst : c.instance()) {
      size_t vips = 0, held = 0;
      for (const auto& name : inst.vip_group())
        for (const auto& g : groups)
          if (g.name == name)
            for (const auto& v : g.vips) {
              ++vips;
              auto has = backend.has(v);
              if (has && *has) ++held;
            }
      if (vips == 0 || held != vips) {
        if (held) vipLog()->info("instance={}: {} of {} VIPs still held: starting as usual", inst.name(), held, vips);
        continue;
      }
      vipLog()->info("instance={}: its {} VIP(s) are still held (release_on_stop: false): resuming as MASTER",
                  inst.name(), vips);
      out.push_back(inst.name());
    }
    return out;
  }

  void fillStatus(control::Status& status) const override {
    if (!hb_) return;
    control::Status mine;
    hb_->fillStatus(mine);
    for (const auto& i : mine.instance()) *status.add_instance() = i;
    for (const auto& p : mine.peer()) {
      // Another component may have listed the peer already; merge.
      control::PeerStatus* out = nullptr;
      for (auto& existing : *status.mutable_peer())
        if (existing.name() == p.name()) out = &existing;
      if (!out) {
        *status.add_peer() = p;
        continue;
      }
      if (!p.config_digest().empty()) out->set_config_digest(p.config_digest());
      out->set_config_mismatch(out->config_mismatch() || p.config_mismatch());
      out->set_last_heard_unix_ms(std::max(out->last_heard_unix_ms(), p.last_heard_unix_ms()));
      *out->mutable_links_up() = p.links_up();
    }
  }

  void removeCollector() {
    if (collector_ && ctx_.metrics) ctx_.metrics->registry.removeCollector(collector_);
    collector_ = 0;
  }

  void dumpState(std::vector<std::string>& lines) const override {
    if (hb_)
      for (auto& l : hb_->dumpState()) lines.push_back(std::move(l));
    if (vips_) {
      auto s = vips_->status();
      std::string held;
      for (const auto& g : s.held) held += (held.empty() ? "" : ",") + g;
      const auto& c = s.counters;
      lines.push_back("vip: held=" + (held.empty() ? std::string("-") : held) +
                      " adds=" + std::to_string(c.adds) + " removes=" + std::to_string(c.removes) +
                      " announcements=" + std::to_string(c.announcements) +
                      " errors=" + std::to_string(c.addErrors + c.removeErrors + c.announceErrors));
    }
  }

 private:
  Context& ctx_;
  std::unique_ptr<vip::VipManager> vips_;
  std::unique_ptr<heartbeat::HeartbeatService> hb_;
  bool releaseOnStop_ = true;
  std::string election_;
  uint64_t collector_ = 0;  // metrics collector id
};

}  // namespace

std::unique_ptr<Component> makeHeartbeatComponent(Context& ctx) {
  return std::make_unique<HeartbeatComponent>(ctx);
}

}  // namespace lvsd::daemon
