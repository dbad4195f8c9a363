// Loading: syntax errors with FILE:LINE:COL, location accuracy of semantic
// errors, "report all", digest stability, defaults, files.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "config_test_util.h"

namespace lvsd::config {
namespace {

using namespace testing;

TEST(Loader, BaseIsValid) {
  auto r = load(kBase);
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_TRUE(r.errors.empty());
  EXPECT_EQ(r.config->file, "t.conf");
  EXPECT_EQ(r.config->text, kBase);
  EXPECT_EQ(r.config->proto.director_size(), 2);
}

TEST(Loader, SyntaxErrorGivesFileLineColumn) {
  auto r = loadString("director {\n  name: \"a\"\n  priority: \n}\n", "x/y.conf");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.config, nullptr);
  ASSERT_EQ(r.errors.size(), 1u) << r.errorText();
  EXPECT_EQ(r.errors[0].file, "x/y.conf");
  EXPECT_EQ(r.errors[0].line, 4);
  EXPECT_EQ(r.errors[0].column, 1);
  EXPECT_EQ(r.errors[0].toString().rfind("x/y.conf:4:1: ", 0), 0u) << r.errors[0].toString();
}

TEST(Loader, SyntaxErrorsNameTheField) {
  struct Case {
    std::string text;
    std::string field;
    std::string needle;  // where the error must point
  } cases[] = {
      {base("weight: 10", "weight: 99999999999"), "virtual_service[0].real_server[1].weight",
       "99999999999"},
      {base("priority: 150", "priority: x150"), "director[0].priority", "x150"},
      {base("  name: \"VI_1\"\n", "  name: \"VI_1\n"), "instance[0].name", "\"VI_1"},
      {base("  http { path: \"/\" }", "  http { path: \"/\" } tcp {}"), "check[0].tcp", "tcp {}"},
      {base("  scheduler: \"wrr\"\n", "  scheduler: \"wrr\"\n  scheduler: \"rr\"\n"),
       "virtual_service[0].scheduler", "scheduler: \"rr\""},
      {base("weight: 5 }", "weight: 5 forwarding: NATT }"),
       "virtual_service[0].real_server[0].forwarding", "NATT"},
  };
  for (const auto& c : cases) {
    auto r = load(c.text);
    ASSERT_EQ(r.errors.size(), 1u) << dump(r);
    EXPECT_EQ(r.errors[0].field, c.field) << dump(r);
    auto [line, col] = locate(c.text, c.needle);
    EXPECT_EQ(r.errors[0].line, line) << dump(r);
    EXPECT_EQ(r.errors[0].column, col) << dump(r);
  }
  // An unclosed message at the end of the file: the open message is named.
  auto r = load(kBase.substr(0, kBase.size() - 2));
  ASSERT_EQ(r.errors.size(), 1u) << dump(r);
  EXPECT_EQ(r.errors[0].field, "virtual_service[0]");
  EXPECT_EQ(r.errors[0].message, "Expected identifier, got: end of file");
}

TEST(Loader, UnknownFieldIsLocated) {
  auto r = load(base("  scheduler: \"wrr\"\n", "  schedular: \"wrr\"\n"));
  ASSERT_EQ(r.errors.size(), 1u) << dump(r);
  auto [line, col] = locate(kBase, "scheduler: \"wrr\"");
  EXPECT_EQ(r.errors[0].line, line);
  EXPECT_EQ(r.errors[0].column, col);
  EXPECT_NE(r.errors[0].message.find("schedular"), std::string::npos) << dump(r);
  EXPECT_EQ(r.errors[0].field, "virtual_service[0].schedular");
}

TEST(Loader, ForwardingMustBeSpelledOut) {
  auto r = load(base("  scheduler: \"wrr\"\n", "  scheduler: \"wrr\"\n  forwarding: GATE\n"));
  ASSERT_EQ(r.errors.size(), 1u) << dump(r);
  EXPECT_NE(r.errors[0].message.find("GATE"), std::string::npos) << dump(r);
  EXPECT_EQ(r.errors[0].line, locate(kBase, "  scheduler").first + 1);
  EXPECT_EQ(r.errors[0].column, 15);  // at GATE, not at the token after it
  EXPECT_EQ(r.errors[0].field, "virtual_service[0].forwarding");
  EXPECT_TRUE(valid(base("  scheduler: \"wrr\"\n", "  scheduler: \"wrr\"\n  forwarding: DR\n")));
  EXPECT_TRUE(valid(base("  scheduler: \"wrr\"\n", "  scheduler: \"wrr\"\n  forwarding: NAT\n")));
}

TEST(Loader, SemanticErrorPointsAtTheOffendingField) {
  std::string text = base("weight: 10", "weight: 70000");
  auto r = load(text);
  ASSERT_EQ(r.errors.size(), 1u) << dump(r);
  auto [line, col] = locate(text, "weight: 70000");
  const Diagnostic& d = r.errors[0];
  EXPECT_EQ(d.line, line);
  EXPECT_EQ(d.column, col);
  EXPECT_EQ(d.field, "virtual_service[0].real_server[1].weight");
  EXPECT_EQ(d.message, "weight 70000 outside 0..65535");
  EXPECT_EQ(d.toString(),
            "t.conf:" + std::to_string(line) + ":" + std::to_string(col) +
                ": virtual_service[0].real_server[1].weight: weight 70000 outside 0..65535");
}

TEST(Loader, AbsentFieldPointsAtItsMessage) {
  // No vrid: the error points at the instance that lacks it.
  std::string text = base("  vrid: 51\n", "");
  auto r = load(text);
  ASSERT_EQ(r.errors.size(), 1u) << dump(r);
  EXPECT_EQ(r.errors[0].field, "instance[0].vrid");
  auto [line, col] = locate(text, "instance {");
  EXPECT_EQ(r.errors[0].line, line);
  EXPECT_EQ(r.errors[0].column, col);
}

TEST(Loader, TabsCountAsOneColumn) {
  // The protobuf tokenizer expands tabs to 8 columns; diagnostics count bytes.
  std::string text = base("  real_server { address: \"192.0.2.102:80\" weight: 10 }",
                          "\t\treal_server { address: \"192.0.2.102:80\" weight: 70000 }");
  auto r = load(text);
  ASSERT_EQ(r.errors.size(), 1u) << dump(r);
  auto [line, col] = locate(text, "weight: 70000");
  EXPECT_EQ(r.errors[0].line, line);
  EXPECT_EQ(r.errors[0].column, col);
}

TEST(Loader, ReportsEveryIndependentError) {
  std::string text = edit(edit(base("priority: 150", "priority: 0"), "vrid: 51", "vrid: 300"),
                          "weight: 5", "weight: 65536");
  auto r = load(text);
  ASSERT_EQ(r.errors.size(), 3u) << dump(r);
  EXPECT_EQ(r.errors[0].field, "director[0].priority");
  EXPECT_EQ(r.errors[1].field, "instance[0].vrid");
  EXPECT_EQ(r.errors[2].field, "virtual_service[0].real_server[0].weight");
  // Sorted by position in the file.
  EXPECT_LT(r.errors[0].line, r.errors[1].line);
  EXPECT_LT(r.errors[1].line, r.errors[2].line);
  EXPECT_EQ(r.errorText(), r.errors[0].toString() + "\n" + r.errors[1].toString() + "\n" +
                               r.errors[2].toString() + "\n");
}

TEST(Loader, EmptyFileNeedsADirector) {
  auto r = load("");
  ASSERT_EQ(r.errors.size(), 1u) << dump(r);
  EXPECT_EQ(r.errors[0].toString(), "t.conf:1:1: director: at least one director is required");
}

TEST(Loader, ControlBytesInValuesStayOnOneLine) {
  auto r = load(base("scheduler: \"wrr\"", "scheduler: \"w\\nr\\tr\""));
  ASSERT_EQ(r.errors.size(), 1u) << dump(r);
  EXPECT_EQ(r.errors[0].message.find('\n'), std::string::npos);
  EXPECT_EQ(r.errors[0].message.find('\t'), std::string::npos);
  EXPECT_NE(r.errors[0].message.find("unknown scheduler"), std::string::npos);
}

TEST(Loader, DigestIgnoresCommentsWhitespaceAndOrder) {
  auto a = load(kBase);
  ASSERT_TRUE(a.ok()) << dump(a);
  EXPECT_EQ(a.config->digest.size(), 64u);

  // Comments and whitespace.
  std::string spaced =
      "# the cluster\n\n" + edit(kBase, "  priority: 150\n", "  priority:150 # primary\n\n");
  auto b = load(spaced);
  ASSERT_TRUE(b.ok()) << dump(b);
  EXPECT_EQ(a.config->digest, b.config->digest);

  // Fields in another order inside a message, sections in another order.
  std::string reordered =
      edit(kBase, "  name: \"lvs1\"\n  priority: 150\n", "  priority: 150\n  name: \"lvs1\"\n");
  auto vipGroup = std::string(
      "vip_group {\n  name: \"web\"\n  vip { address: \"192.0.2.10/24\" interface: \"eth0\" "
      "}\n}\n");
  reordered = vipGroup + edit(reordered, vipGroup, "");
  auto c = load(reordered);
  ASSERT_TRUE(c.ok()) << dump(c);
  EXPECT_EQ(a.config->digest, c.config->digest);

  // A real change changes it.
  auto d = load(base("weight: 5", "weight: 6"));
  ASSERT_TRUE(d.ok()) << dump(d);
  EXPECT_NE(a.config->digest, d.config->digest);
}

TEST(Loader, DefaultsApplied) {
  std::string text = withExtra(R"(check { name: "tls" https { path: "/health" } }
instance { name: "VI_2" vrid: 52 link: "lan" }
)");
  auto r = load(text);
  ASSERT_TRUE(r.ok()) << dump(r);
  const Config& c = r.config->proto;
  EXPECT_EQ(c.virtual_service(0).name(), "tcp/192.0.2.10:80");
  EXPECT_EQ(c.heartbeat().send_key_id(), 1u);
  ASSERT_EQ(c.instance(0).link_size(), 1);
  EXPECT_EQ(c.instance(0).link(0), "lan");
  ASSERT_EQ(c.check(0).http().status_size(), 1);
  EXPECT_EQ(c.check(0).http().status(0), "200-299");
  ASSERT_EQ(c.check(1).https().status_size(), 1);
  EXPECT_EQ(c.check(1).https().status(0), "200-299");
}

TEST(Loader, DefaultsDoNotOverrideExplicitValues) {
  std::string text =
      edit(edit(base("  scheduler: \"wrr\"\n", "  name: \"web\"\n  scheduler: \"wrr\"\n"),
                "http { path: \"/\" }", "http { path: \"/\" status: \"204\" }"),
           "  key { id: 1 secret_hex: \"00112233445566778899aabbccddeeff\" }\n",
           "  key { id: 1 secret_hex: \"00112233445566778899aabbccddeeff\" }\n"
           "  key { id: 2 secret_hex: \"ffeeddccbbaa99887766554433221100\" }\n"
           "  send_key_id: 2\n");
  auto r = load(text);
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_EQ(r.config->proto.virtual_service(0).name(), "web");
  EXPECT_EQ(r.config->proto.heartbeat().send_key_id(), 2u);
  ASSERT_EQ(r.config->proto.check(0).http().status_size(), 1);
  EXPECT_EQ(r.config->proto.check(0).http().status(0), "204");
}

TEST(Loader, LoadFileReadsAndLabelsWithThePath) {
  char path[] = "/tmp/lvsd-config-test-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  {
    std::ofstream out(path);
    out << base("weight: 5", "weight: 99999");
  }
  auto r = loadFile(path);
  std::remove(path);
  ASSERT_EQ(r.errors.size(), 1u) << dump(r);
  EXPECT_EQ(r.errors[0].file, path);
  EXPECT_EQ(r.errors[0].toString().rfind(std::string(path) + ":", 0), 0u);
}

TEST(Loader, MissingFileIsAnError) {
  auto r = loadFile("/nonexistent/lvsd.conf");
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].message.find("cannot open file"), std::string::npos);
}

TEST(Loader, FindDirectorAndServiceKey) {
  auto r = load(kBase);
  ASSERT_TRUE(r.ok());
  ASSERT_NE(findDirector(r.config->proto, "lvs2"), nullptr);
  EXPECT_EQ(findDirector(r.config->proto, "lvs2")->priority(), 100u);
  EXPECT_EQ(findDirector(r.config->proto, "lvs3"), nullptr);
  VirtualService vs;
  vs.set_protocol(UDP);
  vs.set_address("[2001:DB8::1]:53");
  EXPECT_EQ(serviceKey(vs), "udp/[2001:db8::1]:53");
  VirtualService fw;
  fw.set_fwmark(7);
  fw.set_family(INET6);
  EXPECT_EQ(serviceKey(fw), "fwmark/7/inet6");
}

}  // namespace
}  // namespace lvsd::config
