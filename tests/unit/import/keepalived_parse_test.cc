// keepalived.conf syntax: tokens, quoting, blocks, includes.
#include "cli/import/keepalived_parse.h"

#include <gtest/gtest.h>

#include "unit/import/import_test_util.h"

namespace lvsd::import::keepalived {
namespace {

using testing::MemReader;

std::vector<Stmt> parse(MemReader& r, std::vector<Problem>& problems, const std::string& main = "k.conf") {
  return parseFile(main, r, problems);
}

std::vector<std::string> words(const Stmt& s) {
  std::vector<std::string> out;
  for (const auto& w : s.words) out.push_back(w.text);
  return out;
}

TEST(SplitCommand, QuotesAndEscapes) {
  EXPECT_EQ(splitCommand("/bin/check -x 'a b'  c\\ d"),
            (std::vector<std::string>{"/bin/check", "-x", "a b", "c d"}));
  EXPECT_EQ(splitCommand("  "), std::vector<std::string>{});
  EXPECT_EQ(splitCommand("''"), std::vector<std::string>{""});
}

TEST(KeepalivedParse, QuotedSegmentsJoinIntoOneWord) {
  // keepalived.conf(5), "Quoted strings": 'abcd" efg h jkl "mnop' is one string.
  MemReader r;
  r.files["k.conf"] = "key abcd\" efg h jkl \"mnop 'x y' \"a\\x41\\102\\tz\"\n";
  std::vector<Problem> p;
  auto t = parse(r, p);
  ASSERT_TRUE(p.empty());
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(words(t[0]), (std::vector<std::string>{"key", "abcd efg h jkl mnop", "x y", "aAB\tz"}));
  EXPECT_TRUE(t[0].arg(0).quoted);
  EXPECT_FALSE(t[0].kw().quoted);
  EXPECT_EQ(t[0].arg(1).column, 27);
}

TEST(KeepalivedParse, CommentsStartAnywhereOutsideQuotes) {
  MemReader r;
  r.files["k.conf"] = "# whole line\n! also\na 1 # trailing\nb \"#not!\" ! trailing\n";
  std::vector<Problem> p;
  auto t = parse(r, p);
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(words(t[0]), (std::vector<std::string>{"a", "1"}));
  EXPECT_EQ(words(t[1]), (std::vector<std::string>{"b", "#not!"}));
  EXPECT_EQ(t[1].kw().line, 4);
}

TEST(KeepalivedParse, BlocksOnOneLineAndBraceOnNextLine) {
  MemReader r;
  r.files["k.conf"] =
      "outer x {\n"
      "  inner { a 1 }\n"
      "  next\n"
      "  {\n"
      "    b 2\n"
      "  }\n"
      "}\n"
      "last\n";
  std::vector<Problem> p;
  auto t = parse(r, p);
  ASSERT_TRUE(p.empty()) << p[0].toString();
  ASSERT_EQ(t.size(), 2u);
  ASSERT_TRUE(t[0].block);
  ASSERT_EQ(t[0].children.size(), 2u);
  EXPECT_EQ(t[0].children[0].keyword(), "inner");
  ASSERT_EQ(t[0].children[0].children.size(), 1u);
  EXPECT_EQ(words(t[0].children[0].children[0]), (std::vector<std::string>{"a", "1"}));
  EXPECT_TRUE(t[0].children[1].block);
  ASSERT_EQ(t[0].children[1].children.size(), 1u);
  EXPECT_EQ(t[0].children[1].children[0].keyword(), "b");
  EXPECT_FALSE(t[1].block);
}

TEST(KeepalivedParse, UnbalancedBracesAreLocated) {
  MemReader r;
  r.files["k.conf"] = "a {\n  b 1\n}\n}\nc {\n  d {\n}\n";
  std::vector<Problem> p;
  parse(r, p);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].toString(), "k.conf:4:1: error: '}' without a matching '{'");
  EXPECT_EQ(p[1].toString(), "k.conf:5:3: error: '{' is never closed");
}

TEST(KeepalivedParse, StrayBraceIsReportedAndItsBlockSkipped) {
  MemReader r;
  r.files["k.conf"] = "a 1 {\n}\n{\n  x 1\n}\nb 2\n";
  std::vector<Problem> p;
  auto t = parse(r, p);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].toString(), "k.conf:3:1: error: '{' without a keyword before it; block ignored");
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[1].keyword(), "b");
}

TEST(KeepalivedParse, UnterminatedQuoteSkipsTheLine) {
  MemReader r;
  r.files["k.conf"] = "a \"open\nb 2\n";
  std::vector<Problem> p;
  auto t = parse(r, p);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].toString(), "k.conf:1:3: error: unterminated double quote; line skipped");
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].keyword(), "b");
}

TEST(KeepalivedParse, ConditionalAndParameterLinesAreReported) {
  MemReader r;
  r.files["k.conf"] = "@lvs1 a 1\n  $IF=eth0\nb $IF\n";
  std::vector<Problem> p;
  auto t = parse(r, p);
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0].severity, Problem::kUnsupported);
  EXPECT_EQ(p[0].line, 1);
  EXPECT_EQ(p[1].line, 2);
  EXPECT_EQ(p[1].column, 3);
  EXPECT_NE(p[2].message.find("$IF"), std::string::npos);
  ASSERT_EQ(t.size(), 1u);
}

TEST(KeepalivedParse, IncludesAreRelativeToTheIncludingFile) {
  MemReader r;
  r.files["etc/k.conf"] = "a 1\ninclude conf.d/*.conf\nouter {\n  include inner.conf\n}\nz 9\n";
  r.files["etc/conf.d/1.conf"] = "b 2\n";
  r.files["etc/conf.d/2.conf"] = "c 3\n";
  r.files["etc/inner.conf"] = "d 4\n";
  std::vector<Problem> p;
  auto t = parse(r, p, "etc/k.conf");
  ASSERT_TRUE(p.empty()) << p[0].toString();
  ASSERT_EQ(t.size(), 5u);
  EXPECT_EQ(t[1].keyword(), "b");
  EXPECT_EQ(t[1].kw().file, "etc/conf.d/1.conf");
  EXPECT_EQ(t[2].keyword(), "c");
  ASSERT_EQ(t[3].children.size(), 1u);
  EXPECT_EQ(t[3].children[0].keyword(), "d");
  EXPECT_EQ(t[3].children[0].kw().file, "etc/inner.conf");
  EXPECT_EQ(t[4].keyword(), "z");
}

TEST(KeepalivedParse, MissingIncludeIsANoteUnlessTheVariantChecks) {
  MemReader r;
  r.files["k.conf"] = "include none/*.conf\nincludea missing.conf\n";
  std::vector<Problem> p;
  parse(r, p);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].severity, Problem::kNote);
  EXPECT_EQ(p[0].toString(), "k.conf:1:9: note: include none/*.conf matches no file (ignored, as keepalived does)");
  EXPECT_EQ(p[1].severity, Problem::kError);
  EXPECT_EQ(p[1].line, 2);
}

TEST(KeepalivedParse, IncludeLoopIsAnErrorNotARecursion) {
  MemReader r;
  r.files["a.conf"] = "x 1\ninclude b.conf\n";
  r.files["b.conf"] = "include a.conf\ny 2\n";
  std::vector<Problem> p;
  auto t = parse(r, p, "a.conf");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].toString(), "b.conf:1:9: error: include loop: a.conf -> b.conf -> a.conf");
  ASSERT_EQ(t.size(), 2u);  // x and y survive
  EXPECT_EQ(r.reads, 2);
}

TEST(KeepalivedParse, IncludeDepthIsBounded) {
  MemReader r;
  for (int i = 0; i <= kMaxIncludeDepth + 2; ++i)
    r.files["f" + std::to_string(i) + ".conf"] = "include f" + std::to_string(i + 1) + ".conf\nk" +
                                                  std::to_string(i) + "\n";
  std::vector<Problem> p;
  auto t = parse(r, p, "f0.conf");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_NE(p[0].message.find("nested deeper than 8"), std::string::npos) << p[0].toString();
  EXPECT_EQ(p[0].file, "f8.conf");
  EXPECT_EQ(t.size(), static_cast<size_t>(kMaxIncludeDepth + 1));
}

TEST(KeepalivedParse, UnreadableIncludeIsAnError) {
  MemReader r;
  r.files["k.conf"] = "include dir\n";
  r.files["dir"] = "";  // glob matches, read succeeds (empty): fine
  std::vector<Problem> p;
  parse(r, p);
  EXPECT_TRUE(p.empty());
  std::vector<Problem> p2;
  parseFile("nope.conf", r, p2);
  ASSERT_EQ(p2.size(), 1u);
  EXPECT_EQ(p2[0].toString(), "nope.conf: error: cannot read nope.conf: No such file or directory");
}

}  // namespace
}  // namespace lvsd::import::keepalived
