#include "feedback/agent_protocol.h"

#include <algorithm>
#include <cctype>

#include "core/address.h"
#include "core/framing.h"

namespace lvsd::feedback {

namespace {

uint32_t frameLength(const std::string& buf) {
  auto b = [&](size_t i) { return static_cast<uint32_t>(static_cast<uint8_t>(buf[i])); };
  return (b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3);
}

// Appends bytes to a length-prefixed frame in `buf`, never beyond the frame
// and never past `limit` payload bytes (refused as soon as the header says so).
enum class Frame : uint8_t { kNeedMore, kComplete, kOversized, kTrailing };
Frame accumulate(std::string& buf, std::string_view bytes, size_t limit, uint32_t& announced) {
  size_t want = 4;
  if (buf.size() + bytes.size() >= 4) {
    std::string head =
        buf.size() >= 4 ? buf.substr(0, 4) : buf + std::string(bytes.substr(0, 4 - buf.size()));
    announced = frameLength(head);
    if (announced > limit) return Frame::kOversized;
    want = 4 + announced;
  }
  size_t take = std::min(bytes.size(), want - buf.size());
  buf.append(bytes.substr(0, take));
  if (take < bytes.size()) return Frame::kTrailing;
  return buf.size() < want ? Frame::kNeedMore : Frame::kComplete;
}

std::string tooLarge(const char* what, uint32_t n, size_t limit) {
  return std::string(what) + " frame of " + std::to_string(n) + " bytes exceeds " +
         std::to_string(limit);
}

bool isTextByte(unsigned char c) { return c == '\t' || c == '\r' || (c >= 0x20 && c != 0x7f); }

std::string stripLine(std::string s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == '\n')) s.pop_back();
  return s;
}

}  // namespace

const char* protocolErrorName(ProtocolError e) {
  switch (e) {
    case ProtocolError::kMalformed:
      return "malformed";
    case ProtocolError::kOversized:
      return "oversized";
    case ProtocolError::kSlow:
      return "slow";
    case ProtocolError::kNone:
      break;
  }
  return "none";
}

RequestParser::State RequestParser::fail(ProtocolError e, std::string detail) {
  error_ = e;
  detail_ = std::move(detail);
  buf_.clear();
  return state_ = State::kError;
}

RequestParser::State RequestParser::feed(std::string_view bytes) {
  if (state_ != State::kNeedMore || bytes.empty()) return state_;
  if (buf_.empty() && !binary_) binary_ = bytes[0] == '\0';
  if (binary_) {
    uint32_t len = 0;
    switch (accumulate(buf_, bytes, kMaxAgentRequest, len)) {
      case Frame::kNeedMore:
        return state_;
      case Frame::kOversized:
        return fail(ProtocolError::kOversized, tooLarge("request", len, kMaxAgentRequest));
      case Frame::kTrailing:
        return fail(ProtocolError::kMalformed, "bytes after the request frame");
      case Frame::kComplete:
        break;
    }
    // A zero-length frame is an empty request: all defaults.
    if (!request_.ParseFromArray(buf_.data() + 4, static_cast<int>(buf_.size() - 4)))
      return fail(ProtocolError::kMalformed, "request frame is not an AgentRequest");
    return state_ = State::kBinary;
  }
  for (char c : bytes) {
    if (c == '\n') {
      buf_ = stripLine(std::move(buf_));
      return state_ = State::kText;
    }
    if (!isTextByte(static_cast<unsigned char>(c)))
      return fail(ProtocolError::kMalformed, "control byte in text request");
    if (buf_.size() >= kMaxTextRequest)
      return fail(ProtocolError::kOversized,
                  "text request longer than " + std::to_string(kMaxTextRequest) + " bytes");
    buf_.push_back(c);
  }
  return state_;
}

RequestParser::State RequestParser::quiet() {
  if (state_ != State::kNeedMore) return state_;
  if (binary_)
    return fail(ProtocolError::kSlow, "request frame incomplete: " + std::to_string(buf_.size()) +
                                          " bytes received");
  buf_ = stripLine(std::move(buf_));
  return state_ = State::kText;
}

ReportReader::State ReportReader::fail(ProtocolError e, std::string detail) {
  error_ = e;
  detail_ = std::move(detail);
  buf_.clear();
  return state_ = State::kError;
}

ReportReader::State ReportReader::feed(std::string_view bytes) {
  if (state_ != State::kNeedMore || bytes.empty()) return state_;
  if (buf_.empty() && bytes[0] != '\0') {
    // A text agent (or anything else) answered: not our protocol.
    std::string shown(bytes.substr(0, std::min<size_t>(bytes.size(), 40)));
    for (char& c : shown)
      if (!isTextByte(static_cast<unsigned char>(c)) || c == '\r') c = '.';
    return fail(ProtocolError::kMalformed, "answer is not a report frame: '" + shown + "'");
  }
  uint32_t len = 0;
  switch (accumulate(buf_, bytes, kMaxAgentReport, len)) {
    case Frame::kNeedMore:
      return state_;
    case Frame::kOversized:
      return fail(ProtocolError::kOversized, tooLarge("report", len, kMaxAgentReport));
    case Frame::kTrailing:
      return fail(ProtocolError::kMalformed, "bytes after the report frame");
    case Frame::kComplete:
      break;
  }
  if (!report_.ParseFromArray(buf_.data() + 4, static_cast<int>(buf_.size() - 4)))
    return fail(ProtocolError::kMalformed, "report frame is not an AgentReport");
  if (report_.version() == 0)
    return fail(ProtocolError::kMalformed, "report without a protocol version");
  return state_ = State::kDone;
}

ReportReader::State ReportReader::incomplete(bool closed) {
  if (state_ != State::kNeedMore) return state_;
  std::string got = std::to_string(buf_.size()) + " bytes of the report received";
  if (closed) return fail(ProtocolError::kMalformed, "agent closed early: " + got);
  return fail(ProtocolError::kSlow, "agent too slow: " + got);
}

std::string encodeRequest(const agent::AgentRequest& req) {
  return encodeFrame(req.SerializeAsString());
}

std::string encodeReport(const agent::AgentReport& report) {
  return encodeFrame(report.SerializeAsString());
}

std::string formatTextAnswer(const agent::AgentReport& r) {
  switch (r.state()) {
    case agent::DOWN: {
      std::string reason = r.reason();
      // The description must stay on one line.
      std::replace_if(reason.begin(), reason.end(), [](char c) { return c == '\n' || c == '\r'; },
                      ' ');
      return reason.empty() ? "down\n" : "down #" + reason + "\n";
    }
    case agent::DRAIN:
      return "drain\n";
    default:
      break;
  }
  if (!r.valid()) return "up ready\n";
  return "up ready " + std::to_string(r.capacity_pct()) + "%\n";
}

Result<TextAnswer> parseTextAnswer(std::string_view line) {
  if (line.size() > kMaxTextRequest) return Error("text answer longer than 256 bytes");
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  TextAnswer a;
  size_t hash = line.find('#');
  if (hash != std::string_view::npos) {
    a.description = std::string(line.substr(hash + 1));
    line = line.substr(0, hash);
  }
  size_t i = 0;
  while (i < line.size()) {
    auto sep = [](char c) { return c == ' ' || c == '\t' || c == ','; };
    while (i < line.size() && sep(line[i])) ++i;
    size_t j = i;
    while (j < line.size() && !sep(line[j])) ++j;
    std::string word(line.substr(i, j - i));
    i = j;
    if (word.empty()) continue;
    std::transform(word.begin(), word.end(), word.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (word.back() == '%') {
      auto v = parseUnsigned(std::string_view(word).substr(0, word.size() - 1), 100000);
      if (!v) return Error("bad weight '" + word + "'");
      a.weightPct = static_cast<uint32_t>(*v);
    } else if (word.rfind("maxconn:", 0) == 0) {
      auto v = parseUnsigned(std::string_view(word).substr(8), UINT32_MAX);
      if (!v) return Error("bad maxconn '" + word + "'");
      a.maxconn = static_cast<uint32_t>(*v);
    } else if (word == "ready") {
      a.state = agent::READY;
    } else if (word == "drain") {
      a.state = agent::DRAIN;
    } else if (word == "maint" || word == "down" || word == "failed" || word == "stopped") {
      a.state = agent::DOWN;
    } else if (word == "up") {
      a.up = true;
    } else {
      return Error("unknown word '" + word + "'");
    }
  }
  return a;
}

}  // namespace lvsd::feedback
