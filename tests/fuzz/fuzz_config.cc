// Feeds arbitrary bytes to the config loader: it must either load a config or
// return located errors, never crash, hang or leak.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto result = lvsd::config::loadString(
      std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.conf");
  if (result.ok()) {
    if (result.config->digest.size() != 64) std::abort();
  } else {
    for (const auto& d : result.errors) {
      if (d.message.empty()) std::abort();
      (void)d.toString();
    }
  }
  return 0;
}
