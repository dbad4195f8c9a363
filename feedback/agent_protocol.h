#pragma once
// The lvs-agent wire protocols (proto/agent.proto), pure: incremental,
// bounded parsers for what crosses the socket in both directions, so that a
// malformed, oversized or slow peer is an error value, never a crash or an
// unbounded buffer.
//
// One port, two dialects, told apart by the first byte the client sends:
//   0x00        binary: 4-byte big-endian length + AgentRequest (<= 256 B)
//   printable   text (HAProxy agent-send): one line, <= 256 B
//   nothing     text: the client only reads (HAProxy without agent-send)
// Answers: binary = one frame holding an AgentReport (<= 4096 B); text = one
// line in HAProxy's agent-check grammar ("up ready 75%", "drain", "down").

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "proto/agent.pb.h"

namespace lvsd::feedback {

inline constexpr size_t kMaxAgentRequest = 256;  // binary request payload
inline constexpr size_t kMaxTextRequest = 256;   // agent-send line
inline constexpr size_t kMaxAgentReport = 4096;  // report payload
inline constexpr uint32_t kAgentProtocolVersion = 1;

// Why a peer's bytes were refused (counted separately).
enum class ProtocolError : uint8_t { kNone, kMalformed, kOversized, kSlow };
const char* protocolErrorName(ProtocolError e);  // "malformed" "oversized" "slow"

// Agent side: what did the client ask?
class RequestParser {
 public:
  enum class State : uint8_t { kNeedMore, kBinary, kText, kError };

  // Consumes bytes; once the state is final, further bytes are ignored.
  State feed(std::string_view bytes);
  // The client went quiet for the greeting wait: a client that sent nothing
  // or an unterminated text line gets a text answer; a partial binary frame
  // is an error (slow).
  State quiet();
  // The peer closed its sending side (EOF) after what it sent.
  State eof() { return quiet(); }

  State state() const { return state_; }
  const agent::AgentRequest& request() const { return request_; }  // kBinary
  const std::string& line() const { return buf_; }                  // kText (without CR/LF)
  ProtocolError error() const { return error_; }
  const std::string& detail() const { return detail_; }

 private:
  State fail(ProtocolError e, std::string detail);
  State state_ = State::kNeedMore;
  bool binary_ = false;
  std::string buf_;
  agent::AgentRequest request_;
  ProtocolError error_ = ProtocolError::kNone;
  std::string detail_;
};

// lvsd side: one framed AgentReport.
class ReportReader {
 public:
  enum class State : uint8_t { kNeedMore, kDone, kError };
  State feed(std::string_view bytes);
  // The deadline passed or the agent closed before a whole frame.
  State incomplete(bool closed);

  State state() const { return state_; }
  const agent::AgentReport& report() const { return report_; }
  ProtocolError error() const { return error_; }
  const std::string& detail() const { return detail_; }

 private:
  State fail(ProtocolError e, std::string detail);
  State state_ = State::kNeedMore;
  std::string buf_;
  agent::AgentReport report_;
  ProtocolError error_ = ProtocolError::kNone;
  std::string detail_;
};

std::string encodeRequest(const agent::AgentRequest& req);  // framed
std::string encodeReport(const agent::AgentReport& report);  // framed

// The text answer for a report, newline-terminated:
//   DOWN  -> "down #REASON"      DRAIN -> "drain"
//   READY -> "up ready N%" (N = capacity_pct), or "up ready" without a valid window.
std::string formatTextAnswer(const agent::AgentReport& report);

// HAProxy agent-check grammar (words split by spaces, tabs or commas; a '#'
// starts a free-text description), for tests and for text-only agents.
struct TextAnswer {
  std::optional<uint32_t> weightPct;
  std::optional<agent::ServerState> state;  // ready/drain/maint(=DOWN)/down/failed/stopped
  bool up = false;
  std::optional<uint32_t> maxconn;
  std::string description;
};
Result<TextAnswer> parseTextAnswer(std::string_view line);

}  // namespace lvsd::feedback
