#pragma once
// Helpers for the config tests: a valid base cluster that each test edits by
// replacing one snippet, and matchers over the diagnostics.

#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "config/config.h"

namespace lvsd::config::testing {

// A complete, valid two-director cluster. Every line is unique so tests can
// replace exactly one snippet.
inline const std::string kBase = R"(director {
  name: "lvs1"
  priority: 150
  address { link: "lan" address: "192.0.2.2" }
}
director {
  name: "lvs2"
  address { link: "lan" address: "192.0.2.3" }
}
heartbeat {
  link { name: "lan" interface: "eth0" }
  key { id: 1 secret_hex: "00112233445566778899aabbccddeeff" }
}
instance {
  name: "VI_1"
  vrid: 51
  vip_group: "web"
}
vip_group {
  name: "web"
  vip { address: "192.0.2.10/24" interface: "eth0" }
}
check {
  name: "http"
  http { path: "/" }
}
virtual_service {
  address: "192.0.2.10:80"
  scheduler: "wrr"
  real_server { address: "192.0.2.101:80" weight: 5 }
  real_server { address: "192.0.2.102:80" weight: 10 }
  check: "http"
}
)";

// `text` with the single occurrence of `from` replaced by `to`; fails the
// test if `from` is not there exactly once.
inline std::string edit(const std::string& text, const std::string& from, const std::string& to) {
  auto pos = text.find(from);
  EXPECT_NE(pos, std::string::npos) << "snippet not found: " << from;
  if (pos == std::string::npos) return text;
  EXPECT_EQ(text.find(from, pos + 1), std::string::npos) << "snippet not unique: " << from;
  std::string out = text;
  out.replace(pos, from.size(), to);
  return out;
}

// kBase with one replacement, or with text appended.
inline std::string base(const std::string& from, const std::string& to) {
  return edit(kBase, from, to);
}
inline std::string withExtra(const std::string& extra) {
  return kBase + extra;
}

inline LoadResult load(const std::string& text) {
  return loadString(text, "t.conf");
}

inline std::string dump(const LoadResult& r) {
  return r.errors.empty() ? std::string("(no errors)\n") : r.errorText();
}

// The 1-based line and column of the first occurrence of `needle` in `text`.
inline std::pair<int, int> locate(const std::string& text, const std::string& needle) {
  auto pos = text.find(needle);
  EXPECT_NE(pos, std::string::npos) << needle;
  int line = 1, col = 1;
  for (size_t i = 0; i < pos; ++i) {
    if (text[i] == '\n')
      ++line, col = 1;
    else
      ++col;
  }
  return {line, col};
}

// Whether `r` holds an error on exactly `field` whose message contains
// `message`.
inline ::testing::AssertionResult hasError(const LoadResult& r, const std::string& field,
                                           const std::string& message) {
  for (const auto& d : r.errors)
    if (d.field == field && d.message.find(message) != std::string::npos)
      return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "no error on '" << field << "' containing '" << message << "'; got:\n"
         << dump(r);
}

// Exactly one error, on `field`, containing `message`.
inline ::testing::AssertionResult onlyError(const std::string& text, const std::string& field,
                                            const std::string& message) {
  auto r = load(text);
  if (r.errors.size() != 1)
    return ::testing::AssertionFailure()
           << "expected exactly one error, got " << r.errors.size() << ":\n"
           << dump(r);
  return hasError(r, field, message);
}

inline ::testing::AssertionResult valid(const std::string& text) {
  auto r = load(text);
  if (r.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << dump(r);
}

}  // namespace lvsd::config::testing
