#pragma once
// One named spdlog logger per module ("heartbeat", "ipvs", ...). Every state
// transition is one structured line: "instance=web BACKUP -> MASTER reason=...".

#include <spdlog/spdlog.h>

#include <memory>
#include <string>

#include "core/result.h"

namespace lvsd {

enum class LogFormat { kText, kJson };

// Configures the sink and level for all module loggers; idempotent.
Status setupLogging(const std::string& level, LogFormat format);
// The module's logger, created on first use with the current sink.
std::shared_ptr<spdlog::logger> logger(const std::string& module);

}  // namespace lvsd
