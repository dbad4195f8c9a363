#include "daemon/plan_preview.h"

#include <set>

#include "ipvs/from_config.h"

namespace lvsd::daemon {

Result<std::vector<ipvs::Op>> previewPlan(const config::Config& cfg, const ipvs::Table& kernel) {
  auto desired = ipvs::tableFromConfig(cfg);
  if (!desired) return std::move(desired).takeError();
  return ipvs::plan(*desired, kernel, ipvs::ownershipFromConfig(cfg));
}

std::string renderPreview(const std::vector<ipvs::Op>& ops, const config::Config& cfg,
                          const ipvs::Table& kernel) {
  std::string out;
  for (const auto& op : ops) out += op.toString() + "\n";
  std::set<ipvs::ServiceKey> configured;
  if (auto t = ipvs::tableFromConfig(cfg))
    for (const auto& vs : *t) configured.insert(vs.service.key);
  size_t foreign = 0;
  bool whole = ipvs::ownershipFromConfig(cfg).wholeTable;
  for (const auto& vs : kernel)
    if (!whole && !configured.count(vs.service.key)) ++foreign;
  out += std::to_string(ops.size()) + " operation(s)";
  if (ops.empty()) out += ": the kernel's table already matches";
  if (foreign) out += "; " + std::to_string(foreign) + " service(s) not in the config left alone";
  out += " (every real server assumed healthy; health checks decide at run time)\n";
  return out;
}

}  // namespace lvsd::daemon
