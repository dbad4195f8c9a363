#include "healthcheck/http.h"

#include <gtest/gtest.h>

#include <regex>

namespace lvsd::healthcheck {
namespace {

using State = HttpResponseParser::State;

// Feeds `text` in pieces of `step` bytes.
HttpResponseParser parseIn(const std::string& text, size_t step, size_t maxBody = 65536,
                           bool close = true) {
  HttpResponseParser p(maxBody);
  for (size_t i = 0; i < text.size() && p.state() == State::kNeedMore; i += step)
    p.feed(std::string_view(text).substr(i, step));
  if (close) p.eof();
  return p;
}

TEST(Http, Request) {
  EXPECT_EQ(httpRequest("/health", "example.org"),
            "GET /health HTTP/1.1\r\nHost: example.org\r\nUser-Agent: lvsd-healthcheck\r\n"
            "Accept: */*\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(httpRequest("", "h").substr(0, 6), "GET / ");
}

TEST(Http, ContentLengthInEveryChunking) {
  const std::string r = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX: y\r\n\r\nhelloEXTRA";
  for (size_t step = 1; step <= r.size(); ++step) {
    auto p = parseIn(r, step, 65536, /*close=*/false);
    ASSERT_EQ(p.state(), State::kDone) << step;
    EXPECT_EQ(p.status(), 200);
    EXPECT_EQ(p.body(), "hello");
    EXPECT_FALSE(p.truncated());
  }
}

TEST(Http, ChunkedInEveryChunking) {
  const std::string r =
      "HTTP/1.1 503 Service Unavailable\r\ntransfer-encoding: Chunked\r\n\r\n"
      "4;ext=1\r\nWiki\r\n6\r\npedia \r\nE\r\nin \r\n\r\nchunks.\r\n0\r\nTrailer: x\r\n\r\n";
  for (size_t step = 1; step <= r.size(); ++step) {
    auto p = parseIn(r, step, 65536, /*close=*/false);
    ASSERT_EQ(p.state(), State::kDone) << step << " " << p.error();
    EXPECT_EQ(p.status(), 503);
    EXPECT_EQ(p.body(), "Wikipedia in \r\n\r\nchunks.");
  }
}

TEST(Http, BodyUntilClose) {
  auto p = parseIn("HTTP/1.0 200 OK\r\n\r\nall of it", 3, 65536, /*close=*/false);
  EXPECT_EQ(p.state(), State::kNeedMore);
  p.eof();
  EXPECT_EQ(p.state(), State::kDone);
  EXPECT_EQ(p.body(), "all of it");
}

TEST(Http, NoBodyStatuses) {
  for (const char* r : {"HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n",
                        "HTTP/1.1 304 Not Modified\r\n\r\n"}) {
    auto p = parseIn(r, 1000, 65536, /*close=*/false);
    EXPECT_EQ(p.state(), State::kDone);
    EXPECT_TRUE(p.body().empty());
  }
  auto p = parseIn("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 1000, 65536, false);
  EXPECT_EQ(p.state(), State::kDone);
}

TEST(Http, MaxBodyTruncatesAndStops) {
  for (const char* r : {"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789",
                        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\n0\r\n\r\n",
                        "HTTP/1.1 200 OK\r\n\r\n0123456789"}) {
    auto p = parseIn(r, 7, 4, /*close=*/false);
    ASSERT_EQ(p.state(), State::kDone) << r;
    EXPECT_TRUE(p.truncated());
    EXPECT_EQ(p.body(), "0123");
  }
}

TEST(Http, Errors) {
  struct Case {
    const char* text;
    const char* error;
  };
  for (Case c : {Case{"", "connection closed without a response"},
                 Case{"HTTP/1.1 200 OK\r\nContent-Le", "connection closed inside the response head"},
                 Case{"SSH-2.0-OpenSSH\r\n\r\n", "malformed status line"},
                 Case{"HTTP/1.1 2x0 OK\r\n\r\n", "malformed status line"},
                 Case{"HTTP/1.1 200 OK\r\nbroken\r\n\r\n", "malformed header line"},
                 Case{"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
                      "bad Content-Length"},
                 Case{"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "bad Content-Length"},
                 Case{"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
                      "unsupported Transfer-Encoding 'gzip'"},
                 Case{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "bad chunk size"},
                 Case{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY", "missing CRLF after chunk"},
                 Case{"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc",
                      "connection closed before the end of the body"}}) {
    auto p = parseIn(c.text, 5);
    EXPECT_EQ(p.state(), State::kError) << c.text;
    EXPECT_EQ(p.error(), c.error) << c.text;
  }
  HttpResponseParser big(10);
  EXPECT_EQ(big.feed("HTTP/1.1 200 OK\r\n" + std::string(17000, 'a')), State::kError);
  EXPECT_EQ(big.error(), "response head exceeds 16 KiB");
}

TEST(Http, KeepAliveRequest) {
  std::string r = httpRequest("/", "h", /*keepAlive=*/true);
  EXPECT_EQ(r.find("Connection:"), std::string::npos);
  EXPECT_EQ(r.substr(r.size() - 4), "\r\n\r\n");
}

TEST(Http, ReusableOnlyForCompleteFramedHttp11Responses) {
  struct Case {
    const char* text;
    size_t maxBody;
    bool reusable;
  };
  for (Case c : {Case{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 100, true},
                 Case{"HTTP/1.1 204 No Content\r\n\r\n", 100, true},
                 Case{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX: 1\r\n\r\n", 100, true},
                 Case{"HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: 2\r\n\r\nok", 100, false},
                 Case{"HTTP/1.1 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 0\r\n\r\n", 100, false},
                 Case{"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", 100, false},
                 Case{"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nokok", 2, false},  // truncated
                 Case{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA", 100, false}}) {
    auto p = parseIn(c.text, 3, c.maxBody, /*close=*/false);
    ASSERT_EQ(p.state(), State::kDone) << c.text;
    EXPECT_EQ(p.reusable(), c.reusable) << c.text;
  }
  // Body until close: complete only at the close, never reusable.
  auto p = parseIn("HTTP/1.1 200 OK\r\n\r\nbody", 3);
  EXPECT_EQ(p.state(), State::kDone);
  EXPECT_FALSE(p.reusable());
  // Trailers arrive in pieces: done only after the empty line.
  HttpResponseParser t(100);
  EXPECT_EQ(t.feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: 1\r\n"), State::kNeedMore);
  EXPECT_EQ(t.feed("\r\n"), State::kDone);
  EXPECT_TRUE(t.reusable());
}

TEST(Http, StatusRanges) {
  google::protobuf::RepeatedPtrField<std::string> specs;
  auto def = parseStatusRanges(specs);
  ASSERT_TRUE(def.ok());
  EXPECT_EQ(*def, (std::vector<std::pair<int, int>>{{200, 299}}));
  *specs.Add() = "200";
  *specs.Add() = "301-302";
  auto r = parseStatusRanges(specs);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, (std::vector<std::pair<int, int>>{{200, 200}, {301, 302}}));
  for (const char* bad : {"", "99", "600", "302-301", "2xx", "200-", "-200"}) {
    google::protobuf::RepeatedPtrField<std::string> b;
    *b.Add() = bad;
    EXPECT_FALSE(parseStatusRanges(b).ok()) << bad;
  }
}

HttpResponseParser response(const std::string& text, size_t maxBody = 65536) {
  return parseIn(text, 1000, maxBody);
}

TEST(Http, JudgeStatusBodyRegexAndDigest) {
  config::HttpProbe p;
  auto e = HttpExpect::fromProto(p);
  ASSERT_TRUE(e.ok());
  EXPECT_FALSE(e->needsBody());
  auto ok = judgeHttp(*e, response("HTTP/1.1 204 No Content\r\n\r\n"));
  EXPECT_TRUE(ok.up);
  EXPECT_EQ(ok.reason, "status 204");
  auto bad = judgeHttp(*e, response("HTTP/1.1 503 Busy\r\n\r\n"));
  EXPECT_FALSE(bad.up);
  EXPECT_EQ(bad.reason, "status 503");
  EXPECT_EQ(judgeHttp(*e, response("garbage\r\n\r\n")).reason, "malformed status line");

  p.add_status("200-399");
  p.set_body_regex("ready: (yes|ok)");
  e = HttpExpect::fromProto(p);
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(judgeHttp(*e, response("HTTP/1.1 302 Found\r\n\r\nstate ready: ok\n")).up);
  EXPECT_EQ(judgeHttp(*e, response("HTTP/1.1 200 OK\r\n\r\nready: no")).reason,
            "body does not match regex");

  config::HttpProbe d;
  d.set_body_sha256("2CF24DBA5FB0A30E26E83B2AC5B9E29E1B161E5C1FA7425E73043362938B9824");  // "hello"
  d.set_max_body_bytes(5);
  e = HttpExpect::fromProto(d);
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(judgeHttp(*e, response("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")).up);
  auto wrong = judgeHttp(*e, response("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhellO"));
  EXPECT_FALSE(wrong.up);
  EXPECT_NE(wrong.reason.find("mismatch"), std::string::npos);
  auto big = judgeHttp(*e, response("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nhello!", 5));
  EXPECT_FALSE(big.up);
  EXPECT_NE(big.reason.find("exceeds max_body_bytes 5"), std::string::npos);
}

TEST(Http, BadExpectations) {
  config::HttpProbe p;
  p.set_body_regex("(unclosed");
  EXPECT_FALSE(HttpExpect::fromProto(p).ok());
  config::HttpProbe d;
  d.set_body_sha256("abc");
  EXPECT_FALSE(HttpExpect::fromProto(d).ok());
  config::HttpProbe s;
  s.add_status("99");
  EXPECT_FALSE(HttpExpect::fromProto(s).ok());
}

// BodyRegex agrees with std::regex_search wherever the latter is safe to run.
TEST(Http, BodyRegexAgreesWithRegexSearch) {
  const char* patterns[] = {"ready", "^OK", "^OK$", "OK$", "a|b", "(yes|ok)\\b", "x*", "[0-9]{3}",
                            "^$", "(?=ab)a", "a(?!b)", "\\bword\\b", "s.*e", "\\d+ms", "[^\\n]+$"};
  const char* texts[] = {"", "OK", "OK\n", "not OK", "ready: ok", "ab", "ac", "a word.",
                         "status 200 in 15ms", "line one\nline two", "yes", "xyz", "b"};
  for (const char* pat : patterns) {
    auto re = BodyRegex::compile(pat);
    ASSERT_TRUE(re.ok()) << pat;
    std::regex ref(pat, std::regex::ECMAScript);
    for (const char* t : texts)
      EXPECT_EQ(re->search(t), std::regex_search(std::string(t), ref)) << "/" << pat << "/ on '" << t << "'";
  }
}

TEST(Http, BodyRegexRefusesWhatItCannotRun) {
  EXPECT_FALSE(BodyRegex::compile("(unclosed").ok());
  EXPECT_FALSE(BodyRegex::compile("a)(b").ok());  // not hidden by the wrapping group
  auto backref = BodyRegex::compile("(a)\\1");
  ASSERT_FALSE(backref.ok());
  EXPECT_EQ(backref.error().message, "back-references are not supported");
}

// A 64 KiB body (the default max_body_bytes) with patterns that make
// std::regex_search recurse once or more per byte: "a*b" over 32 KiB of 'a'
// overflows an 8 MiB stack there (and takes seconds well before that).
// BodyRegex runs them in one breadth-first pass; the test passes by not
// crashing and by getting the answers right.
TEST(Http, BodyRegexOnLargeBody) {
  const size_t kBody = 65536;
  std::string body(kBody, 'a');
  for (const char* pat : {"a*b", "(a|aa)*c", "^(a+)+$", "[\\s\\S]*z", "a.*x"}) {
    auto re = BodyRegex::compile(pat);
    ASSERT_TRUE(re.ok()) << pat;
    bool expected = std::string(pat) == "^(a+)+$";
    EXPECT_EQ(re->search(body), expected) << pat;
  }
  std::string marked = body;
  marked[kBody - 1] = 'b';
  EXPECT_TRUE(BodyRegex::compile("a*b")->search(marked));
  EXPECT_TRUE(BodyRegex::compile("^a+b$")->search(marked));

  // The same through the HTTP probe's parser and verdict, body at the limit.
  config::HttpProbe p;
  p.set_body_regex("a*b");
  auto e = HttpExpect::fromProto(p);
  ASSERT_TRUE(e.ok());
  std::string head = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(kBody) + "\r\n\r\n";
  EXPECT_EQ(judgeHttp(*e, response(head + body)).reason, "body does not match regex");
  EXPECT_TRUE(judgeHttp(*e, response(head + marked)).up);
  // A longer body is cut at max_body_bytes: the regex sees the first 64 KiB.
  std::string longer(kBody * 2, 'a');
  longer.back() = 'b';
  std::string head2 = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(longer.size()) + "\r\n\r\n";
  auto cut = response(head2 + longer);
  EXPECT_TRUE(cut.truncated());
  EXPECT_EQ(judgeHttp(*e, cut).reason, "body does not match regex");
}

TEST(Http, Sha256) {
  EXPECT_EQ(sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

}  // namespace
}  // namespace lvsd::healthcheck
