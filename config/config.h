#pragma once
// config/: load a text-format config file, validate all of it, and hand out
// an immutable, defaults-applied Config. The only public header of config/.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/diff.h"
#include "proto/config.pb.h"

namespace lvsd::config {

// One problem in a config file, located as precisely as the parser allows.
struct Diagnostic {
  std::string file;
  int line = 0;       // 1-based; 0 = unknown (e.g. a missing required field's parent)
  int column = 0;     // 1-based
  std::string field;  // dotted path, e.g. "virtual_service[1].real_server[0].weight"
  std::string message;
  // "FILE:LINE:COL: FIELD: MESSAGE"
  std::string toString() const;
};

struct LoadedConfig {
  Config proto;        // validated, defaults applied
  std::string file;    // where it came from
  std::string digest;  // hex SHA-256 of the canonical serialization
  std::string text;    // the file's text (for reload diffs and dumps)
};
using ConfigPtr = std::shared_ptr<const LoadedConfig>;

struct LoadResult {
  ConfigPtr config;                // null when there are errors
  std::vector<Diagnostic> errors;  // every syntax or semantic error
  bool ok() const { return config != nullptr; }
  std::string errorText() const;  // errors, one per line
};

// Parses and validates. `name` labels diagnostics (usually the path).
LoadResult loadString(std::string_view text, const std::string& name);
LoadResult loadFile(const std::string& path);

// The Director entry for `name`, or null.
const Director* findDirector(const Config& config, std::string_view name);

// Canonical service key as IPVS and lvsctl name it: "tcp/192.0.2.10:80",
// "udp/[2001:db8::1]:53", "fwmark/7/inet".
std::string serviceKey(const VirtualService& vs);

}  // namespace lvsd::config
