// VIP groups and priority trackers.
#include <map>

#include "config/validate_internal.h"

namespace lvsd::config::detail {

using rules::quote;

void validateVipGroups(Context& ctx) {
  const Config& c = ctx.config;
  // VIP address -> "group at LINE:COL": the same address in two places
  // means two owners fighting over it.
  std::map<IpAddress, std::string> firstVip;
  for (int i = 0; i < c.vip_group_size(); ++i) {
    const VipGroup& g = c.vip_group(i);
    Located at = ctx.root.child("vip_group", i);
    ctx.uniqueName(at, g.name(), "vip group", ctx.vipGroups, i);
    if (g.vip_size() == 0) ctx.error(at, "vip", "a vip group needs at least one vip");
    for (int j = 0; j < g.vip_size(); ++j) {
      const Vip& v = g.vip(j);
      Located vat = at.child("vip", j);
      std::optional<Prefix> prefix;
      if (v.address().empty()) {
        ctx.error(vat, "address", "address is required");
      } else if (auto p = Prefix::parse(v.address()); !p) {
        ctx.error(vat, "address", p.error().message);
      } else if (p->address().isMulticast() || p->address().isUnspecified()) {
        ctx.error(vat, "address", "VIP " + p->address().toString() + " is not a unicast address");
      } else {
        prefix = *p;
        auto [l, col] = vat.where("address");
        std::string here = "vip group " + quote(g.name()) + " (first defined at " +
                           std::to_string(l) + ":" + std::to_string(col) + ")";
        if (auto [it, fresh] = firstVip.emplace(p->address(), here); !fresh)
          ctx.error(vat, "address",
                    "VIP " + p->address().toString() + " is already in " + it->second);
      }
      bool ifOk = false;
      if (v.interface().empty())
        ctx.error(vat, "interface", "interface is required");
      else if (!rules::isInterfaceName(v.interface()))
        ctx.error(vat, "interface", "invalid interface name " + quote(v.interface()));
      else
        ifOk = true;
      if (v.has_label()) {
        const std::string& label = v.label();
        if (prefix && prefix->address().isV6())
          ctx.error(vat, "label", "labels exist only for IPv4 addresses");
        else if (label.size() > 15)
          ctx.error(vat, "label",
                    "label " + quote(label) + " is longer than 15 characters (IFNAMSIZ - 1)");
        else if (ifOk && label.compare(0, v.interface().size(), v.interface()) != 0)
          ctx.error(vat, "label",
                    "label " + quote(label) + " must start with the interface name " +
                        quote(v.interface()));
      }
    }
    if (g.has_announce()) {
      const Announce& a = g.announce();
      Located aat = at.child("announce");
      ctx.range(aat, "delay_ms", a.delay_ms(), 0, 60000);
      ctx.range(aat, "repeat", a.repeat(), 1, 100);
      ctx.range(aat, "interval_ms", a.interval_ms(), 10, 10000);
      ctx.range(aat, "refresh_s", a.refresh_s(), 0, 86400);
    }
  }
}

void validateTrackers(Context& ctx) {
  const Config& c = ctx.config;
  for (int i = 0; i < c.tracker_size(); ++i) {
    const Tracker& t = c.tracker(i);
    Located at = ctx.root.child("tracker", i);
    ctx.uniqueName(at, t.name(), "tracker", ctx.trackers, i);
    // A priority moves within 1..254 for a non-owner (RFC 5798 §5.2.4).
    if (t.weight() < -254 || t.weight() > 254)
      ctx.error(at, "weight", "weight " + std::to_string(t.weight()) + " outside -254..254");
    switch (t.kind_case()) {
      case Tracker::KIND_NOT_SET:
        ctx.out.addAt(at, "a tracker needs exactly one of interface, script, file or quorum");
        break;
      case Tracker::kInterface: {
        Located kat = at.child("interface");
        const std::string& name = t.interface().name();
        if (name.empty())
          ctx.error(kat, "name", "name is required (the interface to watch)");
        else if (!rules::isInterfaceName(name))
          ctx.error(kat, "name", "invalid interface name " + quote(name));
        break;
      }
      case Tracker::kScript: {
        const ScriptTracker& s = t.script();
        Located kat = at.child("script");
        ctx.argv(kat, "argv", s.argv(), true);
        if (ctx.range(kat, "interval_ms", s.interval_ms(), 1, 86400000) && s.timeout_ms() != 0 &&
            s.timeout_ms() >= s.interval_ms())
          ctx.error(kat, "timeout_ms",
                    "timeout_ms " + std::to_string(s.timeout_ms()) + " is not below interval_ms " +
                        std::to_string(s.interval_ms()));
        ctx.range(kat, "timeout_ms", s.timeout_ms(), 1, 86400000);
        ctx.range(kat, "rise", s.rise(), 1, 1000);
        ctx.range(kat, "fall", s.fall(), 1, 1000);
        break;
      }
      case Tracker::kFile:
        ctx.absolutePath(at.child("file"), "path", t.file().path());
        break;
      case Tracker::kQuorum: {
        Located kat = at.child("quorum");
        const std::string& name = t.quorum().virtual_service();
        int idx = ctx.services.find(name);
        if (name.empty())
          ctx.error(kat, "virtual_service", "virtual_service is required (a service name)");
        else if (idx < 0)
          ctx.error(kat, "virtual_service", "unknown virtual service " + quote(name));
        else if (!c.virtual_service(idx).has_quorum())
          ctx.error(kat, "virtual_service",
                    "virtual service " + quote(name) + " has no quorum block");
        break;
      }
    }
  }
}

}  // namespace lvsd::config::detail
