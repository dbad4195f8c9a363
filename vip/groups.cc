#include "vip/vip.h"

namespace lvsd::vip {

Result<std::vector<GroupSpec>> groupsFromConfig(const config::Config& cfg) {
  std::vector<GroupSpec> out;
  for (const auto& g : cfg.vip_group()) {
    GroupSpec spec;
    spec.name = g.name();
    const auto& a = g.announce();  // proto2 defaults when absent
    spec.announce.delay = std::chrono::milliseconds(a.delay_ms());
    spec.announce.repeat = a.repeat();
    spec.announce.interval = std::chrono::milliseconds(a.interval_ms());
    spec.announce.refresh = std::chrono::seconds(a.refresh_s());
    for (const auto& v : g.vip()) {
      auto p = Prefix::parse(v.address());
      if (!p) return Error(p.error().message).context("vip group " + g.name());
      if (v.interface().empty())
        return Error("vip group " + g.name() + ": " + v.address() + " has no interface");
      spec.vips.push_back({*p, v.interface(), v.label()});
    }
    out.push_back(std::move(spec));
  }
  return out;
}

}  // namespace lvsd::vip
