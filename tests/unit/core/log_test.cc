#include "core/log.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <sstream>

namespace lvsd {
namespace {

TEST(Log, JsonFormatEscapesMessages) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  ASSERT_TRUE(setupLoggingTo(sink, "info", LogFormat::kJson).ok());
  logger("test")->info("say \"hi\"\\ now\nnext\x01");
  std::string line = out.str();
  EXPECT_NE(line.find(R"("module":"test")"), std::string::npos) << line;
  EXPECT_NE(line.find(R"("msg":"say \"hi\"\\ now\nnext\u0001")"), std::string::npos) << line;
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "one line per event: " << line;
}

TEST(Log, TextFormatAndLevels) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  ASSERT_TRUE(setupLoggingTo(sink, "warn", LogFormat::kText).ok());
  logger("heartbeat")->info("hidden");
  logger("heartbeat")->warn("instance=web BACKUP -> MASTER reason=peer-timeout");
  EXPECT_EQ(out.str().find("hidden"), std::string::npos);
  EXPECT_NE(out.str().find("heartbeat: instance=web BACKUP -> MASTER reason=peer-timeout"),
            std::string::npos);
}

TEST(Log, RejectsUnknownLevelAndFormat) {
  EXPECT_FALSE(setupLogging("loud", LogFormat::kText).ok());
  EXPECT_FALSE(parseLogFormat("xml").ok());
  EXPECT_EQ(*parseLogFormat("json"), LogFormat::kJson);
}

}  // namespace
}  // namespace lvsd
