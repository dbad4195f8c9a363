#include "feedback/agent_protocol.h"

#include <gtest/gtest.h>

namespace lvsd::feedback {
namespace {

using S = RequestParser::State;
using R = ReportReader::State;

std::string frame(const std::string& payload) {
  uint32_t n = static_cast<uint32_t>(payload.size());
  std::string out{static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
                  static_cast<char>(n)};
  return out + payload;
}

agent::AgentRequest request(uint32_t samples, uint32_t interval) {
  agent::AgentRequest r;
  r.set_version(1);
  r.set_samples(samples);
  r.set_sample_interval_ms(interval);
  return r;
}

TEST(RequestParser, BinaryInOnePiece) {
  RequestParser p;
  EXPECT_EQ(p.feed(encodeRequest(request(5, 5000))), S::kBinary);
  EXPECT_EQ(p.request().samples(), 5u);
  EXPECT_EQ(p.request().sample_interval_ms(), 5000u);
}

TEST(RequestParser, BinaryByteByByte) {
  std::string wire = encodeRequest(request(7, 1000));
  RequestParser p;
  for (size_t i = 0; i + 1 < wire.size(); ++i) ASSERT_EQ(p.feed(wire.substr(i, 1)), S::kNeedMore) << i;
  EXPECT_EQ(p.feed(wire.substr(wire.size() - 1)), S::kBinary);
  EXPECT_EQ(p.request().samples(), 7u);
}

TEST(RequestParser, EmptyBinaryFrameMeansDefaults) {
  RequestParser p;
  EXPECT_EQ(p.feed(std::string(4, '\0')), S::kBinary);
  EXPECT_EQ(p.request().samples(), 0u);
}

TEST(RequestParser, OversizedBinaryIsRefusedFromTheHeader) {
  RequestParser p;
  // The header alone announces 257 bytes: refused before any payload.
  EXPECT_EQ(p.feed(std::string("\0\0\x01\x01", 4)), S::kError);
  EXPECT_EQ(p.error(), ProtocolError::kOversized);
  RequestParser huge;
  EXPECT_EQ(huge.feed(std::string("\0\xff\xff\xff", 4)), S::kError);
  EXPECT_EQ(huge.error(), ProtocolError::kOversized);
  RequestParser atLimit;
  EXPECT_EQ(atLimit.feed(frame(std::string(256, '\x0f'))), S::kError);  // 256 B but not a proto
  EXPECT_EQ(atLimit.error(), ProtocolError::kMalformed);
}

TEST(RequestParser, MalformedBinary) {
  RequestParser garbage;
  EXPECT_EQ(garbage.feed(frame("\xff\xff\xff")), S::kError);
  EXPECT_EQ(garbage.error(), ProtocolError::kMalformed);
  RequestParser trailing;
  EXPECT_EQ(trailing.feed(encodeRequest(request(5, 5000)) + "x"), S::kError);
  EXPECT_EQ(trailing.error(), ProtocolError::kMalformed);
  // Once final, more bytes change nothing.
  EXPECT_EQ(trailing.feed("more"), S::kError);
}

TEST(RequestParser, SlowBinaryIsAnErrorNotText) {
  RequestParser p;
  EXPECT_EQ(p.feed(std::string("\0\0", 2)), S::kNeedMore);
  EXPECT_EQ(p.quiet(), S::kError);
  EXPECT_EQ(p.error(), ProtocolError::kSlow);
  RequestParser q;
  std::string wire = encodeRequest(request(5, 5000));
  EXPECT_EQ(q.feed(wire.substr(0, wire.size() - 1)), S::kNeedMore);
  EXPECT_EQ(q.eof(), S::kError);
  EXPECT_EQ(q.error(), ProtocolError::kSlow);
}

TEST(RequestParser, SilentClientGetsText) {
  RequestParser p;
  EXPECT_EQ(p.quiet(), S::kText);
  EXPECT_EQ(p.line(), "");
}

TEST(RequestParser, AgentSendLine) {
  RequestParser p;
  EXPECT_EQ(p.feed("be_web/"), S::kNeedMore);
  EXPECT_EQ(p.feed("srv1\r\n"), S::kText);
  EXPECT_EQ(p.line(), "be_web/srv1");
  RequestParser unterminated;
  EXPECT_EQ(unterminated.feed("hello"), S::kNeedMore);
  EXPECT_EQ(unterminated.quiet(), S::kText);
  EXPECT_EQ(unterminated.line(), "hello");
}

TEST(RequestParser, OversizedOrBinaryGarbageText) {
  RequestParser p;
  EXPECT_EQ(p.feed(std::string(256, 'a')), S::kNeedMore);
  EXPECT_EQ(p.feed("a"), S::kError);
  EXPECT_EQ(p.error(), ProtocolError::kOversized);
  RequestParser ctl;
  EXPECT_EQ(ctl.feed("GET \x01\n"), S::kError);
  EXPECT_EQ(ctl.error(), ProtocolError::kMalformed);
  RequestParser del;
  EXPECT_EQ(del.feed("a\x7f"), S::kError);
}

agent::AgentReport report() {
  agent::AgentReport r;
  r.set_version(1);
  r.set_state(agent::READY);
  r.set_valid(true);
  r.set_mem_available_kb(123456);
  r.set_capacity_pct(75);
  return r;
}

TEST(ReportReader, WholeAndSplit) {
  std::string wire = encodeReport(report());
  ReportReader whole;
  EXPECT_EQ(whole.feed(wire), R::kDone);
  EXPECT_DOUBLE_EQ(whole.report().mem_available_kb(), 123456);
  ReportReader split;
  for (size_t i = 0; i + 1 < wire.size(); ++i) ASSERT_EQ(split.feed(wire.substr(i, 1)), R::kNeedMore);
  EXPECT_EQ(split.feed(wire.substr(wire.size() - 1)), R::kDone);
}

TEST(ReportReader, Oversized) {
  ReportReader r;
  EXPECT_EQ(r.feed(std::string("\0\0\x10\x01", 4)), R::kError);  // 4097
  EXPECT_EQ(r.error(), ProtocolError::kOversized);
}

TEST(ReportReader, Malformed) {
  ReportReader text;
  EXPECT_EQ(text.feed("up ready 75%\n"), R::kError);
  EXPECT_EQ(text.error(), ProtocolError::kMalformed);
  EXPECT_NE(text.detail().find("up ready 75%."), std::string::npos);
  ReportReader junk;
  EXPECT_EQ(junk.feed(frame("\x0a\xff")), R::kError);
  EXPECT_EQ(junk.error(), ProtocolError::kMalformed);
  ReportReader noVersion;
  agent::AgentReport r = report();
  r.clear_version();
  EXPECT_EQ(noVersion.feed(encodeReport(r)), R::kError);
  ReportReader trailing;
  EXPECT_EQ(trailing.feed(encodeReport(report()) + "z"), R::kError);
}

TEST(ReportReader, SlowOrClosedEarly) {
  std::string wire = encodeReport(report());
  ReportReader slow;
  EXPECT_EQ(slow.feed(wire.substr(0, 6)), R::kNeedMore);
  EXPECT_EQ(slow.incomplete(false), R::kError);
  EXPECT_EQ(slow.error(), ProtocolError::kSlow);
  ReportReader closed;
  EXPECT_EQ(closed.feed(wire.substr(0, 2)), R::kNeedMore);
  EXPECT_EQ(closed.incomplete(true), R::kError);
  EXPECT_EQ(closed.error(), ProtocolError::kMalformed);
  ReportReader nothing;
  EXPECT_EQ(nothing.incomplete(false), R::kError);
  EXPECT_EQ(nothing.error(), ProtocolError::kSlow);
}

TEST(TextAnswer, FormatsEachState) {
  agent::AgentReport r = report();
  EXPECT_EQ(formatTextAnswer(r), "up ready 75%\n");
  r.set_valid(false);
  EXPECT_EQ(formatTextAnswer(r), "up ready\n");
  r.set_state(agent::DRAIN);
  EXPECT_EQ(formatTextAnswer(r), "drain\n");
  r.set_state(agent::DOWN);
  EXPECT_EQ(formatTextAnswer(r), "down\n");
  r.set_reason("two\nlines");
  EXPECT_EQ(formatTextAnswer(r), "down #two lines\n");
}

TEST(TextAnswer, ParsesHaproxyGrammar) {
  auto a = parseTextAnswer("up ready 75%\n");
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_TRUE(a->up);
  EXPECT_EQ(a->state, agent::READY);
  EXPECT_EQ(a->weightPct, 75u);
  auto b = parseTextAnswer("DRAIN,maxconn:30\r\n");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->state, agent::DRAIN);
  EXPECT_EQ(b->maxconn, 30u);
  auto c = parseTextAnswer("down #disk full, sorry");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->state, agent::DOWN);
  EXPECT_EQ(c->description, "disk full, sorry");
  EXPECT_FALSE(parseTextAnswer("sideways"));
  EXPECT_FALSE(parseTextAnswer("x%"));
  EXPECT_FALSE(parseTextAnswer(std::string(300, ' ')));
  // Round trip of every answer the agent makes.
  for (auto st : {agent::READY, agent::DRAIN, agent::DOWN}) {
    agent::AgentReport r = report();
    r.set_state(st);
    auto p = parseTextAnswer(formatTextAnswer(r));
    ASSERT_TRUE(p);
    EXPECT_EQ(p->state, st);
  }
}

}  // namespace
}  // namespace lvsd::feedback
