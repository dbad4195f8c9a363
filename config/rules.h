#pragma once
// Private to config/: small syntactic predicates the validator shares. Each
// returns either "fine" or a message fragment that quotes the input.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lvsd::config::rules {

// A value quoted for a message: 'text', control bytes as \xNN, cut after 80
// bytes ("..." appended) so a fuzzed or pasted blob cannot flood the log.
std::string quote(std::string_view s);

// Hex digits only (either case); empty is not hex.
bool isHex(std::string_view s);
// An absolute path: starts with '/', no NUL, no newline.
bool isAbsolutePath(std::string_view s);
// A Linux interface name: 1..15 bytes (IFNAMSIZ - 1), not "." or "..", no
// '/', ':' or whitespace (dev_valid_name() in net/core/dev.c).
bool isInterfaceName(std::string_view s);
// Names of directors, links, instances, groups, trackers, checks:
// [A-Za-z0-9_.-], 1..64 bytes.
bool isIdentifier(std::string_view s);
// Service names also allow the characters of a default key ("tcp/[::1]:80").
bool isServiceName(std::string_view s);
// A DNS name (RFC 1035 §2.3.4 lengths; letters, digits, '-', '_' for SRV
// owner names), optionally with a trailing dot.
bool isDnsName(std::string_view s);

// One HTTP status entry: "NNN" or "NNN-NNN" within 100..599, low <= high.
// Returns the problem, or nullopt.
std::optional<std::string> statusEntryProblem(std::string_view s);

// Limits for regular expressions in the config (bodies, UDP answers).
// libstdc++'s std::regex compiles recursively and expands counted repetition
// by copying states, so "(((a{1000}){1000}){1000})" or thousands of nested
// groups exhaust memory or the stack at compile time. The validator refuses
// such patterns before handing them to std::regex.
inline constexpr size_t kMaxRegexLength = 1024;
inline constexpr int kMaxRegexNesting = 32;
inline constexpr uint64_t kMaxRegexStates = 20000;
// Problem with an ECMAScript pattern (too long, too complex, or does not
// compile), or nullopt.
std::optional<std::string> regexProblem(std::string_view pattern);

// A check target: "ip:port", "[v6]:port", "ip", "[v6]", ":port" or "ip:".
// Returns the problem, or nullopt.
std::optional<std::string> targetProblem(std::string_view target);

}  // namespace lvsd::config::rules
