// SyncManager: wires the kernel sync-daemon controller, the resync sender
// and the peer channel to one io_context plus a worker thread.
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <future>
#include <map>
#include <random>
#include <thread>

#include "core/log.h"
#include "ipvs/ipvs.h"
#include "sync/daemons.h"
#include "sync/peer_channel.h"
#include "sync/peer_protocol.h"
#include "sync/resync.h"
#include "sync/sync.h"

namespace lvsd::sync {

namespace asio = boost::asio;

namespace {

auto syncLog() { return logger("sync"); }

int64_t unixMs(const Clock& c) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(c.wallNow().time_since_epoch())
      .count();
}

std::string describeDaemons(const std::vector<ipvs::SyncDaemon>& ds) {
  std::string s;
  for (const auto& d : ds) {
    if (!s.empty()) s += ", ";
    s += d.state == ipvs::SyncState::kMaster ? "master" : "backup";
    s += " " + d.interface + " syncid " + std::to_string(d.syncId);
    if (d.group) s += " group " + d.group->toString();
    if (d.port) s += " port " + std::to_string(d.port);
  }
  return s.empty() ? "none" : s;
}

Result<std::string> unhex(const std::string& hex) {
  if (hex.size() % 2) return Error("odd number of hex digits");
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    auto v = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    int hi = v(hex[i]), lo = v(hex[i + 1]);
    if (hi < 0 || lo < 0) return Error("not a hex digit");
    out.push_back(char(hi << 4 | lo));
  }
  return out;
}

// The channel's endpoints and credentials from a config; an error when the
// config does not say where this director listens.
Result<ChannelOptions> channelOptions(const config::Config& c, const std::string& self) {
  const auto& pc = c.sync().peer_channel();
  ChannelOptions o;
  o.self = self;
  std::string link = pc.link();
  if (link.empty() && c.heartbeat().link_size() > 0) link = c.heartbeat().link(0).name();
  if (link.empty()) return Error("sync.peer_channel: no heartbeat link to carry the channel");
  for (const auto& d : c.director()) {
    o.directors.insert(d.name());
    const config::LinkAddress* at = nullptr;
    for (const auto& a : d.address())
      if (a.link() == link) at = &a;
    if (!at) {
      if (d.name() == self)
        return Error("sync.peer_channel: director '" + self + "' has no address on link '" +
                     link + "'");
      continue;  // a peer without an address on the link cannot be reached
    }
    auto ip = IpAddress::parse(at->address());
    if (!ip) return Error(ip.error().message).context("director '" + d.name() + "'");
    Endpoint ep(*ip, uint16_t(pc.port()));
    if (d.name() == self)
      o.listen = ep;
    else
      o.peers.push_back({d.name(), ep});
  }
  if (pc.has_psk_hex()) {
    auto k = unhex(pc.psk_hex());
    if (!k) return Error(k.error().message).context("sync.peer_channel.psk_hex");
    o.tls.psk = *k;
  } else {
    o.tls.certFile = pc.cert_file();
    o.tls.keyFile = pc.key_file();
    o.tls.caFile = pc.ca_file();
  }
  o.pingInterval = std::chrono::milliseconds(pc.keepalive_ms() ? pc.keepalive_ms() : 1000);
  return o;
}

bool sameChannel(const ChannelOptions& a, const ChannelOptions& b) {
  if (a.self != b.self || a.directors != b.directors || a.listen != b.listen ||
      !(a.tls == b.tls) || a.pingInterval != b.pingInterval || a.peers.size() != b.peers.size())
    return false;
  for (size_t i = 0; i < a.peers.size(); ++i)
    if (a.peers[i].director != b.peers[i].director || a.peers[i].address != b.peers[i].address)
      return false;
  return true;
}

ResyncTarget resyncTarget(const config::KernelSync& k) {
  ResyncTarget t;
  t.interface = k.interface();
  if (!k.mcast_group().empty())
    if (auto g = IpAddress::parse(k.mcast_group())) t.group = *g;
  t.port = uint16_t(k.port());
  t.ttl = uint8_t(std::min<uint32_t>(k.ttl(), 255));
  t.syncId = uint8_t(k.sync_id());
  t.maxlen = k.maxlen();
  return t;
}

}  // namespace

class SyncManager::Impl {
 public:
  Impl(asio::io_context& io, const Clock& clock, Options o, Callbacks cb)
      : io_(io), clock_(clock), opts_(std::move(o)), cb_(std::move(cb)), retryTimer_(io),
        healthTimer_(io), resyncDelay_(io), sender_(io, clock) {
    if (!opts_.makeBackend) opts_.makeBackend = [] { return ipvs::makeNetlinkBackend(); };
    std::random_device rd;
    bootId_ = (uint64_t(rd()) << 32) ^ rd() ^ uint64_t(unixMs(clock_));
  }
  ~Impl() { shutdown(true); }

  lvsd::Status start(const config::ConfigPtr& cfg);
  lvsd::Status reload(const config::ConfigPtr& cfg);
  void shutdown(bool leave);

  void setRole(const std::string& instance, InstanceRole role);
  void setLocalHealth(HealthView view);
  void peerEnteredBackup(const std::string& peer);
  lvsd::Status requestResync(const std::string& reason, const std::string& peer, uint64_t id);
  SyncStatus status() const;
  std::optional<HealthView> peerHealth(const std::string& peer) const;
  std::vector<MergedRealServer> mergedHealth() const;

 private:
  // Worker thread.
  void startWorker();
  void stopWorker();
  template <typename F>
  void onWorker(F f) {
    asio::post(workIo_, std::move(f));
  }
  // Runs f on the loop unless the manager stopped meanwhile. `alive` is
  // taken on the loop thread before the work is handed to the worker.
  template <typename F>
  void onLoop(const std::weak_ptr<int>& alive, F f) {
    asio::post(io_, [alive, f = std::move(f)]() mutable {
      if (alive.lock()) f();
    });
  }
  ipvs::IpvsBackend* workerBackend(std::string* error);

  // Kernel daemons.
  bool kernelSyncOn() const { return cfg_ && cfg_->proto.sync().kernel().enabled(); }
  bool isMaster() const;
  DaemonSet wantedSet() const;
  void planDaemonsNow(const std::string& reason);
  void daemonsDone(DaemonSet set, DaemonReport report, const std::string& reason);

  // Resync.
  void runResync();
  void resyncPrepared(Result<PreparedResync> p);
  void resyncSent(const PreparedResync& p, const ResyncResult& r);
  void replyResync(const std::string& peer, uint64_t id, bool sent, const std::string& error);
  void askForResync(const std::string& why);

  // Peer channel.
  lvsd::Status startChannel();
  wire::Hello makeHello() const;
  void onPeerUp(const std::string& peer, const wire::Hello& h);
  void onPeerMessage(const std::string& peer, const wire::PeerMessage& m);
  void onPeerDown(const std::string& peer, ChannelError why, const std::string& detail);
  void compareDigest(const std::string& peer, const std::string& digest, uint64_t generation);
  void broadcastDigest();
  void sendHealth(const std::string& peer);
  void scheduleHealth();
  void protocolError(const std::string& peer, ChannelError e, const std::string& detail);

  asio::io_context& io_;
  const Clock& clock_;
  Options opts_;
  Callbacks cb_;
  config::ConfigPtr cfg_;
  uint64_t generation_ = 0;
  uint64_t bootId_ = 0;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
  bool started_ = false;

  // Worker.
  asio::io_context workIo_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> workGuard_;
  std::thread worker_;
  std::unique_ptr<ipvs::IpvsBackend> backend_;  // worker thread only

  // Roles and daemons.
  std::map<std::string, InstanceRole> roles_;
  DaemonSet applied_ = DaemonSet::kNone;  // last set the kernel confirmed
  bool appliedKnown_ = false;
  bool daemonBusy_ = false;
  bool daemonAgain_ = false;
  std::string daemonAgainReason_;
  bool owned_ = false;  // lvsd started daemons in this process
  std::string kernelDaemons_ = "unknown";
  std::string daemonError_;
  uint64_t daemonSwitches_ = 0;
  asio::steady_timer retryTimer_;
  asio::steady_timer healthTimer_;
  Duration retryDelay_ = std::chrono::seconds(1);
  bool needResyncFromPeer_ = false;  // a backup daemon started; ask the master
  bool resyncReceived_ = false;      // a MASTER sent the table since

  // Resync.
  asio::steady_timer resyncDelay_;
  ResyncSender sender_;
  bool resyncBusy_ = false;
  bool resyncAgain_ = false;
  TimePoint resyncStarted_{};
  // Peers to tell when the current / next run is done: (peer, request id).
  std::vector<std::pair<std::string, uint64_t>> resyncWaiters_, resyncNextWaiters_;
  std::string resyncReason_;
  ResyncStatus resyncStatus_;

  // Peer channel.
  std::unique_ptr<PeerChannel> channel_;
  std::optional<ChannelOptions> channelOpts_;
  PeerBook book_;
  std::map<std::string, int64_t> lastHeard_;
  std::map<std::string, uint64_t> protocolErrors_;
  std::map<std::string, uint64_t> connects_;
  HealthView localHealth_;
  bool haveLocalHealth_ = false;
  uint64_t healthVersion_ = 0;
  bool healthScheduled_ = false;
  uint64_t nextResyncRequestId_ = 1;
};

// ---------------------------------------------------------------------------
// Lifecycle

lvsd::Status SyncManager::Impl::start(const config::ConfigPtr& cfg) {
  cfg_ = cfg;
  started_ = true;
  book_.setLocalDigest(cfg->digest);
  startWorker();
  // With election instances, the daemons wait for the first role (it comes
  // from the heartbeat's start at once): a MASTER restarted in place finds
  // its master daemon running and keeps it, instead of switching it to
  // backup and back (a gap in the connection sync). Without instances no
  // role ever comes: the daemons follow the mode now.
  if (kernelSyncOn() && (cfg->proto.instance_size() == 0 || !roles_.empty()))
    planDaemonsNow("start");
  if (cfg->proto.sync().peer_channel().enabled()) {
    if (auto s = startChannel(); !s) return s;
  }
  return okStatus();
}

lvsd::Status SyncManager::Impl::reload(const config::ConfigPtr& cfg) {
  auto old = cfg_;
  cfg_ = cfg;
  ++generation_;
  // Digest first: the peers learn about a drift at once.
  for (const auto& peer : book_.setLocalDigest(cfg->digest)) {
    const auto* e = book_.find(peer);
    syncLog()->log(e->mismatch ? spdlog::level::warn : spdlog::level::info,
               "config: peer={} digest={} local={}: {}", peer, e->digest.substr(0, 12),
               cfg->digest.substr(0, 12), e->mismatch ? "MISMATCH" : "match");
    if (cb_.onConfigCompared) cb_.onConfigCompared(peer, e->mismatch, e->digest);
  }
  lvsd::Status result = okStatus();
  const auto& pc = cfg->proto.sync().peer_channel();
  if (!pc.enabled()) {
    if (channel_) {
      channel_->stop();
      channel_.reset();
      channelOpts_.reset();
    }
  } else {
    auto o = channelOptions(cfg->proto, opts_.director);
    if (!o) {
      result = std::move(o).takeError();
    } else if (!channel_ || !channelOpts_ || !sameChannel(*channelOpts_, *o)) {
      if (channel_) channel_->stop();
      channel_.reset();
      if (auto s = startChannel(); !s) result = s;
    }
  }
  broadcastDigest();
  bool kernelChanged = !old || old->proto.sync().kernel().SerializeAsString() !=
                                   cfg->proto.sync().kernel().SerializeAsString();
  if (kernelSyncOn() && kernelChanged) {
    appliedKnown_ = false;
    planDaemonsNow("reload");
  } else if (!kernelSyncOn() && owned_) {
    planDaemonsNow("reload: kernel sync disabled");
  }
  return result;
}

void SyncManager::Impl::shutdown(bool leave) {
  if (!started_) return;
  started_ = false;
  retryTimer_.cancel();
  healthTimer_.cancel();
  resyncDelay_.cancel();
  sender_.cancel();
  if (channel_) {
    channel_->stop();
    channel_.reset();
  }
  if (!leave && owned_ && !opts_.dryRun) {
    // Stop what lvsd started; wait (bounded) for the worker to do it.
    auto done = std::make_shared<std::promise<DaemonReport>>();
    auto fut = done->get_future();
    onWorker([this, done] {
      std::string err;
      DaemonReport r;
      if (auto* b = workerBackend(&err))
        r = DaemonController(*b).reconcile(WantedDaemons{});
      else
        r.errors.push_back(err);
      done->set_value(std::move(r));
    });
    if (fut.wait_for(std::chrono::seconds(3)) == std::future_status::ready) {
      auto r = fut.get();
      for (const auto& e : r.errors) syncLog()->warn("sync: stop daemons: {}", e);
      syncLog()->info("sync: daemons {} -> none reason=stop", daemonSetName(applied_));
    } else {
      syncLog()->warn("sync: stop daemons: no answer within 3 s");
    }
  }
  alive_ = std::make_shared<int>(0);  // drops loop callbacks still queued
  stopWorker();
}

void SyncManager::Impl::startWorker() {
  workGuard_.emplace(workIo_.get_executor());
  worker_ = std::thread([this] { workIo_.run(); });
}

void SyncManager::Impl::stopWorker() {
  workGuard_.reset();
  workIo_.stop();
  if (worker_.joinable()) worker_.join();
  backend_.reset();
  workIo_.restart();
}

ipvs::IpvsBackend* SyncManager::Impl::workerBackend(std::string* error) {
  if (backend_) return backend_.get();
  auto b = opts_.makeBackend();
  if (!b) {
    *error = "IPVS netlink: " + b.error().message;
    return nullptr;
  }
  backend_ = std::move(*b);
  return backend_.get();
}

// ---------------------------------------------------------------------------
// Roles and kernel daemons

bool SyncManager::Impl::isMaster() const {
  for (const auto& [i, r] : roles_)
    if (r == InstanceRole::kMaster) return true;
  return false;
}

DaemonSet SyncManager::Impl::wantedSet() const {
  if (!kernelSyncOn()) return DaemonSet::kNone;
  std::vector<InstanceRole> roles;
  for (const auto& [i, r] : roles_)
    if (r != InstanceRole::kStop) roles.push_back(r);
  return daemonsFor(cfg_->proto.sync().kernel().mode(), roles);
}

void SyncManager::Impl::setRole(const std::string& instance, InstanceRole role) {
  auto it = roles_.find(instance);
  if (it != roles_.end() && it->second == role) return;
  bool wasMaster = isMaster();
  roles_[instance] = role;
  broadcastDigest();  // carries the roles
  if (!started_) return;
  // STOP is the election shutting down (lvsd stopping or reloading it): the
  // daemons stay as they are; stop(leave) decides what happens to them.
  if (kernelSyncOn() && role != InstanceRole::kStop)
    planDaemonsNow("role " + instance + "=" + roleName(role));
  if (wasMaster && !isMaster()) {
    // No longer the one with the authoritative table.
    sender_.cancel();
  }
}

void SyncManager::Impl::planDaemonsNow(const std::string& reason) {
  if (daemonBusy_) {
    daemonAgain_ = true;
    daemonAgainReason_ = reason;
    return;
  }
  DaemonSet set = wantedSet();
  auto wanted = kernelSyncOn() ? wantedDaemons(cfg_->proto.sync().kernel(), set)
                               : Result<WantedDaemons>(WantedDaemons{});
  if (!wanted) {
    daemonError_ = wanted.error().message;
    syncLog()->error("sync: daemons: {}", daemonError_);
    return;
  }
  if (appliedKnown_ && set == applied_ && daemonError_.empty()) return;
  if (opts_.dryRun) {
    syncLog()->info("sync: daemons {} -> {} reason=\"{}\" (dry run: nothing sent)",
                daemonSetName(applied_), daemonSetName(set), reason);
    applied_ = set;
    appliedKnown_ = true;
    kernelDaemons_ = "dry-run";
    return;
  }
  daemonBusy_ = true;
  std::weak_ptr<int> alive = alive_;
  onWorker([this, alive, set, w = *wanted, reason] {
    std::string err;
    DaemonReport r;
    if (auto* b = workerBackend(&err))
      r = DaemonController(*b).reconcile(w);
    else
      r.errors.push_back(err);
    onLoop(alive, [this, set, r = std::move(r), reason]() mutable {
      daemonsDone(set, std::move(r), reason);
    });
  });
}

void SyncManager::Impl::daemonsDone(DaemonSet set, DaemonReport r, const std::string& reason) {
  daemonBusy_ = false;
  for (const auto& op : r.ops) syncLog()->debug("sync: daemon {}", op.toString());
  if (!r.ops.empty()) owned_ = true;
  if (!r.running.empty() || r.ok()) kernelDaemons_ = describeDaemons(r.running);
  DaemonSet before = applied_;
  if (r.ok()) {
    if (!appliedKnown_ || before != set) {
      ++daemonSwitches_;
      syncLog()->info("sync: daemons {} -> {} reason=\"{}\" kernel=\"{}\"",
                  appliedKnown_ ? daemonSetName(before) : "unknown", daemonSetName(set), reason,
                  kernelDaemons_);
    }
    bool backupStarted = (uint8_t(set) & uint8_t(DaemonSet::kBackup)) &&
                         (!appliedKnown_ || !(uint8_t(before) & uint8_t(DaemonSet::kBackup)));
    applied_ = set;
    appliedKnown_ = true;
    daemonError_.clear();
    retryDelay_ = std::chrono::seconds(1);
    if (backupStarted) {
      resyncReceived_ = false;
      askForResync("backup daemon started");
    }
  } else {
    daemonError_ = r.errors.front();
    for (const auto& e : r.errors) syncLog()->error("sync: daemons -> {}: {}", daemonSetName(set), e);
    // Try again later; the kernel (or the module) may come back.
    retryTimer_.expires_after(retryDelay_);
    retryDelay_ = std::min<Duration>(retryDelay_ * 2, std::chrono::seconds(30));
    std::weak_ptr<int> alive = alive_;
    retryTimer_.async_wait([this, alive](const boost::system::error_code& ec) {
      if (ec || !alive.lock() || !started_) return;
      planDaemonsNow("retry");
    });
  }
  if (daemonAgain_) {
    daemonAgain_ = false;
    planDaemonsNow(daemonAgainReason_);
  }
}

// ---------------------------------------------------------------------------
// Resync

void SyncManager::Impl::askForResync(const std::string& why) {
  needResyncFromPeer_ = true;
  if (!channel_) return;
  wire::PeerMessage m;
  m.mutable_resync_request()->set_id(nextResyncRequestId_++);
  m.mutable_resync_request()->set_reason(why);
  size_t n = channel_->broadcast(m);
  if (n) {
    needResyncFromPeer_ = false;
    syncLog()->info("sync: asked {} peer(s) for a full resync reason=\"{}\"", n, why);
  }
}

lvsd::Status SyncManager::Impl::requestResync(const std::string& reason, const std::string& peer,
                                              uint64_t id) {
  auto refuse = [&](const std::string& why) -> lvsd::Status {
    if (!peer.empty()) replyResync(peer, id, false, why);
    return Error("resync: " + why);
  };
  if (!started_) return refuse("not running");
  if (!cfg_->proto.sync().resync().enabled()) return refuse("resync disabled in the config");
  if (cfg_->proto.sync().kernel().interface().empty())
    return refuse("no sync interface (sync.kernel.interface)");
  if (!isMaster()) return refuse("not MASTER of any instance");
  if (resyncBusy_) {
    // A run that started a moment ago already covers this request.
    bool fresh = clock_.now() - resyncStarted_ < std::chrono::milliseconds(500);
    if (!peer.empty()) (fresh ? resyncWaiters_ : resyncNextWaiters_).push_back({peer, id});
    if (!fresh) resyncAgain_ = true;
    return okStatus();
  }
  if (!peer.empty()) resyncWaiters_.push_back({peer, id});
  resyncReason_ = reason;
  runResync();
  return okStatus();
}

void SyncManager::Impl::runResync() {
  resyncBusy_ = true;
  resyncStatus_.running = true;
  resyncStarted_ = clock_.now();
  ResyncTarget target = resyncTarget(cfg_->proto.sync().kernel());
  std::string proc = opts_.connProcPath;
  syncLog()->info("sync: resync start reason=\"{}\"", resyncReason_);
  std::weak_ptr<int> alive = alive_;
  onWorker([this, alive, target, proc] {
    std::string err;
    ipvs::Table services;
    if (auto* b = workerBackend(&err)) {
      if (auto t = ipvs::readTable(*b))
        services = std::move(*t);
      else
        syncLog()->warn("sync: resync: reading the service table: {} (forwarding methods unknown)",
                    t.error().message);
    } else {
      syncLog()->warn("sync: resync: {} (forwarding methods unknown)", err);
    }
    auto p = prepareResync(proc, services, target);
    onLoop(alive, [this, p = std::move(p)]() mutable { resyncPrepared(std::move(p)); });
  });
}

void SyncManager::Impl::resyncPrepared(Result<PreparedResync> p) {
  if (!p) {
    resyncSent(PreparedResync{}, ResyncResult{0, 0, 0, Duration(0), p.error().message});
    return;
  }
  auto prepared = std::make_shared<PreparedResync>(std::move(*p));
  if (!isMaster()) {
    resyncSent(*prepared, ResyncResult{0, 0, 0, Duration(0), "no longer MASTER"});
    return;
  }
  if (opts_.dryRun) {
    ResyncResult r;
    r.error = "dry run: nothing sent";
    resyncSent(*prepared, r);
    return;
  }
  const auto& rs = cfg_->proto.sync().resync();
  uint32_t rate = rs.max_pps() ? rs.max_pps() : 20000;
  auto datagrams = std::move(prepared->datagrams);
  prepared->datagrams.clear();
  auto s = sender_.start(std::move(datagrams), resyncTarget(cfg_->proto.sync().kernel()), rate,
                         defaultBurst(rate),
                         [this, prepared](const ResyncResult& r) { resyncSent(*prepared, r); });
  if (!s) resyncSent(*prepared, ResyncResult{0, 0, 0, Duration(0), s.error().message});
}

void SyncManager::Impl::resyncSent(const PreparedResync& p, const ResyncResult& r) {
  resyncBusy_ = false;
  resyncStatus_.running = false;
  ++resyncStatus_.runs;
  resyncStatus_.entries = r.error.empty() ? p.entries : 0;
  resyncStatus_.datagrams = r.datagrams;
  resyncStatus_.skipped = p.skipped;
  resyncStatus_.unresolved = p.unresolved;
  resyncStatus_.durationMs = toMillis(clock_.now() - resyncStarted_);
  resyncStatus_.lastError = r.error;
  if (r.error.empty()) {
    syncLog()->info(
        "sync: resync done entries={} connections={} templates={} datagrams={} bytes={} "
        "limit={} skipped={}{} unresolved={} malformed={} waits={} ms={}",
        p.entries, p.connections, p.templates, r.datagrams, r.bytes, p.datagramLimit, p.skipped,
        p.skipDetail.empty() ? "" : " (" + p.skipDetail + ")", p.unresolved, p.malformed, r.waits,
        resyncStatus_.durationMs);
  } else {
    syncLog()->warn("sync: resync failed after {} datagram(s): {}", r.datagrams, r.error);
  }
  auto waiters = std::move(resyncWaiters_);
  resyncWaiters_.clear();
  for (const auto& [peer, id] : waiters) {
    if (!channel_) break;
    wire::PeerMessage m;
    auto* d = m.mutable_resync_done();
    d->set_id(id);
    d->set_sent(r.error.empty());
    d->set_entries(r.error.empty() ? p.entries : 0);
    d->set_datagrams(r.datagrams);
    d->set_skipped(p.skipped);
    d->set_duration_ms(uint32_t(resyncStatus_.durationMs));
    d->set_error(r.error);
    channel_->send(peer, std::move(m));
  }
  if (resyncAgain_ && started_) {
    resyncAgain_ = false;
    resyncWaiters_ = std::move(resyncNextWaiters_);
    resyncNextWaiters_.clear();
    if (isMaster()) {
      resyncReason_ = "queued request";
      runResync();
    }
  }
}

void SyncManager::Impl::replyResync(const std::string& peer, uint64_t id, bool sent,
                                    const std::string& error) {
  if (!channel_) return;
  wire::PeerMessage m;
  m.mutable_resync_done()->set_id(id);
  m.mutable_resync_done()->set_sent(sent);
  m.mutable_resync_done()->set_error(error);
  channel_->send(peer, std::move(m));
}

void SyncManager::Impl::peerEnteredBackup(const std::string& peer) {
  if (!started_ || !isMaster()) return;
  // Give the peer's kernel a moment to start its backup daemon; a request
  // it sends over the channel meanwhile joins the same run.
  resyncDelay_.expires_after(std::chrono::milliseconds(300));
  std::weak_ptr<int> alive = alive_;
  resyncDelay_.async_wait([this, alive, peer](const boost::system::error_code& ec) {
    if (ec || !alive.lock()) return;
    if (auto s = requestResync("peer " + peer + " entered BACKUP", "", 0); !s)
      syncLog()->warn("sync: {}", s.error().message);
  });
}

// ---------------------------------------------------------------------------
// Peer channel

lvsd::Status SyncManager::Impl::startChannel() {
  auto o = channelOptions(cfg_->proto, opts_.director);
  if (!o) return std::move(o).takeError();
  o->seed = opts_.seed;
  channelOpts_ = *o;
  ChannelCallbacks cb;
  cb.makeHello = [this] { return makeHello(); };
  cb.onUp = [this](const std::string& p, const wire::Hello& h) { onPeerUp(p, h); };
  cb.onMessage = [this](const std::string& p, const wire::PeerMessage& m) { onPeerMessage(p, m); };
  cb.onDown = [this](const std::string& p, ChannelError e, const std::string& d) {
    onPeerDown(p, e, d);
  };
  channel_ = std::make_unique<PeerChannel>(io_, clock_, *o, std::move(cb));
  if (auto s = channel_->start(); !s) {
    channel_.reset();
    channelOpts_.reset();
    return s;
  }
  return okStatus();
}

wire::Hello SyncManager::Impl::makeHello() const {
  wire::Hello h;
  h.set_version(kPeerProtocolVersion);
  h.set_director(opts_.director);
  h.set_boot_id(bootId_);
  h.set_config_digest(cfg_ ? cfg_->digest : "");
  h.set_config_generation(generation_);
  toProto(roles_, h.mutable_role());
  return h;
}

void SyncManager::Impl::onPeerUp(const std::string& peer, const wire::Hello& h) {
  lastHeard_[peer] = unixMs(clock_);
  ++connects_[peer];
  book_.peerHello(peer, h.boot_id());
  if (auto roles = fromProto(h.role())) book_.peerRoles(peer, std::move(*roles));
  compareDigest(peer, h.config_digest(), h.config_generation());
  if (cb_.onPeerChannel) cb_.onPeerChannel(peer, true, "");
  if (haveLocalHealth_) sendHealth(peer);
  if (needResyncFromPeer_ && (uint8_t(applied_) & uint8_t(DaemonSet::kBackup)))
    askForResync("peer channel up while the backup daemon runs");
}

void SyncManager::Impl::onPeerMessage(const std::string& peer, const wire::PeerMessage& m) {
  lastHeard_[peer] = unixMs(clock_);
  switch (m.body_case()) {
    case wire::PeerMessage::kConfig: {
      auto roles = fromProto(m.config().role());
      if (!roles) return protocolError(peer, ChannelError::kBadContent, roles.error().message);
      bool peerMaster = false;
      for (const auto& [instance, role] : *roles) peerMaster |= role == InstanceRole::kMaster;
      book_.peerRoles(peer, std::move(*roles));
      compareDigest(peer, m.config().digest(), m.config().generation());
      // Our request found no MASTER earlier (both were starting); this peer
      // has become one since.
      if (peerMaster && needResyncFromPeer_ && (uint8_t(applied_) & uint8_t(DaemonSet::kBackup)))
        askForResync("peer " + peer + " became MASTER");
      break;
    }
    case wire::PeerMessage::kHealth: {
      auto view = fromProto(m.health());
      if (!view) return protocolError(peer, ChannelError::kBadContent, view.error().message);
      if (book_.peerHealth(peer, m.health().version(), *view) && cb_.onPeerHealth)
        cb_.onPeerHealth(peer, *view);
      break;
    }
    case wire::PeerMessage::kResyncRequest: {
      const auto& r = m.resync_request();
      syncLog()->info("sync: peer={} asks for a resync id={} reason=\"{}\"", peer, r.id(), r.reason());
      if (auto s = requestResync("peer " + peer + ": " + r.reason(), peer, r.id()); !s)
        syncLog()->info("sync: peer={} resync declined: {}", peer, s.error().message);
      break;
    }
    case wire::PeerMessage::kResyncDone: {
      const auto& d = m.resync_done();
      if (d.sent())
        syncLog()->info("sync: peer={} sent a full resync entries={} datagrams={} ms={}", peer,
                    d.entries(), d.datagrams(), d.duration_ms());
      else
        syncLog()->info("sync: peer={} did not resync: {}", peer, d.error());
      // Ask again when a peer announces that it became MASTER, unless some
      // MASTER has already sent the table.
      if (d.sent())
        resyncReceived_ = true;
      else if (!resyncReceived_)
        needResyncFromPeer_ = true;
      break;
    }
    default:
      break;  // Ping: liveness only
  }
}

void SyncManager::Impl::protocolError(const std::string& peer, ChannelError e,
                                      const std::string& detail) {
  // Content that passed framing but not our checks: counted and logged; the
  // rest of the peer's messages are still useful, so the link stays.
  ++protocolErrors_[peer];
  syncLog()->warn("peer-channel: peer={} reason={} detail=\"{}\" (message ignored)", peer,
              channelErrorName(e), detail);
}

void SyncManager::Impl::onPeerDown(const std::string& peer, ChannelError why,
                                   const std::string& detail) {
  if (cb_.onPeerChannel) cb_.onPeerChannel(peer, false, std::string(channelErrorName(why)) + ": " + detail);
}

void SyncManager::Impl::compareDigest(const std::string& peer, const std::string& digest,
                                      uint64_t generation) {
  if (!book_.peerDigest(peer, digest, generation)) return;
  bool mismatch = book_.find(peer)->mismatch;
  if (mismatch)
    syncLog()->warn("config: peer={} digest={} local={}: MISMATCH (the directors run different configs)",
                peer, digest.substr(0, 12), cfg_->digest.substr(0, 12));
  else
    syncLog()->info("config: peer={} digest={}: match", peer, digest.substr(0, 12));
  if (cb_.onConfigCompared) cb_.onConfigCompared(peer, mismatch, digest);
}

void SyncManager::Impl::broadcastDigest() {
  if (!channel_ || !cfg_) return;
  wire::PeerMessage m;
  m.mutable_config()->set_digest(cfg_->digest);
  m.mutable_config()->set_generation(generation_);
  toProto(roles_, m.mutable_config()->mutable_role());
  channel_->broadcast(m);
}

void SyncManager::Impl::setLocalHealth(HealthView view) {
  if (haveLocalHealth_ && view == localHealth_) return;
  localHealth_ = std::move(view);
  haveLocalHealth_ = true;
  scheduleHealth();
}

void SyncManager::Impl::scheduleHealth() {
  if (healthScheduled_ || !channel_) return;
  healthScheduled_ = true;
  // Coalesce bursts of changes (a reload, a flapping pool) into one report.
  healthTimer_.expires_after(std::chrono::milliseconds(50));
  std::weak_ptr<int> alive = alive_;
  healthTimer_.async_wait([this, alive](const boost::system::error_code& ec) {
    if (!alive.lock()) return;
    healthScheduled_ = false;
    if (ec || !channel_) return;
    for (const auto& p : channel_->connectedPeers()) sendHealth(p);
  });
}

void SyncManager::Impl::sendHealth(const std::string& peer) {
  wire::PeerMessage m;
  m.mutable_health()->set_version(++healthVersion_);
  toProto(localHealth_, m.mutable_health());
  channel_->send(peer, std::move(m));
}

// ---------------------------------------------------------------------------
// Status

SyncStatus SyncManager::Impl::status() const {
  SyncStatus s;
  s.daemons = daemonSetName(wantedSet());
  s.kernelDaemons = kernelSyncOn() ? kernelDaemons_ : "not managed";
  s.daemonError = daemonError_;
  s.daemonSwitches = daemonSwitches_;
  s.resync = resyncStatus_;
  if (cfg_) {
    for (const auto& d : cfg_->proto.director()) {
      if (d.name() == opts_.director) continue;
      PeerStatus p;
      p.director = d.name();
      if (channelOpts_)
        for (const auto& pe : channelOpts_->peers)
          if (pe.director == d.name()) p.address = pe.address.toString();
      p.connected = channel_ && channel_->connected(d.name());
      if (const auto* e = book_.find(d.name())) {
        p.configDigest = e->digest;
        p.configMismatch = e->compared && e->mismatch;
        p.hasHealth = e->health.has_value();
      }
      if (auto it = lastHeard_.find(d.name()); it != lastHeard_.end()) p.lastHeardUnixMs = it->second;
      if (channel_) p.lastError = channel_->lastError(d.name());
      if (auto it = connects_.find(d.name()); it != connects_.end()) p.connects = it->second;
      if (auto it = protocolErrors_.find(d.name()); it != protocolErrors_.end())
        p.protocolErrors = it->second;
      s.peers.push_back(std::move(p));
    }
  }
  if (channel_) {
    const auto& c = channel_->counters();
    for (size_t i = 0; i < kChannelErrorCount; ++i)
      if (c.errors[i]) s.channelErrors.push_back({channelErrorName(ChannelError(i)), c.errors[i]});
  }
  return s;
}

std::optional<HealthView> SyncManager::Impl::peerHealth(const std::string& peer) const {
  const auto* e = book_.find(peer);
  if (!e || !e->health) return std::nullopt;
  return e->health;
}

std::vector<MergedRealServer> SyncManager::Impl::mergedHealth() const {
  std::vector<std::pair<std::string, HealthView>> peers;
  for (const auto& [name, e] : book_.entries())
    if (e.health) peers.push_back({name, *e.health});
  return mergeHealth(localHealth_, peers);
}

// ---------------------------------------------------------------------------

SyncManager::SyncManager(asio::io_context& io, const Clock& clock, Options options,
                         Callbacks callbacks)
    : impl_(std::make_unique<Impl>(io, clock, std::move(options), std::move(callbacks))) {}
SyncManager::~SyncManager() = default;
lvsd::Status SyncManager::start(const config::ConfigPtr& cfg) { return impl_->start(cfg); }
lvsd::Status SyncManager::reload(const config::ConfigPtr& cfg) { return impl_->reload(cfg); }
void SyncManager::stop(bool leave) { impl_->shutdown(leave); }
void SyncManager::setRole(const std::string& instance, InstanceRole role) {
  impl_->setRole(instance, role);
}
void SyncManager::setLocalHealth(HealthView view) { impl_->setLocalHealth(std::move(view)); }
void SyncManager::peerEnteredBackup(const std::string& peer) { impl_->peerEnteredBackup(peer); }
lvsd::Status SyncManager::requestResync(const std::string& reason) {
  return impl_->requestResync(reason, "", 0);
}
SyncStatus SyncManager::status() const { return impl_->status(); }
std::optional<HealthView> SyncManager::peerHealth(const std::string& peer) const {
  return impl_->peerHealth(peer);
}
std::vector<MergedRealServer> SyncManager::mergedHealth() const { return impl_->mergedHealth(); }

}  // namespace lvsd::sync
