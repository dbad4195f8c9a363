#pragma once
// One named spdlog logger per module ("heartbeat", "ipvs", ...). Every state
// transition is one structured line: "instance=web BACKUP -> MASTER reason=...".

#include <spdlog/spdlog.h>

#include <memory>
#include <string>

#include "core/result.h"

namespace lvsd {

enum class LogFormat { kText, kJson };
enum class LogTarget { kStderr, kSyslog };

// Configures the sink and level for all module loggers. Call before the
// first logger() for the target to apply to every module.
Status setupLogging(const std::string& level, LogFormat format,
                    LogTarget target = LogTarget::kStderr);
Result<LogFormat> parseLogFormat(const std::string& text);
// Same, with a caller-provided sink (e.g. an ostream or a journald sink).
Status setupLoggingTo(spdlog::sink_ptr sink, const std::string& level, LogFormat format);
// The module's logger, created on first use with the current sink.
std::shared_ptr<spdlog::logger> logger(const std::string& module);

}  // namespace lvsd
