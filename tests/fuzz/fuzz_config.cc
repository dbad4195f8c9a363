// Feeds arbitrary bytes to the config loader: it must either load a config or
// return located errors, never crash, hang or leak. A config it accepts must
// also survive a round trip: printed back as text it loads again with the same
// digest (the validator accepts its own defaults), and diffs empty with itself.
#include <google/protobuf/text_format.h>

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto result = lvsd::config::loadString(
      std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.conf");
  if (!result.ok()) {
    if (result.errors.empty()) std::abort();
    for (const auto& d : result.errors) {
      if (d.message.empty() || d.line < 0 || d.column < 0) std::abort();
      for (char c : d.toString())
        if (c == '\n') std::abort();  // one diagnostic, one line
    }
    return 0;
  }
  const auto& config = *result.config;
  if (config.digest.size() != 64) std::abort();
  if (!lvsd::config::diff(config.proto, config.proto).empty()) std::abort();
  std::string text;
  if (!google::protobuf::TextFormat::PrintToString(config.proto, &text)) std::abort();
  auto again = lvsd::config::loadString(text, "roundtrip.conf");
  if (!again.ok() || again.config->digest != config.digest) std::abort();
  return 0;
}
