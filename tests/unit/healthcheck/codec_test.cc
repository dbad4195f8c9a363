#include "healthcheck/codec.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

namespace lvsd::healthcheck {
namespace {

std::vector<uint8_t> bytes(std::initializer_list<int> l) {
  std::vector<uint8_t> v;
  for (int b : l) v.push_back(static_cast<uint8_t>(b));
  return v;
}

TEST(Dns, TypeCodes) {
  EXPECT_EQ(*dnsTypeCode("A"), 1);
  EXPECT_EQ(*dnsTypeCode("aaaa"), 28);
  EXPECT_EQ(*dnsTypeCode("SRV"), 33);
  EXPECT_FALSE(dnsTypeCode("ANY").ok());
}

TEST(Dns, EncodeQuery) {
  auto q = encodeDnsQuery(0xbeef, "www.example.org.", 28);
  ASSERT_TRUE(q.ok());
  auto expected = bytes({0xbe, 0xef, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
                         3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'o', 'r', 'g', 0,
                         0, 28, 0, 1});
  EXPECT_EQ(*q, expected);
  EXPECT_FALSE(encodeDnsQuery(1, "a..b", 1).ok());
  EXPECT_FALSE(encodeDnsQuery(1, std::string(64, 'a'), 1).ok());
  std::string longName;
  for (int i = 0; i < 5; ++i) longName += std::string(60, 'a') + ".";
  EXPECT_FALSE(encodeDnsQuery(1, longName, 1).ok());
  auto root = encodeDnsQuery(1, ".", 2);
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(root->size(), 12u + 1 + 4);
}

// A reply to query `id` for "a.b" with the given answers (type, rdata size).
std::vector<uint8_t> reply(uint16_t id, int rcode, std::vector<std::pair<uint16_t, int>> answers,
                           int flags2 = 0x80) {
  std::vector<uint8_t> r = {static_cast<uint8_t>(id >> 8), static_cast<uint8_t>(id),
                            static_cast<uint8_t>(flags2), static_cast<uint8_t>(0x80 | rcode), 0, 1, 0,
                            static_cast<uint8_t>(answers.size()), 0, 0, 0, 0,
                            1, 'a', 1, 'b', 0, 0, 1, 0, 1};
  for (auto [type, len] : answers) {
    r.insert(r.end(), {0xc0, 12, static_cast<uint8_t>(type >> 8), static_cast<uint8_t>(type), 0, 1,
                       0, 0, 0, 60, 0, static_cast<uint8_t>(len)});
    r.insert(r.end(), static_cast<size_t>(len), 7);
  }
  return r;
}

TEST(Dns, JudgeReply) {
  auto ok = reply(7, 0, {{5, 4}, {1, 4}, {1, 4}});
  auto r = judgeDnsReply(ok.data(), ok.size(), 7, 1);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->up);
  EXPECT_EQ(r->reason, "2 answers");
  auto cnameOnly = judgeDnsReply(ok.data(), ok.size(), 7, 28);
  ASSERT_TRUE(cnameOnly.ok());
  EXPECT_FALSE(cnameOnly->up);
  EXPECT_EQ(cnameOnly->reason, "no answer of type 28");
  auto nx = reply(7, 3, {});
  EXPECT_EQ(judgeDnsReply(nx.data(), nx.size(), 7, 1)->reason, "rcode NXDOMAIN");
  auto sf = reply(7, 2, {});
  EXPECT_EQ(judgeDnsReply(sf.data(), sf.size(), 7, 1)->reason, "rcode SERVFAIL");
  auto odd = reply(7, 9, {});
  EXPECT_EQ(judgeDnsReply(odd.data(), odd.size(), 7, 1)->reason, "rcode 9");
  auto tc = reply(7, 0, {}, 0x82);
  EXPECT_EQ(judgeDnsReply(tc.data(), tc.size(), 7, 1)->reason, "truncated reply without answer");
  // Not ours: wrong id, a query, too short.
  EXPECT_FALSE(judgeDnsReply(ok.data(), ok.size(), 8, 1).ok());
  auto query = reply(7, 0, {}, 0x00);
  query[3] = 0;
  EXPECT_FALSE(judgeDnsReply(query.data(), query.size(), 7, 1).ok());
  EXPECT_FALSE(judgeDnsReply(ok.data(), 11, 7, 1).ok());
  // Truncated anywhere inside the records: malformed, never a crash.
  for (size_t n = 12; n < ok.size(); ++n) {
    auto t = judgeDnsReply(ok.data(), n, 7, 1);
    ASSERT_TRUE(t.ok());
    EXPECT_FALSE(t->up) << n;
  }
}

TEST(Icmp, ChecksumRfc1071Example) {
  // RFC 1071 §3: 0001 f203 f4f5 f6f7 sums to ddf2; checksum is its complement.
  auto d = bytes({0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7});
  EXPECT_EQ(inetChecksum(d.data(), d.size()), 0x220d);
  auto odd = bytes({0x01});
  EXPECT_EQ(inetChecksum(odd.data(), odd.size()), 0xfeff);
}

TEST(Icmp, EchoRoundTrip) {
  auto req = encodeEchoRequest(false, 0x1234, 0x0102, "lvsd");
  ASSERT_EQ(req.size(), 12u);
  EXPECT_EQ(req[0], 8);
  EXPECT_EQ(inetChecksum(req.data(), req.size()), 0);  // valid checksum sums to zero
  auto req6 = encodeEchoRequest(true, 1, 2, "");
  EXPECT_EQ(req6[0], 128);
  EXPECT_EQ(req6[2], 0);  // kernel fills ICMPv6 checksums

  auto rep = req;
  rep[0] = 0;  // echo reply
  auto r = parseEchoReply(false, false, rep.data(), rep.size());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->id, 0x1234);
  EXPECT_EQ(r->seq, 0x0102);
  EXPECT_FALSE(parseEchoReply(false, false, req.data(), req.size()));  // a request
  EXPECT_FALSE(parseEchoReply(false, false, rep.data(), 7));

  std::vector<uint8_t> withIp = {0x45, 0, 0, 32, 0, 0, 0, 0, 64, 1, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1};
  withIp.insert(withIp.end(), rep.begin(), rep.end());
  r = parseEchoReply(false, true, withIp.data(), withIp.size());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->seq, 0x0102);
  withIp[0] = 0x65;
  EXPECT_FALSE(parseEchoReply(false, true, withIp.data(), withIp.size()));

  auto rep6 = req6;
  rep6[0] = 129;
  EXPECT_TRUE(parseEchoReply(true, false, rep6.data(), rep6.size()));
  EXPECT_FALSE(parseEchoReply(false, false, rep6.data(), rep6.size()));
}

TEST(FileProbe, Content) {
  struct Case {
    const char* content;
    bool up;
    std::optional<uint32_t> weight;
    bool drain;
  };
  for (Case c : {Case{"up\n", true, {}, false}, Case{"", true, {}, false},
                 Case{"  \n", true, {}, false}, Case{"DOWN", false, {}, false},
                 Case{"down\n", false, {}, false}, Case{"drain\n", true, {}, true},
                 Case{"weight 5\n", true, 5, false}, Case{"Weight\t0", true, 0, false},
                 Case{"weight 65535", true, 65535, false}, Case{"weight 65536", false, {}, false},
                 Case{"weight", false, {}, false}, Case{"weight5", false, {}, false},
                 Case{"weight -1", false, {}, false}, Case{"maintenance", false, {}, false}}) {
    auto r = judgeFileContent(c.content);
    EXPECT_EQ(r.up, c.up) << c.content;
    EXPECT_EQ(r.weight, c.weight) << c.content;
    EXPECT_EQ(r.drain, c.drain) << c.content;
  }
  EXPECT_EQ(judgeFileContent("oops").reason, "bad content 'oops' (up, down, drain or weight N)");
}

int exited(int code) { return (code & 0xff) << 8; }  // as waitpid reports

TEST(ExecProbe, ExitStatus) {
  ASSERT_TRUE(WIFEXITED(exited(3)));
  ASSERT_EQ(WEXITSTATUS(exited(3)), 3);
  EXPECT_TRUE(judgeExitStatus(exited(0), false).up);
  EXPECT_FALSE(judgeExitStatus(exited(0), false).weight);
  EXPECT_FALSE(judgeExitStatus(exited(1), true).up);
  EXPECT_FALSE(judgeExitStatus(exited(2), false).up);
  for (int code = 2; code <= 255; ++code) {
    auto r = judgeExitStatus(exited(code), true);
    EXPECT_TRUE(r.up);
    ASSERT_TRUE(r.weight);
    EXPECT_EQ(*r.weight, static_cast<uint32_t>(code - 2));
  }
  auto killed = judgeExitStatus(9, true);  // WIFSIGNALED with SIGKILL
  EXPECT_FALSE(killed.up);
  EXPECT_EQ(killed.reason, "killed by signal 9");
  EXPECT_EQ(judgeExitStatus(exited(7), false).reason, "exit 7");
}

}  // namespace
}  // namespace lvsd::healthcheck
