#pragma once
// Pure HTTP/1.1 pieces of the HTTP(S) probe: request text, an incremental
// response parser (Content-Length, chunked, or until close; RFC 9112 §6)
// and the verdict (status ranges, body regex or SHA-256 digest).

#include <cstdint>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/digest.h"
#include "core/result.h"
#include "healthcheck/checker.h"
#include "proto/config.pb.h"

namespace lvsd::healthcheck {

// keepAlive: ask for a persistent connection (HTTP/1.1 default) instead of
// "Connection: close".
std::string httpRequest(std::string_view path, std::string_view host, bool keepAlive = false);

class HttpResponseParser {
 public:
  enum class State { kNeedMore, kDone, kError };
  // keepBody=false: the body is framed and counted (max_body_bytes still
  // applies) but not stored; body() stays empty. For checks that look at
  // the status only, which is most of them: one allocation less per check.
  explicit HttpResponseParser(size_t maxBody, bool keepBody = true)
      : maxBody_(maxBody), keepBody_(keepBody) {}

  State feed(std::string_view data);
  // The peer closed the connection.
  State eof();

  State state() const { return state_; }
  int status() const { return status_; }
  const std::string& body() const { return body_; }
  // The body went past maxBody; body() holds its first maxBody bytes.
  bool truncated() const { return truncated_; }
  const std::string& error() const { return error_; }
  // The connection may carry another request: HTTP/1.1 without
  // "Connection: close", a complete body framed by length or chunks (RFC
  // 9112 §9.3), nothing left unread.
  bool reusable() const;

 private:
  enum class Phase { kHead, kBodyLength, kBodyUntilClose, kChunkSize, kChunkData, kChunkCrlf,
                     kTrailers };
  State fail(std::string e);
  State parseHead(std::string_view head);
  void appendBody(std::string_view data);

  size_t maxBody_;
  bool keepBody_ = true;
  size_t bodySize_ = 0;
  State state_ = State::kNeedMore;
  Phase phase_ = Phase::kHead;
  std::string buf_;
  int status_ = 0;
  uint64_t remaining_ = 0;
  std::string body_;
  bool truncated_ = false;
  bool http11_ = false;
  bool connectionClose_ = false;
  std::string error_;
};

// A regular expression over a body or an answer (ECMAScript syntax, what the
// config validator accepts) that is safe on any input up to 64 KiB. Plain
// std::regex_search in libstdc++ backtracks recursively, one stack frame or
// more per byte, and restarts at every position: `a*b` over 32 KiB of 'a'
// overflows an 8 MiB stack, and over 4 KiB takes seconds. Here the pattern
// runs as "[\s\S]*(?:PATTERN)" in libstdc++'s polynomial (breadth-first,
// Thompson) mode from the first byte only: one pass over the input, memory
// and recursion bounded by the pattern's size, never by the input's.
// Back-references cannot run in that mode; the config validator refuses
// them and compile() returns an error.
class BodyRegex {
 public:
  static Result<BodyRegex> compile(const std::string& pattern);
  // Whether the pattern matches anywhere in `text` (std::regex_search).
  bool search(std::string_view text) const;

 private:
  std::shared_ptr<const std::regex> anywhere_;
};

// Accepted status codes: "200", "200-299"; none = 200-299.
Result<std::vector<std::pair<int, int>>> parseStatusRanges(
    const google::protobuf::RepeatedPtrField<std::string>& specs);

// What an HTTP probe expects, compiled once per check.
struct HttpExpect {
  std::vector<std::pair<int, int>> status;
  std::optional<BodyRegex> bodyRegex;
  std::string bodySha256;  // lower-case hex, empty = none
  size_t maxBody = 65536;

  static Result<HttpExpect> fromProto(const config::HttpProbe& p);
  bool needsBody() const { return bodyRegex.has_value() || !bodySha256.empty(); }
};

// Verdict for a response the parser finished (state kDone).
ProbeResult judgeHttp(const HttpExpect& expect, const HttpResponseParser& response);

using ::lvsd::sha256Hex;

}  // namespace lvsd::healthcheck
