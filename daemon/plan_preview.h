#pragma once
// `lvsd --plan`: what lvsd would do to the kernel's IPVS table for a config,
// before starting it. The preview assumes every real server healthy (the
// steady state once the checks pass; at run time they decide), so it shows
// the services, destinations and edits the config asks for, and that a table
// already in place is adopted with no operation.

#include <string>
#include <vector>

#include "core/result.h"
#include "ipvs/ipvs.h"
#include "proto/config.pb.h"

namespace lvsd::daemon {

// The operations, as the reconciler would plan them against `kernel`, with
// the config's ownership (services it does not own are left alone).
Result<std::vector<ipvs::Op>> previewPlan(const config::Config& cfg, const ipvs::Table& kernel);

// One op per line, then a summary ("3 operation(s); 2 service(s) left alone").
std::string renderPreview(const std::vector<ipvs::Op>& ops, const config::Config& cfg,
                          const ipvs::Table& kernel);

}  // namespace lvsd::daemon
