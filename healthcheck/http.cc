#include "healthcheck/http.h"


#include <algorithm>
#include <cctype>

#include "core/address.h"

namespace lvsd::healthcheck {

namespace {

constexpr size_t kMaxHead = 16 * 1024;
constexpr size_t kMaxLine = 1024;

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string httpRequest(std::string_view path, std::string_view host, bool keepAlive) {
  std::string r = "GET ";
  r += path.empty() ? "/" : path;
  r += " HTTP/1.1\r\nHost: ";
  r += host;
  r += "\r\nUser-Agent: lvsd-healthcheck\r\nAccept: */*\r\n";
  if (!keepAlive) r += "Connection: close\r\n";
  r += "\r\n";
  return r;
}

bool HttpResponseParser::reusable() const {
  return state_ == State::kDone && http11_ && !connectionClose_ && !truncated_ &&
         phase_ != Phase::kBodyUntilClose && buf_.empty();
}

HttpResponseParser::State HttpResponseParser::fail(std::string e) {
  error_ = std::move(e);
  return state_ = State::kError;
}

void HttpResponseParser::appendBody(std::string_view data) {
  size_t room = maxBody_ - bodySize_;
  if (data.size() > room) {
    if (keepBody_) body_.append(data.substr(0, room));
    bodySize_ = maxBody_;
    truncated_ = true;
    state_ = State::kDone;
    return;
  }
  if (keepBody_) body_.append(data);
  bodySize_ += data.size();
}

HttpResponseParser::State HttpResponseParser::parseHead(std::string_view head) {
  // Status line: HTTP/1.x SP 3DIGIT SP reason (RFC 9112 §4).
  auto eol = head.find("\r\n");
  std::string_view line = head.substr(0, eol);
  if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || line[8] != ' ')
    return fail("malformed status line");
  auto code = parseUnsigned(line.substr(9, 3), 999);
  if (!code || *code < 100 || (line.size() > 12 && line[12] != ' '))
    return fail("malformed status line");
  status_ = static_cast<int>(*code);
  http11_ = line[7] == '1';

  std::optional<uint64_t> length;
  bool chunked = false;
  size_t pos = eol == std::string_view::npos ? head.size() : eol + 2;
  while (pos < head.size()) {
    auto next = head.find("\r\n", pos);
    if (next == std::string_view::npos) next = head.size();
    std::string_view h = head.substr(pos, next - pos);
    pos = next + 2;
    if (h.empty()) break;
    auto colon = h.find(':');
    if (colon == std::string_view::npos || colon == 0) return fail("malformed header line");
    std::string name = lower(h.substr(0, colon));
    std::string_view value = trim(h.substr(colon + 1));
    if (name == "content-length") {
      auto n = parseUnsigned(value, UINT64_MAX);
      if (!n || (length && *length != *n)) return fail("bad Content-Length");
      length = *n;
    } else if (name == "connection") {
      connectionClose_ = connectionClose_ || lower(value).find("close") != std::string::npos;
    } else if (name == "transfer-encoding") {
      std::string v = lower(value);
      // chunked must be the final coding (RFC 9112 §6.1).
      chunked = v.size() >= 7 && v.compare(v.size() - 7, 7, "chunked") == 0;
      if (!chunked) return fail("unsupported Transfer-Encoding '" + std::string(value) + "'");
    }
  }
  if (status_ == 204 || status_ == 304 || status_ < 200) {
    // No body (RFC 9112 §6.3 rule 1). 1xx interim responses are not
    // expected: the request sends no Expect header.
    return state_ = State::kDone;
  }
  if (chunked) {
    phase_ = Phase::kChunkSize;
  } else if (length) {
    remaining_ = *length;
    phase_ = Phase::kBodyLength;
    if (remaining_ == 0) return state_ = State::kDone;
  } else {
    phase_ = Phase::kBodyUntilClose;
  }
  return state_;
}

HttpResponseParser::State HttpResponseParser::feed(std::string_view data) {
  if (state_ != State::kNeedMore) return state_;
  buf_.append(data);
  size_t pos = 0;
  while (state_ == State::kNeedMore) {
    std::string_view rest = std::string_view(buf_).substr(pos);
    switch (phase_) {
      case Phase::kHead: {
        auto end = rest.find("\r\n\r\n");
        if (end == std::string_view::npos) {
          if (rest.size() > kMaxHead) return fail("response head exceeds 16 KiB");
          buf_.erase(0, pos);
          return state_;
        }
        pos += end + 4;
        parseHead(rest.substr(0, end + 2));
        break;
      }
      case Phase::kBodyLength: {
        size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, rest.size()));
        appendBody(rest.substr(0, n));
        pos += n;
        remaining_ -= n;
        if (remaining_ == 0) state_ = State::kDone;
        if (state_ == State::kNeedMore) {
          buf_.clear();
          return state_;
        }
        break;
      }
      case Phase::kBodyUntilClose:
        appendBody(rest);
        buf_.clear();
        return state_;
      case Phase::kChunkSize: {
        auto eol = rest.find("\r\n");
        if (eol == std::string_view::npos) {
          if (rest.size() > kMaxLine) return fail("chunk size line too long");
          buf_.erase(0, pos);
          return state_;
        }
        std::string_view line = rest.substr(0, eol);
        line = line.substr(0, line.find(';'));  // chunk extensions
        line = trim(line);
        uint64_t size = 0;
        if (line.empty() || line.size() > 15) return fail("bad chunk size");
        for (char c : line) {
          int v = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
                  : (c >= 'a' && c <= 'f')                     ? c - 'a' + 10
                  : (c >= 'A' && c <= 'F')                     ? c - 'A' + 10
                                                               : -1;
          if (v < 0) return fail("bad chunk size");
          size = size * 16 + static_cast<uint64_t>(v);
        }
        pos += eol + 2;
        remaining_ = size;
        phase_ = size == 0 ? Phase::kTrailers : Phase::kChunkData;
        break;
      }
      case Phase::kChunkData: {
        size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, rest.size()));
        appendBody(rest.substr(0, n));
        pos += n;
        remaining_ -= n;
        if (state_ != State::kNeedMore) break;
        if (remaining_ > 0) {
          buf_.clear();
          return state_;
        }
        phase_ = Phase::kChunkCrlf;
        break;
      }
      case Phase::kChunkCrlf:
        if (rest.size() < 2) {
          buf_.erase(0, pos);
          return state_;
        }
        if (rest.substr(0, 2) != "\r\n") return fail("missing CRLF after chunk");
        pos += 2;
        phase_ = Phase::kChunkSize;
        break;
      case Phase::kTrailers: {
        // Trailer fields end with an empty line (RFC 9112 §7.1.2); their
        // content does not matter here.
        auto eol = rest.find("\r\n");
        if (eol == std::string_view::npos) {
          if (rest.size() > kMaxHead) return fail("trailers exceed 16 KiB");
          buf_.erase(0, pos);
          return state_;
        }
        pos += eol + 2;
        if (eol == 0) state_ = State::kDone;
        break;
      }
    }
  }
  // Keep only what follows the response (nothing, on a well-behaved peer).
  buf_.erase(0, pos);
  return state_;
}

HttpResponseParser::State HttpResponseParser::eof() {
  if (state_ != State::kNeedMore) return state_;
  if (phase_ == Phase::kBodyUntilClose) return state_ = State::kDone;
  if (phase_ == Phase::kHead)
    return fail(buf_.empty() ? "connection closed without a response"
                             : "connection closed inside the response head");
  return fail("connection closed before the end of the body");
}

Result<std::vector<std::pair<int, int>>> parseStatusRanges(
    const google::protobuf::RepeatedPtrField<std::string>& specs) {
  std::vector<std::pair<int, int>> out;
  for (const auto& s : specs) {
    std::string_view v(s);
    auto dash = v.find('-');
    auto lo = parseUnsigned(v.substr(0, dash), 599);
    auto hi = dash == std::string_view::npos ? lo : parseUnsigned(v.substr(dash + 1), 599);
    if (!lo || !hi || *lo < 100 || *hi < *lo)
      return Error("bad status '" + s + "' (expected NNN or NNN-NNN within 100..599)");
    out.emplace_back(static_cast<int>(*lo), static_cast<int>(*hi));
  }
  if (out.empty()) out.emplace_back(200, 299);
  return out;
}

Result<BodyRegex> BodyRegex::compile(const std::string& pattern) {
  namespace rc = std::regex_constants;
  try {
    // The pattern alone first, so that its own errors are reported as such
    // (wrapped, "a)(b" would compile).
    std::regex own(pattern, std::regex::ECMAScript | rc::__polynomial);
  } catch (const std::regex_error& ex) {
    if (ex.code() == rc::error_complexity) return Error("back-references are not supported");
    return Error(ex.what());
  }
  BodyRegex r;
  try {
    r.anywhere_ = std::make_shared<const std::regex>("[\\s\\S]*(?:" + pattern + ")",
                                                     std::regex::ECMAScript | rc::__polynomial);
  } catch (const std::regex_error& ex) {
    return Error(ex.what());
  }
  return r;
}

bool BodyRegex::search(std::string_view text) const {
  // match_continuous: one run from the first byte (the leading [\s\S]* covers
  // every start position) instead of one run per start position.
  return std::regex_search(text.begin(), text.end(), *anywhere_, std::regex_constants::match_continuous);
}

Result<HttpExpect> HttpExpect::fromProto(const config::HttpProbe& p) {
  HttpExpect e;
  auto ranges = parseStatusRanges(p.status());
  if (!ranges) return std::move(ranges).takeError();
  e.status = std::move(*ranges);
  if (!p.body_regex().empty()) {
    auto re = BodyRegex::compile(p.body_regex());
    if (!re) return Error("bad body_regex '" + p.body_regex() + "': " + re.error().message);
    e.bodyRegex = std::move(*re);
  }
  if (!p.body_sha256().empty()) {
    e.bodySha256 = p.body_sha256();
    for (auto& c : e.bodySha256) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (e.bodySha256.size() != 64 ||
        e.bodySha256.find_first_not_of("0123456789abcdef") != std::string::npos)
      return Error("body_sha256 must be 64 hex digits");
  }
  e.maxBody = p.max_body_bytes();
  return e;
}


ProbeResult judgeHttp(const HttpExpect& expect, const HttpResponseParser& r) {
  if (r.state() == HttpResponseParser::State::kError) return ProbeResult::fail(r.error());
  int code = r.status();
  bool okStatus = std::any_of(expect.status.begin(), expect.status.end(),
                              [&](const auto& range) { return code >= range.first && code <= range.second; });
  if (!okStatus) return ProbeResult::fail("status " + std::to_string(code));
  if (!expect.bodySha256.empty()) {
    if (r.truncated())
      return ProbeResult::fail("body exceeds max_body_bytes " + std::to_string(expect.maxBody) +
                               " (digest needs the whole body)");
    std::string got = sha256Hex(r.body());
    if (got != expect.bodySha256) return ProbeResult::fail("body sha256 " + got.substr(0, 16) + "… mismatch");
  }
  if (expect.bodyRegex && !expect.bodyRegex->search(r.body()))
    return ProbeResult::fail("body does not match regex");
  return ProbeResult::ok("status " + std::to_string(code));
}

}  // namespace lvsd::healthcheck
