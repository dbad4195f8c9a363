#include "heartbeat/model.h"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace lvsd::heartbeat {

namespace {

NotifyModel toNotify(const config::Notify& n) {
  NotifyModel m;
  m.onMaster.assign(n.on_master().begin(), n.on_master().end());
  m.onBackup.assign(n.on_backup().begin(), n.on_backup().end());
  m.onFault.assign(n.on_fault().begin(), n.on_fault().end());
  m.onStop.assign(n.on_stop().begin(), n.on_stop().end());
  m.onChange.assign(n.on_change().begin(), n.on_change().end());
  m.timeout = std::chrono::milliseconds(n.timeout_ms());
  return m;
}

Result<std::vector<uint8_t>> loadSecret(const config::Key& k) {
  if (k.has_secret_hex()) return parseHexSecret(k.secret_hex());
  std::ifstream in(k.secret_file());
  if (!in) return Error("cannot read secret_file " + k.secret_file(), errno);
  std::ostringstream ss;
  ss << in.rdbuf();
  auto s = parseHexSecret(ss.str());
  if (!s) return Error(s.error().message).context("secret_file " + k.secret_file());
  return s;
}

template <typename T>
std::optional<size_t> indexOf(const std::vector<T>& v, std::string_view name) {
  for (size_t i = 0; i < v.size(); ++i)
    if (v[i].name == name) return i;
  return std::nullopt;
}

}  // namespace

std::optional<size_t> Model::instanceByName(std::string_view n) const { return indexOf(instances, n); }
std::optional<size_t> Model::peerByName(std::string_view n) const { return indexOf(peers, n); }
std::optional<size_t> Model::linkByName(std::string_view n) const { return indexOf(links, n); }

Result<Model> buildModel(const config::Config& cfg, const std::string& self,
                         const std::string& digest) {
  Model m;
  m.self = self;
  m.digest = digest;
  const config::Director* me = config::findDirector(cfg, self);
  if (!me) return Error("director " + self + " is not in the config");
  const auto& hb = cfg.heartbeat();
  switch (hb.protocol()) {
    case config::Heartbeat::NATIVE: m.protocol = Protocol::kNative; break;
    case config::Heartbeat::VRRP3: m.protocol = Protocol::kVrrp3; break;
    case config::Heartbeat::VRRP2: m.protocol = Protocol::kVrrp2; break;
  }
  m.deadCount = hb.dead_count();
  m.port = static_cast<uint16_t>(hb.port());
  m.replayWindow = std::chrono::milliseconds(hb.replay_window_ms());
  m.dscp = static_cast<uint8_t>(hb.dscp() & 63);
  m.realtimePriority = hb.realtime_priority();
  m.releaseOnStop = hb.release_on_stop();
  m.vrrpUnicast = hb.vrrp_unicast();
  if (cfg.has_notify()) m.notify = toNotify(cfg.notify());

  for (const auto& d : cfg.director())
    if (d.name() != self) m.peers.push_back({d.name()});

  for (const auto& l : hb.link()) {
    LinkModel lm;
    lm.name = l.name();
    lm.interface = l.interface();
    bool haveLocal = false;
    for (const auto& d : cfg.director()) {
      for (const auto& la : d.address()) {
        if (la.link() != l.name()) continue;
        auto a = IpAddress::parse(la.address());
        if (!a) return Error(a.error().message).context("director " + d.name() + " link " + l.name());
        if (d.name() == self) {
          lm.local = *a;
          haveLocal = true;
        } else {
          lm.peers.push_back({*m.peerByName(d.name()), *a});
        }
      }
    }
    if (!haveLocal) return Error("director " + self + " has no address on link " + l.name());
    for (const auto& p : lm.peers)
      if (p.address.family() != lm.local.family())
        return Error("link " + l.name() + " mixes IPv4 and IPv6 addresses");
    m.links.push_back(std::move(lm));
  }
  if (m.protocol == Protocol::kNative && !m.links.empty()) {
    bool anyPeer = std::any_of(m.links.begin(), m.links.end(),
                               [](const LinkModel& l) { return !l.peers.empty(); });
    if (!anyPeer) return Error("protocol NATIVE needs at least one peer (no multicast fallback)");
    for (const auto& k : hb.key()) {
      auto secret = loadSecret(k);
      if (!secret) return Error(secret.error().message).context("key " + std::to_string(k.id()));
      auto st = m.keys.add(k.id(), std::move(*secret));
      if (!st) return std::move(st).takeError();
    }
    if (m.keys.empty()) return Error("protocol NATIVE needs a key");
    if (hb.has_send_key_id()) {
      auto st = m.keys.setSendKey(hb.send_key_id());
      if (!st) return std::move(st).takeError();
    }
  }

  for (const auto& t : cfg.tracker()) {
    TrackerModel tm;
    tm.name = t.name();
    tm.weight = t.weight();
    switch (t.kind_case()) {
      case config::Tracker::kInterface:
        tm.kind = TrackerKind::kInterface;
        tm.interface = t.interface().name();
        break;
      case config::Tracker::kScript:
        tm.kind = TrackerKind::kScript;
        tm.argv.assign(t.script().argv().begin(), t.script().argv().end());
        tm.scriptInterval = std::chrono::milliseconds(t.script().interval_ms());
        tm.scriptTimeout = std::chrono::milliseconds(t.script().timeout_ms());
        tm.rise = t.script().rise();
        tm.fall = t.script().fall();
        if (tm.argv.empty()) return Error("tracker " + t.name() + ": empty argv");
        break;
      case config::Tracker::kFile:
        tm.kind = TrackerKind::kFile;
        tm.path = t.file().path();
        break;
      case config::Tracker::kQuorum:
        tm.kind = TrackerKind::kQuorum;
        tm.virtualService = t.quorum().virtual_service();
        break;
      case config::Tracker::KIND_NOT_SET:
        return Error("tracker " + t.name() + " has no kind");
    }
    m.trackers.push_back(std::move(tm));
  }

  for (const auto& in : cfg.instance()) {
    InstanceModel im;
    im.name = in.name();
    im.vrid = static_cast<uint8_t>(in.vrid());
    uint32_t prio = me->priority();
    for (const auto& p : in.priority())
      if (p.director() == self) prio = p.value();
    if (prio < 1 || prio > 255) return Error("instance " + in.name() + ": priority outside 1..255");
    im.priority = static_cast<uint8_t>(prio);
    im.preempt = in.preempt();
    im.preemptDelay = std::chrono::milliseconds(in.preempt_delay_ms());
    im.interval = std::chrono::milliseconds(in.interval_ms() ? in.interval_ms() : hb.interval_ms());
    if (im.interval.count() <= 0) return Error("instance " + in.name() + ": zero interval");
    if (in.link_size() == 0) {
      for (size_t i = 0; i < m.links.size(); ++i) im.links.push_back(i);
    } else {
      for (const auto& l : in.link()) {
        auto li = m.linkByName(l);
        if (!li) return Error("instance " + in.name() + ": unknown link " + l);
        im.links.push_back(*li);
      }
    }
    if (m.protocol != Protocol::kNative && im.links.size() != 1)
      return Error("instance " + in.name() + ": VRRP needs exactly one link");
    im.vipGroups.assign(in.vip_group().begin(), in.vip_group().end());
    for (const auto& g : in.vip_group()) {
      const config::VipGroup* group = nullptr;
      for (const auto& vg : cfg.vip_group())
        if (vg.name() == g) group = &vg;
      if (!group) return Error("instance " + in.name() + ": unknown vip group " + g);
      if (m.protocol == Protocol::kNative) continue;
      Family fam = m.links[im.links[0]].local.family();
      for (const auto& v : group->vip()) {
        auto p = Prefix::parse(v.address());
        if (!p) return Error(p.error().message).context("vip group " + g);
        if (p->address().family() == fam) im.vrrpAddresses.push_back(p->address());
      }
    }
    for (const auto& t : in.track()) {
      auto ti = indexOf(m.trackers, t);
      if (!ti) return Error("instance " + in.name() + ": unknown tracker " + t);
      im.trackers.push_back(*ti);
    }
    if (in.has_notify()) im.notify = toNotify(in.notify());
    m.instances.push_back(std::move(im));
  }

  // Sync groups share their members' trackers: every member carries the
  // same priority changes, so both directors elect the same master for all
  // of them (keepalived tracks a sync group as one).
  for (const auto& g : cfg.sync_group()) {
    std::vector<size_t> members;
    for (const auto& n : g.instance()) {
      auto i = m.instanceByName(n);
      if (!i) return Error("sync group " + g.name() + ": unknown instance " + n);
      if (m.instances[*i].syncGroup >= 0)
        return Error("instance " + n + " is in two sync groups");
      members.push_back(*i);
    }
    std::vector<size_t> shared;
    for (size_t i : members)
      for (size_t t : m.instances[i].trackers)
        if (std::find(shared.begin(), shared.end(), t) == shared.end()) shared.push_back(t);
    int gi = static_cast<int>(m.syncGroups.size());
    for (size_t i : members) {
      m.instances[i].trackers = shared;
      m.instances[i].syncGroup = gi;
    }
    m.syncGroups.push_back(std::move(members));
  }
  return m;
}

}  // namespace lvsd::heartbeat
