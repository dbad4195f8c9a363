#include "heartbeat/engine.h"

#include <algorithm>

namespace lvsd::heartbeat {

namespace {

// Frames stay well below a 1500-byte MTU.
constexpr size_t kInstancesPerFrame = 24;

wire::State toWire(State s) {
  switch (s) {
    case State::kInit: return wire::INIT;
    case State::kBackup: return wire::BACKUP;
    case State::kMaster: return wire::MASTER;
    case State::kFault: return wire::FAULT;
    case State::kStop: return wire::STOP;
  }
  return wire::STATE_UNSPECIFIED;
}

VrrpVersion vrrpVersion(Protocol p) {
  return p == Protocol::kVrrp2 ? VrrpVersion::kV2 : VrrpVersion::kV3;
}

}  // namespace

uint64_t Counters::dropped() const {
  uint64_t n = 0;
  for (auto d : drops) n += d;
  return n;
}

Engine::Engine(Model model, const Clock& clock, PacketIo& io, EngineObserver& observer,
               uint64_t bootId)
    : model_(std::move(model)), clock_(clock), io_(io), obs_(observer), bootId_(bootId) {
  const bool learn = model_.protocol != Protocol::kVrrp2;
  for (const auto& in : model_.instances) {
    ElectionParams p;
    p.name = in.name;
    p.priority = in.priority;
    p.preempt = in.preempt;
    p.preemptDelay = in.preemptDelay;
    p.interval = in.interval;
    p.deadCount = model_.deadCount;
    p.learnInterval = learn;
    if (!in.links.empty()) p.self = model_.links[in.links[0]].local;
    elector_.add(std::move(p));
  }
  for (const auto& g : model_.syncGroups) elector_.addSyncGroup(g);
  trackers_.resize(model_.trackers.size());
  // Quorum results come from the health checks; until the first one the
  // service is assumed whole, so a starting director is not faulted by
  // checks that have not run yet.
  for (size_t t = 0; t < model_.trackers.size(); ++t)
    if (model_.trackers[t].kind == TrackerKind::kQuorum) trackers_[t] = {true, true, 0};
  outcome_.resize(model_.instances.size());
  override_.resize(model_.instances.size());
  seq_.assign(model_.links.size(), 0);
  replay_.resize(model_.peers.size() * model_.links.size());
  peers_.resize(model_.peers.size());
  for (auto& p : peers_) p.heard.resize(model_.links.size());
  statusAt_.resize(model_.instances.size());
  mismatchWarned_.assign(model_.instances.size(), false);
}

int64_t Engine::wallMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             clock_.wallNow().time_since_epoch())
      .count();
}

// A peer (or one link to it) not heard for this long is out of reach: the
// longest master-down interval without its skew.
Duration Engine::linkDeadAfter() const {
  Duration longest{0};
  for (const auto& in : model_.instances) longest = std::max(longest, in.interval);
  return longest * model_.deadCount;
}

void Engine::start(const std::vector<std::string>& resume) {
  if (started_) return;
  started_ = true;
  recomputePriorities();
  TimePoint now = clock_.now();
  if (model_.protocol == Protocol::kNative)
    for (auto& s : statusAt_) s = now;  // say hello at once
  std::vector<bool> resumed(model_.instances.size(), false);
  for (size_t i = 0; i < model_.instances.size(); ++i)
    resumed[i] = std::find(resume.begin(), resume.end(), model_.instances[i].name) != resume.end();
  apply(elector_.start(now, resumed));
  onTimer();
}

void Engine::stop() {
  if (!started_ || stopped_) return;
  apply(elector_.stop(clock_.now(), model_.releaseOnStop));
  if (model_.protocol == Protocol::kNative && model_.releaseOnStop) {
    // Tell the peers every non-master instance is gone too (status only).
    for (size_t i = 0; i < model_.instances.size(); ++i)
      if (std::none_of(pending_.begin(), pending_.end(),
                       [&](const Pending& p) { return p.instance == i; }))
        pending_.push_back({i, elector_.at(i).priority(), wire::STOP});
  }
  flush();
  stopped_ = true;
}

std::optional<TimePoint> Engine::nextDeadline() const {
  if (!started_ || stopped_) return std::nullopt;
  auto best = elector_.nextDeadline();
  for (const auto& o : override_)
    if (o.on && o.until && (!best || *o.until < *best)) best = o.until;
  for (size_t i = 0; i < statusAt_.size(); ++i) {
    if (!statusAt_[i] || elector_.at(i).state() == State::kMaster) continue;
    if (!best || *statusAt_[i] < *best) best = statusAt_[i];
  }
  return best;
}

void Engine::onTimer(Duration lateness) {
  if (!started_ || stopped_) return;
  TimePoint now = clock_.now();
  lateness_ = lateness;
  for (size_t i = 0; i < override_.size(); ++i)
    if (override_[i].on && override_[i].until && *override_[i].until <= now) {
      override_[i] = {};
      recomputePriorities();
    }
  apply(elector_.timers(now, lateness));
  for (size_t i = 0; i < statusAt_.size(); ++i) {
    if (!statusAt_[i] || *statusAt_[i] > now) continue;
    const Election& e = elector_.at(i);
    if (e.state() == State::kMaster) continue;  // its adverts are its heartbeat
    pending_.push_back({i, e.priority(), toWire(e.state())});
    statusAt_[i] = now + model_.instances[i].interval;
  }
  flush();
}

void Engine::setTracker(size_t tracker, TrackerStatus status) {
  if (tracker >= trackers_.size()) return;
  trackers_[tracker] = status;
  if (started_ && !stopped_) {
    recomputePriorities();
    flush();
  }
}

void Engine::failover(size_t i, std::optional<TimePoint> until) {
  if (i >= override_.size() || !started_ || stopped_) return;
  override_[i] = {true, until};
  recomputePriorities();
  apply(elector_.yield(i, clock_.now()));
  flush();
}

void Engine::clearFailover(size_t i) {
  if (i >= override_.size() || !override_[i].on) return;
  override_[i] = {};
  if (!started_ || stopped_) return;
  recomputePriorities();
  flush();
}

void Engine::recomputePriorities() {
  TimePoint now = clock_.now();
  for (size_t i = 0; i < model_.instances.size(); ++i) {
    const auto& in = model_.instances[i];
    std::vector<TrackerInput> inputs;
    inputs.reserve(in.trackers.size());
    for (size_t t : in.trackers)
      inputs.push_back({model_.trackers[t].kind, model_.trackers[t].weight, trackers_[t]});
    PriorityOutcome o = effectivePriority(in.priority, inputs);
    if (override_[i].on) o.priority = 1;  // the lowest a live director can advertise
    outcome_[i] = o;
    apply(elector_.setPriority(i, o.priority, now));
    apply(elector_.setFault(i, o.fault, now));
  }
}

void Engine::apply(const Actions& actions) {
  for (const auto& a : actions) {
    const auto& in = model_.instances[a.instance];
    switch (a.kind) {
      case Action::Kind::kSendAdvert:
        // Only a MASTER (or one leaving MASTER with priority 0) advertises.
        pending_.push_back({a.instance, a.priority, wire::MASTER});
        statusAt_[a.instance] = clock_.now() + in.interval;
        break;
      case Action::Kind::kTransition: {
        ++counters_.transitions;
        Transition e;
        e.instance = in.name;
        e.from = a.from;
        e.to = a.to;
        e.reason = a.reason;
        e.priority = a.priority;
        e.unixMs = wallMs();
        e.vipGroups = in.vipGroups;
        e.line = "instance=" + in.name + " " + stateName(a.from) + " -> " + stateName(a.to) +
                 " reason=" + reasonName(a.reason) + " prio=" + std::to_string(a.priority);
        obs_.onTransition(e, a.instance);
        break;
      }
      case Action::Kind::kReassert:
        ++counters_.reasserts;
        obs_.onReassert(in.name, in.vipGroups);
        break;
      case Action::Kind::kStallGrace:
        ++counters_.stallGraces;
        obs_.onNotice(true, "instance=" + in.name + " loop woke up " +
                                std::to_string(toMillis(lateness_)) +
                                " ms late: waiting one more interval for the master");
        break;
      case Action::Kind::kGroupReady:
        break;  // consumed by the Elector
    }
  }
}

void Engine::flush() {
  if (pending_.empty()) return;
  if (model_.protocol == Protocol::kNative) flushNative();
  else flushVrrp();
  pending_.clear();
}

void Engine::flushNative() {
  const int64_t now = wallMs();
  for (size_t l = 0; l < model_.links.size(); ++l) {
    const LinkModel& link = model_.links[l];
    if (link.peers.empty()) continue;
    std::vector<const Pending*> here;
    for (const auto& p : pending_) {
      const auto& links = model_.instances[p.instance].links;
      if (std::find(links.begin(), links.end(), l) != links.end()) here.push_back(&p);
    }
    for (size_t off = 0; off < here.size(); off += kInstancesPerFrame) {
      wire::Heartbeat hb;
      hb.set_version(kNativeVersion);
      hb.set_director(model_.self);
      hb.set_boot_id(bootId_);
      hb.set_sequence(++seq_[l]);
      hb.set_sent_unix_ms(now);
      hb.set_link(link.name);
      hb.set_primary_address(link.local.bytes().data(), link.local.size());
      hb.set_config_digest(model_.digest);
      *hb.mutable_health() = health_;
      for (size_t k = off; k < here.size() && k < off + kInstancesPerFrame; ++k) {
        const auto& in = model_.instances[here[k]->instance];
        auto* ia = hb.add_instance();
        ia->set_name(in.name);
        ia->set_vrid(in.vrid);
        ia->set_priority(here[k]->priority);
        ia->set_state(here[k]->state);
        ia->set_interval_ms(static_cast<uint32_t>(toMillis(in.interval)));
      }
      std::string frame = sealFrame(model_.keys, hb);
      auto bytes = std::span(reinterpret_cast<const uint8_t*>(frame.data()), frame.size());
      for (const auto& peer : link.peers) {
        if (io_.send(l, peer.address, bytes)) ++counters_.sent;
        else ++counters_.sendErrors;
      }
    }
  }
}

void Engine::flushVrrp() {
  for (const auto& p : pending_) {
    if (p.state != wire::MASTER) continue;  // VRRP has no backup heartbeat
    const auto& in = model_.instances[p.instance];
    size_t l = in.links[0];
    const LinkModel& link = model_.links[l];
    VrrpAdvert a;
    a.version = vrrpVersion(model_.protocol);
    a.vrid = in.vrid;
    a.priority = p.priority;
    a.interval = in.interval;
    a.addresses = in.vrrpAddresses;
    std::vector<IpAddress> dsts;
    if (model_.vrrpUnicast)
      for (const auto& peer : link.peers) dsts.push_back(peer.address);
    else
      dsts.push_back(vrrpGroup(link.local.family()));
    for (const auto& dst : dsts) {
      auto msg = encodeVrrp(a, link.local.family(), link.local, dst);
      if (!msg) {
        ++counters_.sendErrors;
        continue;
      }
      if (io_.send(l, dst, *msg)) ++counters_.sent;
      else ++counters_.sendErrors;
    }
  }
}

void Engine::onPacket(const ReceivedPacket& p) {
  if (!started_ || stopped_ || p.link >= model_.links.size()) return;
  if (model_.protocol == Protocol::kNative) onNative(p);
  else onVrrp(p);
  flush();
}

std::optional<IpAddress> Engine::peerAddress(size_t peer, size_t link) const {
  for (const auto& lp : model_.links[link].peers)
    if (lp.peer == peer) return lp.address;
  return std::nullopt;
}

// Order matters: nothing unauthenticated touches state, and the cheap
// checks come first (DoS).
void Engine::onNative(const ReceivedPacket& p) {
  auto opened = openFrame(model_.keys, p.bytes);
  if (!opened.ok()) return drop(opened.drop);
  const wire::Heartbeat& hb = opened.value;
  if (hb.director() == model_.self) return drop(DropReason::kOwnPacket);
  auto peer = model_.peerByName(hb.director());
  if (!peer) return drop(DropReason::kUnknownPeer);
  auto expected = peerAddress(*peer, p.link);
  if (!expected) return drop(DropReason::kUnknownPeer);
  if (*expected != p.src || hb.link() != model_.links[p.link].name)
    return drop(DropReason::kWrongSource);
  DropReason r = replay_[*peer * model_.links.size() + p.link].admit(
      hb.boot_id(), hb.sequence(), hb.sent_unix_ms(), wallMs(),
      toMillis(model_.replayWindow));
  if (r != DropReason::kNone) return drop(r);

  ++counters_.received;
  TimePoint now = clock_.now();
  PeerState& ps = peers_[*peer];
  // Out of reach for longer than it takes to declare a master dead: the
  // peer may have been MASTER all along (split brain) and may have yielded
  // before we ever hear it as one; our MASTERs re-announce.
  const bool returned = ps.heardAny && now - *ps.heardAny > linkDeadAfter();
  ps.heard[p.link] = now;
  ps.heardAny = now;
  ps.lastHeard = clock_.wallNow();
  if (returned)
    for (size_t i = 0; i < model_.instances.size(); ++i) {
      const auto& links = model_.instances[i].links;
      if (std::find(links.begin(), links.end(), p.link) != links.end())
        apply(elector_.peerReturned(i, now));
    }
  if (ps.digest != hb.config_digest()) {
    ps.digest = hb.config_digest();
    if (ps.digest != model_.digest) {
      obs_.onNotice(true, "peer=" + hb.director() + " config digest " + ps.digest.substr(0, 12) +
                              " differs from ours " + model_.digest.substr(0, 12));
    }
  }
  for (const auto& ia : hb.instance()) {
    auto i = model_.instanceByName(ia.name());
    if (!i || model_.instances[*i].vrid != ia.vrid()) {
      drop(DropReason::kUnknownInstance);
      continue;
    }
    const auto& in = model_.instances[*i];
    if (std::find(in.links.begin(), in.links.end(), p.link) == in.links.end()) continue;
    if (ia.state() != wire::MASTER || ia.priority() > 255) continue;
    PeerAdvert a;
    a.priority = static_cast<uint8_t>(ia.priority());
    // Both ends compare the configured addresses on the instance's first link.
    a.from = peerAddress(*peer, in.links[0]).value_or(p.src);
    a.interval = std::chrono::milliseconds(ia.interval_ms());
    apply(elector_.advert(*i, a, now));
  }
}

void Engine::onVrrp(const ReceivedPacket& raw) {
  ReceivedPacket p = raw;
  if (raw.ipv4Header) {
    auto h = parseIpv4(raw.bytes);
    if (!h.ok()) return drop(h.drop);
    if (h.value.protocol != kIpProtoVrrp) return drop(DropReason::kMalformed);
    p.src = h.value.src;
    p.dst = h.value.dst;
    p.ttl = h.value.ttl;
    p.bytes = h.value.payload;
  }
  const LinkModel& link = model_.links[p.link];
  const Family fam = link.local.family();
  auto dec = decodeVrrp(p.bytes, vrrpVersion(model_.protocol), fam, p.src, p.dst);
  if (!dec.ok()) return drop(dec.drop);
  const VrrpAdvert& a = dec.value;
  if (p.src == link.local) return drop(DropReason::kOwnPacket);
  if (model_.vrrpUnicast) {
    if (p.dst != link.local) return drop(DropReason::kWrongDestination);
    bool known = std::any_of(link.peers.begin(), link.peers.end(),
                             [&](const LinkPeer& lp) { return lp.address == p.src; });
    if (!known) return drop(DropReason::kWrongSource);
  } else {
    if (p.dst != vrrpGroup(fam)) return drop(DropReason::kWrongDestination);
    // RFC 5798 §7.1: MUST verify the TTL / hop limit is 255.
    if (p.ttl != kVrrpTtl) return drop(DropReason::kBadTtl);
  }
  std::optional<size_t> inst;
  for (size_t i = 0; i < model_.instances.size(); ++i)
    if (model_.instances[i].vrid == a.vrid && model_.instances[i].links[0] == p.link) inst = i;
  if (!inst) return drop(DropReason::kUnknownInstance);
  const auto& in = model_.instances[*inst];
  if (a.version == VrrpVersion::kV2 && a.interval != in.interval)
    return drop(DropReason::kIntervalMismatch);  // RFC 3768 §7.1

  ++counters_.received;
  TimePoint now = clock_.now();
  auto vp = std::find_if(vrrpPeers_.begin(), vrrpPeers_.end(),
                         [&](const VrrpPeer& v) { return v.address == p.src; });
  if (vp == vrrpPeers_.end()) {
    vrrpPeers_.push_back({p.src, p.link});
    vp = vrrpPeers_.end() - 1;
  }
  vp->heard = now;
  vp->heardWall = clock_.wallNow();
  // RFC 5798 §7.1 lets a router check the address list; keepalived drops a
  // mismatch. We count and warn once but still elect: refusing would make
  // two masters out of a typo.
  std::vector<IpAddress> theirs = a.addresses, ours = in.vrrpAddresses;
  std::sort(theirs.begin(), theirs.end());
  std::sort(ours.begin(), ours.end());
  if (theirs != ours) {
    ++counters_.addressListMismatch;
    if (!mismatchWarned_[*inst]) {
      mismatchWarned_[*inst] = true;
      obs_.onNotice(true, "instance=" + in.name + " peer " + p.src.toString() +
                              " advertises a different address list (" +
                              std::to_string(theirs.size()) + " addresses, we have " +
                              std::to_string(ours.size()) + ")");
    }
  }
  PeerAdvert pa;
  pa.priority = a.priority;
  pa.from = p.src;
  pa.interval = a.interval;
  apply(elector_.advert(*inst, pa, now));
}

std::string Engine::nameOfAddress(const IpAddress& a) const {
  for (const auto& l : model_.links) {
    if (l.local == a) return model_.self;
    for (const auto& lp : l.peers)
      if (lp.address == a) return model_.peers[lp.peer].name;
  }
  return a.toString();
}

EngineSnapshot Engine::snapshot() const {
  EngineSnapshot s;
  TimePoint now = clock_.now();
  int64_t nowMs = wallMs();
  for (size_t i = 0; i < model_.instances.size(); ++i) {
    const Election& e = elector_.at(i);
    InstanceSnapshot is;
    is.name = model_.instances[i].name;
    is.state = e.state();
    is.priority = model_.instances[i].priority;
    is.effectivePriority = e.priority();
    is.fault = e.ownFault();
    if (e.state() == State::kMaster) is.master = model_.self;
    else if (e.master()) is.master = nameOfAddress(*e.master());
    is.sinceUnixMs = started_ ? nowMs - toMillis(now - e.since()) : 0;
    is.lastReason = e.lastReason();
    is.transitions = e.transitions();
    s.instances.push_back(std::move(is));
  }
  const Duration dead = linkDeadAfter();
  if (model_.protocol == Protocol::kNative) {
    for (size_t p = 0; p < model_.peers.size(); ++p) {
      const PeerState& ps = peers_[p];
      PeerSnapshot snap;
      snap.name = model_.peers[p].name;
      snap.configDigest = ps.digest;
      snap.configMismatch = !ps.digest.empty() && ps.digest != model_.digest;
      if (ps.lastHeard)
        snap.lastHeardUnixMs = std::chrono::duration_cast<std::chrono::milliseconds>(
                                   ps.lastHeard->time_since_epoch())
                                   .count();
      for (size_t l = 0; l < model_.links.size(); ++l)
        if (ps.heard[l] && now - *ps.heard[l] <= dead) snap.linksUp.push_back(model_.links[l].name);
      s.peers.push_back(std::move(snap));
    }
  } else {
    for (const auto& vp : vrrpPeers_) {
      PeerSnapshot snap;
      snap.name = nameOfAddress(vp.address);
      snap.lastHeardUnixMs = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 vp.heardWall.time_since_epoch())
                                 .count();
      if (now - vp.heard <= dead) snap.linksUp.push_back(model_.links[vp.link].name);
      s.peers.push_back(std::move(snap));
    }
  }
  s.counters = counters_;
  return s;
}

}  // namespace lvsd::heartbeat
