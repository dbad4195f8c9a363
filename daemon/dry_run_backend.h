#pragma once
// The `dry-run` IPVS backend: logs every operation it is asked to perform as
// "dry-run: would ..." and keeps an in-memory table so that plans converge,
// but programs nothing. For hosts without IPVS, `lvsd --dry-run` previews
// and benchmarks. It never claims to have programmed the kernel: status
// reports the backend as "dry-run".

#include <memory>

#include "ipvs/ipvs.h"

namespace lvsd::daemon {

std::unique_ptr<ipvs::IpvsBackend> makeDryRunBackend();

}  // namespace lvsd::daemon
