// Directors, heartbeat, election instances and sync groups.
#include <map>
#include <set>

#include "config/validate_internal.h"

namespace lvsd::config::detail {

namespace {

using rules::quote;

constexpr uint64_t kMaxU32 = 0xffffffffu;

// Failure detection (interval × dead_count) must stay strictly below the
// operator's failover limit; the message carries all three numbers.
void validateDetection(Context& ctx, const Located& at, const std::string& field,
                       uint64_t intervalMs) {
  const Heartbeat& hb = ctx.config.heartbeat();
  uint64_t detect = intervalMs * hb.dead_count();
  if (intervalMs == 0 || hb.dead_count() == 0 || detect < hb.failover_limit_ms()) return;
  ctx.error(at, field,
            "failure detection interval_ms × dead_count = " + std::to_string(intervalMs) + " × " +
                std::to_string(hb.dead_count()) + " = " + std::to_string(detect) +
                " ms is not below failover_limit_ms " + std::to_string(hb.failover_limit_ms()));
}

void validateKeys(Context& ctx, const Heartbeat& hb, const Located& at) {
  if (hb.protocol() != Heartbeat::NATIVE) {
    // VRRPv3 has no authentication (RFC 5798 §9); silently ignoring a key
    // would let the operator believe the heartbeat is signed.
    if (hb.key_size() > 0)
      ctx.error(at, "key",
                std::string("keys are used only by protocol NATIVE; ") +
                    protocolName(hb.protocol()) + " advertisements are not authenticated");
    if (hb.has_send_key_id())
      ctx.error(at, "send_key_id", "send_key_id is used only by protocol NATIVE");
    return;
  }
  if (hb.key_size() == 0) {
    ctx.error(at, "key", "protocol NATIVE needs at least one key (HMAC-SHA256 secret)");
    return;
  }
  std::map<uint32_t, int> ids;
  for (int i = 0; i < hb.key_size(); ++i) {
    const Key& k = hb.key(i);
    Located kat = at.child("key", i);
    if (!k.has_id()) {
      ctx.error(kat, "id", "key id is required");
    } else if (auto [it, fresh] = ids.emplace(k.id(), i); !fresh) {
      auto [l, c] = at.child("key", it->second).where("id");
      ctx.error(kat, "id",
                "duplicate key id " + std::to_string(k.id()) + " (first defined at " +
                    std::to_string(l) + ":" + std::to_string(c) + ")");
    }
    if (k.has_secret_hex() == k.has_secret_file()) {
      ctx.error(kat, k.has_secret_hex() ? "secret_file" : "secret_hex",
                "a key needs exactly one of secret_hex or secret_file");
    } else if (k.has_secret_hex()) {
      const std::string& s = k.secret_hex();
      if (!rules::isHex(s) || s.size() % 2 != 0 || s.size() < 32 || s.size() > 128)
        ctx.error(kat, "secret_hex",
                  "secret_hex must be 32..128 hex digits (16..64 bytes), an even count; got " +
                      std::to_string(s.size()) + " characters" +
                      (rules::isHex(s) || s.empty() ? "" : " with non-hex ones"));
    } else {
      ctx.absolutePath(kat, "secret_file", k.secret_file());
    }
  }
  if (hb.has_send_key_id()) {
    if (!ids.count(hb.send_key_id()))
      ctx.error(at, "send_key_id",
                "send_key_id " + std::to_string(hb.send_key_id()) + " names no key");
  } else if (hb.key_size() > 1) {
    ctx.error(at, "send_key_id",
              "send_key_id is required when there are " + std::to_string(hb.key_size()) +
                  " keys (which one signs?)");
  }
}

}  // namespace

void validateInterval(Context& ctx, const Located& at, const std::string& field,
                      uint32_t intervalMs) {
  std::string v = std::to_string(intervalMs);
  if (intervalMs == 0) {
    ctx.error(at, field, field + " must be positive");
    return;
  }
  // The VRRP packet carries the interval in a fixed unit and width.
  struct Wire {
    uint32_t unitMs, maxMs;
    const char* what;
  };
  std::optional<Wire> wire;
  if (ctx.config.heartbeat().protocol() == Heartbeat::VRRP3)
    wire = Wire{10, 40950, "VRRP3 carries 12-bit centiseconds, RFC 5798 §5.2.7"};
  else if (ctx.config.heartbeat().protocol() == Heartbeat::VRRP2)
    wire = Wire{1000, 255000, "VRRP2 carries 8-bit seconds, RFC 3768 §5.3.7"};
  if (!wire) return;
  if (intervalMs % wire->unitMs != 0)
    ctx.error(at, field,
              field + " " + v + " is not a multiple of " + std::to_string(wire->unitMs) + " ms (" +
                  wire->what + ")");
  else if (intervalMs > wire->maxMs)
    ctx.error(at, field,
              field + " " + v + " above " + std::to_string(wire->maxMs) + " (" + wire->what + ")");
}

void validateDirectors(Context& ctx) {
  const Config& c = ctx.config;
  if (c.director_size() == 0) ctx.error(ctx.root, "director", "at least one director is required");
  // Address -> owning director, for "one address, one director".
  std::map<IpAddress, std::string> owners;
  for (int i = 0; i < c.director_size(); ++i) {
    const Director& d = c.director(i);
    Located at = ctx.root.child("director", i);
    ctx.uniqueName(at, d.name(), "director", ctx.directors, i);
    ctx.range(at, "priority", d.priority(), 1, 255);
    std::set<std::string> onLinks;
    for (int j = 0; j < d.address_size(); ++j) {
      const LinkAddress& la = d.address(j);
      Located lat = at.child("address", j);
      if (la.link().empty()) {
        ctx.error(lat, "link", "link is required (a heartbeat link name)");
      } else if (!ctx.links.contains(la.link())) {
        ctx.error(lat, "link", "unknown heartbeat link " + quote(la.link()));
      } else if (!onLinks.insert(la.link()).second) {
        ctx.error(lat, "link",
                  "director " + quote(d.name()) + " already has an address on link " +
                      quote(la.link()) + " (one address per link)");
      }
      if (la.address().empty()) {
        ctx.error(lat, "address", "address is required");
        continue;
      }
      auto a = IpAddress::parse(la.address());
      if (!a) {
        ctx.error(lat, "address", a.error().message);
        continue;
      }
      if (a->isMulticast() || a->isUnspecified()) {
        ctx.error(lat, "address", "address " + a->toString() + " is not a unicast address");
        continue;
      }
      auto fam = ctx.linkFamily.find(la.link());
      if (fam != ctx.linkFamily.end() && fam->second != a->family())
        ctx.error(lat, "address",
                  "address " + a->toString() + " is " + familyName(a->family()) + " but link " +
                      quote(la.link()) + " carries " + familyName(fam->second));
      if (auto [it, fresh] = owners.emplace(*a, d.name()); !fresh)
        ctx.error(lat, "address",
                  "address " + a->toString() + " is already director " + quote(it->second) + "'s");
    }
    // Every director speaks on every link: a link one director lacks is a
    // link on which its peers cannot hear it.
    for (const auto& link : c.heartbeat().link()) {
      if (!link.name().empty() && !onLinks.count(link.name()) && ctx.links.find(link.name()) >= 0)
        ctx.error(at, "address",
                  "director " + quote(d.name()) + " has no address on heartbeat link " +
                      quote(link.name()) + " (every director needs one on every link)");
    }
  }
  // Peers: each director sends to all the others on every link. An empty peer
  // set is refused, never turned into a multicast fallback.
  if (c.director_size() >= 2 && !c.has_heartbeat()) {
    ctx.error(ctx.root, "heartbeat",
              "a cluster of " + std::to_string(c.director_size()) +
                  " directors needs a heartbeat section with at least one link");
  } else if (c.director_size() == 1 && c.has_heartbeat()) {
    ctx.error(ctx.root, "heartbeat",
              "director " + quote(c.director(0).name()) +
                  " has no peers on any heartbeat link (a single-director cluster takes no "
                  "heartbeat section)");
  }
}

void validateHeartbeat(Context& ctx) {
  const Config& c = ctx.config;
  if (!c.has_heartbeat()) return;
  const Heartbeat& hb = c.heartbeat();
  Located at = ctx.root.child("heartbeat");
  validateInterval(ctx, at, "interval_ms", hb.interval_ms());
  ctx.range(at, "dead_count", hb.dead_count(), 1, 255);
  ctx.range(at, "failover_limit_ms", hb.failover_limit_ms(), 1, kMaxU32);
  validateDetection(ctx, at, hb.has_failover_limit_ms() ? "failover_limit_ms" : "interval_ms",
                    hb.interval_ms());
  if (hb.link_size() == 0) ctx.error(at, "link", "at least one heartbeat link is required");
  for (int i = 0; i < hb.link_size(); ++i) {
    const Link& l = hb.link(i);
    Located lat = at.child("link", i);
    ctx.uniqueName(lat, l.name(), "link", ctx.links, i);
    if (l.interface().empty())
      ctx.error(lat, "interface", "interface is required");
    else if (!rules::isInterfaceName(l.interface()))
      ctx.error(lat, "interface", "invalid interface name " + quote(l.interface()));
  }
  ctx.range(at, "port", hb.port(), 1, 65535);
  // Zero would accept any timestamp (no replay protection); beyond ten
  // minutes a captured advertisement stays replayable for too long.
  ctx.range(at, "replay_window_ms", hb.replay_window_ms(), 100, 600000);
  ctx.range(at, "realtime_priority", hb.realtime_priority(), 0, 99);  // SCHED_FIFO 1..99
  ctx.range(at, "dscp", hb.dscp(), 0, 63);                            // 6-bit field (RFC 2474 §3)
  if (hb.protocol() == Heartbeat::NATIVE && hb.vrrp_unicast())
    ctx.error(at, "vrrp_unicast",
              "vrrp_unicast applies only to protocols VRRP3 and VRRP2 (NATIVE is always unicast)");
  validateKeys(ctx, hb, at);
}

void validateInstances(Context& ctx) {
  const Config& c = ctx.config;
  const bool vrrp = c.heartbeat().protocol() != Heartbeat::NATIVE;
  std::map<std::pair<std::string, uint32_t>, std::string> vridOwner;  // (link, vrid) -> instance
  std::map<std::string, std::string> groupHolder;                     // vip group -> instance
  for (int i = 0; i < c.instance_size(); ++i) {
    const Instance& in = c.instance(i);
    Located at = ctx.root.child("instance", i);
    ctx.uniqueName(at, in.name(), "instance", ctx.instances, i);
    bool vridOk = false;
    if (!in.has_vrid())
      ctx.error(at, "vrid", "vrid is required (1..255)");
    else
      vridOk = ctx.range(at, "vrid", in.vrid(), 1, 255);

    // Links: explicit ones must exist; none means every heartbeat link.
    std::vector<std::string> links;
    std::set<std::string> seen;
    bool linkErrors = false;
    for (int j = 0; j < in.link_size(); ++j) {
      const std::string& l = in.link(j);
      if (!ctx.links.contains(l)) {
        ctx.error(at, "link", j, "unknown heartbeat link " + quote(l));
        linkErrors = true;
      } else if (!seen.insert(l).second) {
        ctx.error(at, "link", j, "link " + quote(l) + " listed twice");
        linkErrors = true;
      } else {
        links.push_back(l);
      }
    }
    if (in.link_size() == 0)
      for (const auto& l : c.heartbeat().link())
        if (!l.name().empty() && seen.insert(l.name()).second) links.push_back(l.name());
    if (vrrp && c.has_heartbeat() && links.size() != 1 && !linkErrors) {
      std::string names;
      for (const auto& l : links) names += (names.empty() ? "" : ", ") + quote(l);
      ctx.error(at, "link",
                std::string("protocol ") + protocolName(c.heartbeat().protocol()) +
                    " needs exactly one link per instance (has " + std::to_string(links.size()) +
                    (names.empty() ? "" : ": " + names) + ")");
    }
    if (vridOk) {
      // Without heartbeat links (a single director) vrids are still unique:
      // they name the instance in logs, notify hooks and the control API.
      std::vector<std::string> scopes = links.empty() ? std::vector<std::string>{""} : links;
      for (const auto& l : scopes) {
        auto [it, fresh] = vridOwner.emplace(std::make_pair(l, in.vrid()), in.name());
        if (!fresh)
          ctx.error(at, "vrid",
                    "vrid " + std::to_string(in.vrid()) + " is already used by instance " +
                        quote(it->second) + (l.empty() ? "" : " on link " + quote(l)));
      }
    }

    // Priorities: overrides name known directors, once each; at most one
    // director may be the address owner (255, RFC 5798 §6.1).
    std::map<std::string, uint32_t> prio;
    for (const auto& d : c.director()) prio[d.name()] = d.priority();
    std::set<std::string> overridden;
    for (int j = 0; j < in.priority_size(); ++j) {
      const DirectorPriority& p = in.priority(j);
      Located pat = at.child("priority", j);
      if (p.director().empty())
        ctx.error(pat, "director", "director is required");
      else if (!ctx.directors.contains(p.director()))
        ctx.error(pat, "director", "unknown director " + quote(p.director()));
      else if (!overridden.insert(p.director()).second)
        ctx.error(pat, "director", "priority for director " + quote(p.director()) + " given twice");
      if (!p.has_value())
        ctx.error(pat, "value", "value is required (1..255)");
      else if (ctx.range(pat, "value", p.value(), 1, 255) && ctx.directors.contains(p.director()))
        prio[p.director()] = p.value();
    }
    std::vector<std::string> owners;
    for (const auto& d : c.director())
      if (prio[d.name()] == 255 &&
          std::find(owners.begin(), owners.end(), d.name()) == owners.end())
        owners.push_back(d.name());
    if (owners.size() > 1)
      ctx.error(at, "priority",
                "directors " + quote(owners[0]) + " and " + quote(owners[1]) +
                    " both have priority 255 in instance " + quote(in.name()) +
                    " (255 is the address owner; at most one)");

    if (!in.preempt() && in.preempt_delay_ms() > 0)
      ctx.error(at, "preempt_delay_ms",
                "preempt_delay_ms " + std::to_string(in.preempt_delay_ms()) +
                    " without preempt (preempt is false)");
    else
      ctx.range(at, "preempt_delay_ms", in.preempt_delay_ms(), 0, 3600000);

    std::set<std::string> groups;
    for (int j = 0; j < in.vip_group_size(); ++j) {
      const std::string& g = in.vip_group(j);
      if (!ctx.vipGroups.contains(g)) {
        ctx.error(at, "vip_group", j, "unknown vip group " + quote(g));
        continue;
      }
      if (!groups.insert(g).second) {
        ctx.error(at, "vip_group", j, "vip group " + quote(g) + " listed twice");
        continue;
      }
      if (auto [it, fresh] = groupHolder.emplace(g, in.name()); !fresh) {
        ctx.error(at, "vip_group", j,
                  "vip group " + quote(g) + " is already held by instance " + quote(it->second));
        continue;
      }
      // RFC 5798 §5.2.9: a VRRP virtual router carries one address family,
      // the family of the link it advertises on.
      auto fam = links.size() == 1 ? ctx.linkFamily.find(links[0]) : ctx.linkFamily.end();
      if (!vrrp || fam == ctx.linkFamily.end()) continue;
      for (const auto& vip : c.vip_group(ctx.vipGroups.find(g)).vip()) {
        auto p = Prefix::parse(vip.address());
        if (p && p->address().family() != fam->second) {
          ctx.error(at, "vip_group", j,
                    std::string(protocolName(c.heartbeat().protocol())) + " instance on " +
                        familyName(fam->second) + " link " + quote(links[0]) + " cannot carry " +
                        familyName(p->address().family()) + " VIP " + p->address().toString() +
                        " (one address family per virtual router)");
          break;
        }
      }
    }
    std::set<std::string> tracks;
    for (int j = 0; j < in.track_size(); ++j) {
      const std::string& t = in.track(j);
      if (!ctx.trackers.contains(t))
        ctx.error(at, "track", j, "unknown tracker " + quote(t));
      else if (!tracks.insert(t).second)
        ctx.error(at, "track", j, "tracker " + quote(t) + " listed twice");
    }
    if (in.has_notify()) validateNotify(ctx, in.notify(), at.child("notify"));
    if (in.interval_ms() != 0) {
      validateInterval(ctx, at, "interval_ms", in.interval_ms());
      validateDetection(ctx, at, "interval_ms", in.interval_ms());
    }
  }
}

void validateSyncGroups(Context& ctx) {
  const Config& c = ctx.config;
  std::map<std::string, std::string> member;  // instance -> sync group
  for (int i = 0; i < c.sync_group_size(); ++i) {
    const SyncGroup& g = c.sync_group(i);
    Located at = ctx.root.child("sync_group", i);
    ctx.uniqueName(at, g.name(), "sync group", ctx.syncGroups, i);
    if (g.instance_size() < 2)
      ctx.error(at, "instance",
                "a sync group needs at least two instances (has " +
                    std::to_string(g.instance_size()) + ")");
    for (int j = 0; j < g.instance_size(); ++j) {
      const std::string& in = g.instance(j);
      if (!ctx.instances.contains(in)) {
        ctx.error(at, "instance", j, "unknown instance " + quote(in));
        continue;
      }
      auto [it, fresh] = member.emplace(in, g.name());
      if (!fresh)
        ctx.error(at, "instance", j,
                  it->second == g.name()
                      ? "instance " + quote(in) + " listed twice"
                      : "instance " + quote(in) + " is already in sync group " + quote(it->second));
    }
  }
}

}  // namespace lvsd::config::detail
