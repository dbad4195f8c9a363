// Health checks (named and inline) and the syntactic rules they use.
#include <gtest/gtest.h>

#include "config/rules.h"
#include "config_test_util.h"

namespace lvsd::config {
namespace {

using namespace testing;

const std::string kHttp = "  http { path: \"/\" }\n";

// The base with the named check's probe line replaced.
std::string probe(const std::string& line) {
  return base(kHttp, line);
}
// The base with extra fields on the named check.
std::string fields(const std::string& extra) {
  return base(kHttp, kHttp + extra);
}

TEST(Checks, NamedChecksHaveUniqueNames) {
  EXPECT_TRUE(onlyError(withExtra("check { name: \"http\" tcp {} }\n"), "check[1].name",
                        "duplicate check 'http' (first defined at 24:3)"));
  EXPECT_TRUE(
      onlyError(withExtra("check { tcp {} }\n"), "check[1].name", "check name is required"));
}

TEST(Checks, ExactlyOneProbe) {
  EXPECT_TRUE(onlyError(probe(""), "check[0]", "a check needs exactly one probe"));
  auto r = load(probe("  http { path: \"/\" }\n  tcp {}\n"));
  ASSERT_EQ(r.errors.size(), 1u) << dump(r);
  EXPECT_NE(r.errors[0].message.find("oneof"), std::string::npos) << dump(r);
  for (const char* p : {"tcp {}", "ping {}", "https { }", "udp { send_hex: \"00ff\" }",
                        "dns { query: \"example.com\" type: \"AAAA\" }",
                        "exec { argv: \"/bin/true\" }", "file { path: \"/run/state\" }"})
    EXPECT_TRUE(valid(probe(std::string("  ") + p + "\n"))) << p;
}

TEST(Checks, Timing) {
  EXPECT_TRUE(onlyError(fields("  interval_ms: 0\n"), "check[0].interval_ms",
                        "interval_ms must be positive"));
  EXPECT_TRUE(
      onlyError(fields("  timeout_ms: 0\n"), "check[0].timeout_ms", "timeout_ms must be positive"));
  EXPECT_TRUE(onlyError(fields("  timeout_ms: 5000\n"), "check[0].timeout_ms",
                        "timeout_ms 5000 is not below interval_ms 5000"));
  // Default timeout (3000) against a short interval: points at the interval.
  EXPECT_TRUE(onlyError(fields("  interval_ms: 2000\n"), "check[0].interval_ms",
                        "timeout_ms 3000 is not below interval_ms 2000"));
  EXPECT_TRUE(valid(fields("  interval_ms: 2000\n  timeout_ms: 1999\n")));
  EXPECT_TRUE(onlyError(fields("  rise: 0\n"), "check[0].rise", "rise 0 outside 1..1000"));
  EXPECT_TRUE(onlyError(fields("  fall: 0\n"), "check[0].fall", "fall 0 outside 1..1000"));
  EXPECT_TRUE(onlyError(fields("  jitter_pct: 51\n"), "check[0].jitter_pct",
                        "jitter_pct 51 outside 0..50"));
  EXPECT_TRUE(valid(fields("  jitter_pct: 50\n  rise: 1\n  fall: 1\n")));
  EXPECT_TRUE(onlyError(fields("  retries: 11\n"), "check[0].retries", "outside 0..10"));
}

TEST(Checks, HttpStatus) {
  EXPECT_TRUE(valid(probe("  http { status: \"200\" status: \"300-399\" status: \"100-599\" }\n")));
  for (const char* bad : {"99", "600", "2xx", "20", "2000", "200-", "-200", "200-600", ""})
    EXPECT_TRUE(onlyError(probe(std::string("  http { status: \"") + bad + "\" }\n"),
                          "check[0].http.status[0]",
                          "is not NNN or NNN-NNN with codes in 100..599"))
        << bad;
  EXPECT_TRUE(onlyError(probe("  http { status: \"200\" status: \"300-200\" }\n"),
                        "check[0].http.status[1]", "status range '300-200' is empty (low > high)"));
}

TEST(Checks, HttpPathHostBody) {
  EXPECT_TRUE(onlyError(probe("  http { path: \"health\" }\n"), "check[0].http.path",
                        "path 'health' must start with '/'"));
  EXPECT_TRUE(
      onlyError(probe("  http { path: \"/a b\" }\n"), "check[0].http.path", "must start with '/'"));
  EXPECT_TRUE(onlyError(probe("  http { host: \"a b\" }\n"), "check[0].http.host",
                        "not a valid Host header"));
  EXPECT_TRUE(
      valid(probe("  http { host: \"www.example.com:8080\" body_regex: \"^OK( [0-9]+)?$\" }\n")));
  EXPECT_TRUE(onlyError(probe("  http { body_regex: \"(unclosed\" }\n"), "check[0].http.body_regex",
                        "regex does not compile: unmatched parenthesis"));
  EXPECT_TRUE(onlyError(probe("  http { body_regex: \"[a-\" }\n"), "check[0].http.body_regex",
                        "regex does not compile"));
  EXPECT_TRUE(valid(probe("  http { body_sha256: \"" + std::string(64, 'e') + "\" }\n")));
  EXPECT_TRUE(onlyError(probe("  http { body_sha256: \"" + std::string(63, 'e') + "\" }\n"),
                        "check[0].http.body_sha256",
                        "body_sha256 must be 64 hex digits (got 63 characters)"));
  EXPECT_TRUE(onlyError(probe("  http { body_sha256: \"" + std::string(64, 'g') + "\" }\n"),
                        "check[0].http.body_sha256", "must be 64 hex digits"));
  EXPECT_TRUE(onlyError(probe("  http { max_body_bytes: 0 }\n"), "check[0].http.max_body_bytes",
                        "outside"));
}

TEST(Checks, PathologicalRegexIsRefusedBeforeCompiling) {
  // Counted repetition is expanded by copying states; nesting multiplies.
  EXPECT_TRUE(onlyError(probe("  http { body_regex: \"((a{1000}){1000}){1000}\" }\n"),
                        "check[0].http.body_regex", "regex is too complex"));
  EXPECT_TRUE(onlyError(probe("  http { body_regex: \"" + std::string(40, '(') + "a" +
                              std::string(40, ')') + "\" }\n"),
                        "check[0].http.body_regex", "regex nests groups deeper than 32"));
  EXPECT_TRUE(onlyError(probe("  http { body_regex: \"" + std::string(1025, 'a') + "\" }\n"),
                        "check[0].http.body_regex",
                        "regex of 1025 characters is longer than 1024"));
  EXPECT_TRUE(valid(probe("  http { body_regex: \"a{100}b{100}\" }\n")));
}

TEST(Checks, HttpsOnlyFields) {
  EXPECT_TRUE(valid(probe(
      "  https { sni: \"www.example.com\" verify_cert: true ca_file: \"/etc/ssl/ca.pem\" }\n")));
  EXPECT_TRUE(onlyError(probe("  http { sni: \"www.example.com\" }\n"), "check[0].http.sni",
                        "sni applies only to https checks"));
  EXPECT_TRUE(onlyError(probe("  http { verify_cert: false }\n"), "check[0].http.verify_cert",
                        "verify_cert applies only to https checks"));
  EXPECT_TRUE(onlyError(probe("  http { ca_file: \"/ca\" }\n"), "check[0].http.ca_file",
                        "applies only to https"));
  EXPECT_TRUE(onlyError(probe("  https { ca_file: \"ca.pem\" }\n"), "check[0].https.ca_file",
                        "ca_file 'ca.pem' is not an absolute path"));
  EXPECT_TRUE(onlyError(probe("  https { sni: \"-bad-\" }\n"), "check[0].https.sni",
                        "is not a valid host name"));
}

TEST(Checks, Udp) {
  EXPECT_TRUE(valid(probe("  udp { send_hex: \"DEADbeef\" expect_regex: \"^pong\" }\n")));
  EXPECT_TRUE(onlyError(probe("  udp { send_hex: \"abc\" }\n"), "check[0].udp.send_hex",
                        "send_hex 'abc' is not an even number of hex digits"));
  EXPECT_TRUE(
      onlyError(probe("  udp { send_hex: \"zz\" }\n"), "check[0].udp.send_hex", "hex digits"));
  EXPECT_TRUE(onlyError(probe("  udp { expect_regex: \"*\" }\n"), "check[0].udp.expect_regex",
                        "regex does not compile"));
}

TEST(Checks, Dns) {
  EXPECT_TRUE(valid(probe("  dns { query: \"_sip._udp.example.com.\" type: \"SRV\" }\n")));
  EXPECT_TRUE(
      onlyError(probe("  dns { type: \"A\" }\n"), "check[0].dns.query", "query is required"));
  EXPECT_TRUE(onlyError(probe("  dns { query: \"exa mple.com\" }\n"), "check[0].dns.query",
                        "query 'exa mple.com' is not a valid DNS name"));
  EXPECT_TRUE(onlyError(probe("  dns { query: \"a..b\" }\n"), "check[0].dns.query",
                        "not a valid DNS name"));
  EXPECT_TRUE(onlyError(probe("  dns { query: \"" + std::string(64, 'a') + ".com\" }\n"),
                        "check[0].dns.query", "not a valid DNS name"));
  EXPECT_TRUE(
      onlyError(probe("  dns { query: \"example.com\" type: \"AXFR\" }\n"), "check[0].dns.type",
                "unknown DNS type 'AXFR' (expected one of A AAAA CNAME MX NS PTR SOA SRV TXT)"));
}

TEST(Checks, ExecAndFile) {
  EXPECT_TRUE(onlyError(probe("  exec { }\n"), "check[0].exec.argv", "argv is required"));
  EXPECT_TRUE(onlyError(probe("  exec { argv: \"check.sh\" }\n"), "check[0].exec.argv[0]",
                        "program 'check.sh' is not an absolute path"));
  EXPECT_TRUE(onlyError(probe("  file { path: \"state\" }\n"), "check[0].file.path",
                        "is not an absolute path"));
}

TEST(Checks, Target) {
  for (const char* ok : {":8080", "10.0.0.1:", "10.0.0.1", "10.0.0.1:80", "[2001:db8::1]:80",
                         "[2001:db8::1]", "2001:db8::1"})
    EXPECT_TRUE(valid(fields(std::string("  target: \"") + ok + "\"\n"))) << ok;
  for (const char* bad : {"", ":", ":0", ":70000", "10.0.0.300:80", "[10.0.0.1]:80", "[::1",
                          "[::1]x", "2001:db8::1:80x", "host:80"})
    EXPECT_TRUE(
        onlyError(fields(std::string("  target: \"") + bad + "\"\n"), "check[0].target", "target"))
        << bad;
}

TEST(Checks, ReferencesExist) {
  EXPECT_TRUE(onlyError(base("  check: \"http\"\n}", "  check: \"htp\"\n}"),
                        "virtual_service[0].check[0]", "unknown check 'htp'"));
  EXPECT_TRUE(onlyError(base("  check: \"http\"\n}", "  check: \"http\"\n  check: \"http\"\n}"),
                        "virtual_service[0].check[1]", "check 'http' listed twice"));
  EXPECT_TRUE(onlyError(base("weight: 5 }", "weight: 5 check: \"nope\" }"),
                        "virtual_service[0].real_server[0].check[0]", "unknown check 'nope'"));
}

TEST(Checks, InlineChecksFollowTheSameRules) {
  EXPECT_TRUE(valid(base("  check: \"http\"\n}",
                         "  inline_check { tcp {} interval_ms: 1000 timeout_ms: 500 }\n}")));
  EXPECT_TRUE(onlyError(base("  check: \"http\"\n}",
                             "  inline_check { tcp {} interval_ms: 1000 timeout_ms: 1500 }\n}"),
                        "virtual_service[0].inline_check[0].timeout_ms",
                        "timeout_ms 1500 is not below interval_ms 1000"));
  EXPECT_TRUE(onlyError(base("weight: 5 }", "weight: 5 inline_check { } }"),
                        "virtual_service[0].real_server[0].inline_check[0]",
                        "a check needs exactly one probe"));
  EXPECT_TRUE(onlyError(base("  check: \"http\"\n}", "  inline_check { name: \"a b\" tcp {} }\n}"),
                        "virtual_service[0].inline_check[0].name", "is not 1..64 characters"));
}

// ---- the predicates themselves

TEST(Rules, RegexCostEstimate) {
  using rules::regexProblem;
  EXPECT_FALSE(regexProblem("^HTTP/1\\.[01] 200"));
  EXPECT_FALSE(
      regexProblem("[{(]+\\{x\\}"));  // braces and parens in classes and escapes are literal
  EXPECT_FALSE(regexProblem("(?:ab|cd){1,50}"));
  EXPECT_TRUE(regexProblem("(?:ab|cd){1,50000}"));
  EXPECT_TRUE(regexProblem("(a{200}){200}"));
  EXPECT_TRUE(regexProblem("(a{99999999999999999999})"));
  EXPECT_TRUE(regexProblem("(a)x\\1"));  // back-references: no one-pass matcher for them
  EXPECT_FALSE(regexProblem("(a)x\\d"));
  EXPECT_TRUE(regexProblem(""));
  EXPECT_EQ(*regexProblem("a)"), "regex does not compile: unmatched parenthesis");
  EXPECT_EQ(*regexProblem("a{2,1}"), "regex does not compile: invalid repetition count");
}

TEST(Rules, Quote) {
  EXPECT_EQ(rules::quote("abc"), "'abc'");
  EXPECT_EQ(rules::quote(std::string("a\nb'", 4)), "'a\\x0ab\\x27'");
  EXPECT_EQ(rules::quote(std::string(100, 'x')), "'" + std::string(80, 'x') + "...'");
}

TEST(Rules, Names) {
  EXPECT_TRUE(rules::isInterfaceName("eth0"));
  EXPECT_TRUE(rules::isInterfaceName("br-lan.100"));
  EXPECT_FALSE(rules::isInterfaceName("eth0:1"));
  EXPECT_FALSE(rules::isInterfaceName("0123456789abcdef"));
  EXPECT_FALSE(rules::isInterfaceName(".."));
  EXPECT_TRUE(rules::isDnsName("a.b-c.example."));
  EXPECT_FALSE(rules::isDnsName("."));
  EXPECT_FALSE(rules::isDnsName("a.-b"));
  EXPECT_TRUE(rules::isHex("00aAfF"));
  EXPECT_FALSE(rules::isHex(""));
  EXPECT_TRUE(rules::isAbsolutePath("/x"));
  EXPECT_FALSE(rules::isAbsolutePath("x/y"));
}

}  // namespace
}  // namespace lvsd::config
