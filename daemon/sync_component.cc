// The sync component: kernel sync daemons that follow the election roles,
// full-table resyncs to a peer entering BACKUP, and the TLS peer channel
// (health, weights, config digests). sync/ does the work; this file only
// connects it to the bus, the event log and `lvsctl status`.
#include <memory>

#include "core/log.h"
#include "daemon/component.h"
#include "daemon/event_log.h"
#include "daemon/metrics_mirror.h"
#include "sync/sync.h"

namespace lvsd::daemon {
namespace {

class SyncComponent final : public Component {
 public:
  explicit SyncComponent(Context& ctx) : ctx_(ctx) {}

  const char* name() const override { return "sync"; }

  Status start(const config::ConfigPtr& cfg) override {
    sync::Options o;
    o.director = ctx_.director;
    o.dryRun = ctx_.dryRun;
    sync::Callbacks cb;
    cb.onConfigCompared = [this](const std::string& peer, bool mismatch,
                                 const std::string& digest) {
      control::Event e;
      e.set_module("sync");
      e.set_kind("config-digest");
      e.set_subject(peer);
      e.set_to(mismatch ? "MISMATCH" : "MATCH");
      e.set_reason("peer digest " + digest.substr(0, 12));
      ctx_.events.publish(std::move(e));
    };
    cb.onPeerChannel = [this](const std::string& peer, bool up, const std::string& reason) {
      ctx_.events.transition("sync", "peer-channel " + peer, up ? "DOWN" : "UP",
                             up ? "UP" : "DOWN", up ? "connected" : reason, "");
    };
    manager_ = std::make_unique<sync::SyncManager>(ctx_.io, ctx_.clock, std::move(o), std::move(cb));
    // Election roles arrive on the bus from the heartbeat component (which
    // starts after this one, so no transition is missed).
    ctx_.bus.role.connect([this](const std::string& instance, const std::string&,
                                 const std::string& to, const std::string&) {
      if (!manager_) return;
      if (auto r = roleFromName(to)) manager_->setRole(instance, *r);
    });
    if (auto st = manager_->start(cfg); !st) return st;
    if (ctx_.metrics)  // read when scraped (on the loop, like status)
      collector_ = ctx_.metrics->registry.addCollector(
          [this] { metrics::mirrorSync(*ctx_.metrics, manager_->status()); });
    return okStatus();
  }

  Status reload(const config::ConfigPtr&, const config::ConfigPtr& to) override {
    return manager_->reload(to);
  }

  ~SyncComponent() override { removeCollector(); }

  void stop(bool leave) override {
    removeCollector();
    if (manager_) manager_->stop(leave);
  }

  void removeCollector() {
    if (collector_ && ctx_.metrics) ctx_.metrics->registry.removeCollector(collector_);
    collector_ = 0;
  }

  void fillStatus(control::Status& status) const override {
    if (!manager_) return;
    auto s = manager_->status();
    for (const auto& p : s.peers) {
      // Heartbeat may have added the peer already (liveness, links); merge.
      control::PeerStatus* out = nullptr;
      for (auto& existing : *status.mutable_peer())
        if (existing.name() == p.director) out = &existing;
      if (!out) {
        out = status.add_peer();
        out->set_name(p.director);
      }
      if (!p.configDigest.empty()) out->set_config_digest(p.configDigest);
      out->set_config_mismatch(out->config_mismatch() || p.configMismatch);
      out->set_last_heard_unix_ms(std::max(out->last_heard_unix_ms(), p.lastHeardUnixMs));
    }
  }

  void dumpState(std::vector<std::string>& lines) const override {
    if (!manager_) return;
    auto s = manager_->status();
    lines.push_back("sync: daemons=" + s.daemons + " kernel=\"" + s.kernelDaemons +
                    "\" switches=" + std::to_string(s.daemonSwitches) +
                    (s.daemonError.empty() ? "" : " error=\"" + s.daemonError + "\""));
    lines.push_back("sync: resync runs=" + std::to_string(s.resync.runs) +
                    " entries=" + std::to_string(s.resync.entries) +
                    " datagrams=" + std::to_string(s.resync.datagrams) +
                    " ms=" + std::to_string(s.resync.durationMs) +
                    (s.resync.lastError.empty() ? "" : " error=\"" + s.resync.lastError + "\""));
    for (const auto& p : s.peers)
      lines.push_back("sync: peer=" + p.director + " connected=" + (p.connected ? "yes" : "no") +
                      " address=" + p.address + " digest=" + p.configDigest.substr(0, 12) +
                      " mismatch=" + (p.configMismatch ? "yes" : "no") +
                      " connects=" + std::to_string(p.connects) +
                      " protocol_errors=" + std::to_string(p.protocolErrors) +
                      (p.lastError.empty() ? "" : " last_error=\"" + p.lastError + "\""));
    std::string errs;
    for (const auto& [reason, n] : s.channelErrors) errs += " " + reason + "=" + std::to_string(n);
    if (!errs.empty()) lines.push_back("sync: channel closes" + errs);
  }

 private:
  static std::optional<sync::InstanceRole> roleFromName(const std::string& s) {
    for (auto r : {sync::InstanceRole::kInit, sync::InstanceRole::kBackup,
                   sync::InstanceRole::kMaster, sync::InstanceRole::kFault,
                   sync::InstanceRole::kStop})
      if (s == sync::roleName(r)) return r;
    return std::nullopt;
  }

  Context& ctx_;
  std::unique_ptr<sync::SyncManager> manager_;
  uint64_t collector_ = 0;  // metrics collector id
};

}  // namespace

std::unique_ptr<Component> makeSyncComponent(Context& ctx) {
  return std::make_unique<SyncComponent>(ctx);
}

}  // namespace lvsd::daemon
