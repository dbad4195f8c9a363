#include "core/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/syslog_sink.h>
#include <syslog.h>

#include <mutex>

namespace lvsd {
namespace {

std::mutex gMutex;
spdlog::sink_ptr gSink;
spdlog::level::level_enum gLevel = spdlog::level::info;
std::string gPattern = "%Y-%m-%dT%H:%M:%S.%e %^%l%$ %n: %v";

spdlog::sink_ptr sinkLocked() {
  if (!gSink) {
    gSink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    gSink->set_pattern(gPattern);
  }
  return gSink;
}

}  // namespace

Result<LogFormat> parseLogFormat(const std::string& text) {
  if (text == "text") return LogFormat::kText;
  if (text == "json") return LogFormat::kJson;
  return Error("unknown log format '" + text + "' (text json)");
}

Status setupLogging(const std::string& level, LogFormat format, LogTarget target) {
  auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off")
    return Error("unknown log level '" + level + "' (trace debug info warn error critical off)");
  std::lock_guard lock(gMutex);
  gLevel = lvl;
  if (target == LogTarget::kSyslog)
    gSink = std::make_shared<spdlog::sinks::syslog_sink_mt>("lvsd", LOG_PID, LOG_DAEMON, true);
  gPattern = format == LogFormat::kJson
                 ? R"({"ts":"%Y-%m-%dT%H:%M:%S.%e","level":"%l","module":"%n","msg":"%v"})"
                 : "%Y-%m-%dT%H:%M:%S.%e %^%l%$ %n: %v";
  sinkLocked()->set_pattern(gPattern);
  spdlog::apply_all([&](std::shared_ptr<spdlog::logger> l) { l->set_level(gLevel); });
  return okStatus();
}

std::shared_ptr<spdlog::logger> logger(const std::string& module) {
  std::lock_guard lock(gMutex);
  if (auto l = spdlog::get(module)) return l;
  auto l = std::make_shared<spdlog::logger>(module, sinkLocked());
  l->set_level(gLevel);
  l->flush_on(spdlog::level::info);
  spdlog::register_logger(l);
  return l;
}

}  // namespace lvsd
