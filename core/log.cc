#include "core/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/syslog_sink.h>
#include <syslog.h>

#include <spdlog/pattern_formatter.h>

#include <mutex>

namespace lvsd {
namespace {

std::mutex gMutex;
spdlog::sink_ptr gSink;
spdlog::level::level_enum gLevel = spdlog::level::info;
std::string gPattern = "%Y-%m-%dT%H:%M:%S.%e %^%l%$ %n: %v";

// %* renders the message JSON-escaped, so `--log-format json` emits one
// valid JSON object per line whatever a message contains.
class JsonEscapedMessage : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    static const char* hex = "0123456789abcdef";
    for (char c : std::string_view(msg.payload.data(), msg.payload.size())) {
      switch (c) {
        case '"': dest.append(std::string_view("\\\"")); break;
        case '\\': dest.append(std::string_view("\\\\")); break;
        case '\n': dest.append(std::string_view("\\n")); break;
        case '\t': dest.append(std::string_view("\\t")); break;
        case '\r': dest.append(std::string_view("\\r")); break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            char u[6] = {'\\', 'u', '0', '0', hex[(c >> 4) & 15], hex[c & 15]};
            dest.append(std::string_view(u, 6));
          } else {
            dest.push_back(c);
          }
      }
    }
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonEscapedMessage>();
  }
};

void applyPatternLocked() {
  auto f = std::make_unique<spdlog::pattern_formatter>();
  f->add_flag<JsonEscapedMessage>('*').set_pattern(gPattern);
  gSink->set_formatter(std::move(f));
}

spdlog::sink_ptr sinkLocked() {
  if (!gSink) {
    gSink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    applyPatternLocked();
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
                 ? R"({"ts":"%Y-%m-%dT%H:%M:%S.%e","level":"%l","module":"%n","msg":"%*"})"
                 : "%Y-%m-%dT%H:%M:%S.%e %^%l%$ %n: %v";
  sinkLocked();
  applyPatternLocked();
  spdlog::apply_all([&](std::shared_ptr<spdlog::logger> l) { l->set_level(gLevel); });
  return okStatus();
}

Status setupLoggingTo(spdlog::sink_ptr sink, const std::string& level, LogFormat format) {
  {
    std::lock_guard lock(gMutex);
    gSink = std::move(sink);
    spdlog::apply_all([&](std::shared_ptr<spdlog::logger> l) {
      l->sinks().assign(1, gSink);
    });
  }
  return setupLogging(level, format, LogTarget::kStderr);
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
