// `ipvsadm -S` output and ipvsadm scripts → lvsd config.
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include "cli/import/import.h"
#include "config/config.h"
#include "unit/import/import_test_util.h"

namespace lvsd::import {
namespace {

using google::protobuf::util::MessageDifferencer;
using testing::expectGolden;
using testing::goldenText;
using testing::hasProblem;
using testing::InDataDir;

ImportResult run(const std::string& text) { return importIpvsadm(text, "rules", {"dir1"}); }

class IpvsadmGolden : public InDataDir {};

// Every worked example of the source documents (DIGEST.md 001-004), as
// `ipvsadm -S -n` prints them, converts completely into a valid config.
TEST_F(IpvsadmGolden, DigestExamplesAsSavedRules) {
  auto r = importIpvsadm(testing::slurp("digest.rules"), "digest.rules", {"dir1"});
  EXPECT_TRUE(r.complete()) << ::testing::PrintToString(testing::problemTexts(r));
  expectGolden(goldenText(r), "digest.expected");
  auto loaded = config::loadString(goldenText(r), "digest.expected");
  EXPECT_TRUE(loaded.ok()) << loaded.errorText();
  EXPECT_EQ(r.config.virtual_service_size(), 13);
}

// The guide's commands verbatim (with `ipvsadm` in front, -C, a listing and
// comments) give the same services as the saved rules.
TEST_F(IpvsadmGolden, DigestScriptEqualsSavedRules) {
  auto script = importIpvsadm(testing::slurp("digest-script.sh"), "digest-script.sh", {"dir1"});
  EXPECT_TRUE(script.complete()) << ::testing::PrintToString(testing::problemTexts(script));
  std::string rules = testing::slurp("digest.rules");
  // The first six saved lines are the two services the script creates.
  size_t cut = 0;
  for (int i = 0; i < 6; ++i) cut = rules.find('\n', cut) + 1;
  auto saved = importIpvsadm(rules.substr(0, cut), "digest.rules", {"dir1"});
  EXPECT_TRUE(MessageDifferencer::Equals(script.config, saved.config))
      << render(script) << "\nvs\n" << render(saved);
  EXPECT_TRUE(hasProblem(script, Problem::kNote, 7, "'-L' changes nothing", 9));
}

TEST(Ipvsadm, DefaultsFollowIpvsadm) {
  auto r = run("-A -t 192.0.2.1:80\n-a -t 192.0.2.1:80 -r 10.0.0.1\n-A -f 5 -p\n-a -f 5 -r 10.0.0.2\n");
  ASSERT_TRUE(r.complete()) << ::testing::PrintToString(testing::problemTexts(r));
  ASSERT_EQ(r.config.virtual_service_size(), 2);
  const auto& a = r.config.virtual_service(0);
  EXPECT_EQ(a.scheduler(), "wlc");
  EXPECT_EQ(a.forwarding(), config::DR);  // -g is ipvsadm's default
  EXPECT_EQ(a.real_server(0).address(), "10.0.0.1:80");  // the service's port
  EXPECT_FALSE(a.real_server(0).has_weight());           // 1
  const auto& f = r.config.virtual_service(1);
  EXPECT_EQ(f.fwmark(), 5u);
  EXPECT_EQ(f.persistence().timeout_s(), 300u);
  EXPECT_EQ(f.real_server(0).address(), "10.0.0.2");  // fwmark: the request's port
}

TEST(Ipvsadm, EditsAndDeletesApplyInOrder) {
  auto r = run(
      "-A -t 192.0.2.1:80 -s rr\n"
      "-a -t 192.0.2.1:80 -r 10.0.0.1:80 -m -w 3\n"
      "-a -t 192.0.2.1:80 -r 10.0.0.2:80 -m\n"
      "-a -t 192.0.2.1:80 -r 10.0.0.3:80 -g\n"
      "-e -t 192.0.2.1:80 -r 10.0.0.1:80 -m -w 7\n"
      "-d -t 192.0.2.1:80 -r 10.0.0.2:80\n"
      "-E -t 192.0.2.1:80 -s wrr -p 60\n"
      "-A -u 192.0.2.1:53\n"
      "-D -u 192.0.2.1:53\n"
      "-A -t 192.0.2.9:80\n"
      "-C\n"
      "-A -t 192.0.2.1:80 -s lc\n"
      "-a -t 192.0.2.1:80 -r 10.0.0.1:80 -m -w 7\n"
      "-a -t 192.0.2.1:80 -r 10.0.0.3:80 -g\n"
      "-E -t 192.0.2.1:80 -s wrr -p 60\n");
  ASSERT_TRUE(r.complete()) << ::testing::PrintToString(testing::problemTexts(r));
  ASSERT_EQ(r.config.virtual_service_size(), 1);
  const auto& vs = r.config.virtual_service(0);
  EXPECT_EQ(vs.scheduler(), "wrr");
  EXPECT_EQ(vs.persistence().timeout_s(), 60u);
  ASSERT_EQ(vs.real_server_size(), 2);
  EXPECT_EQ(vs.real_server(0).weight(), 7u);
  // Tie between -m and -g: the first real server's forwarding is the service's.
  EXPECT_EQ(vs.forwarding(), config::NAT);
  EXPECT_FALSE(vs.real_server(0).has_forwarding());
  EXPECT_EQ(vs.real_server(1).forwarding(), config::DR);
  EXPECT_EQ(r.origin.at({config::Config::kVirtualServiceFieldNumber, 0}), "rules:12");
}

TEST(Ipvsadm, ErrorsNameLineAndColumn) {
  auto r = run(
      "-a -t 192.0.2.1:80 -r 10.0.0.1:80\n"                 // 1: no such service
      "-A -t www.example.com:80\n"                          // 2: host name
      "-A -t 192.0.2.1:80 -s zz\n"                          // 3: scheduler
      "-A -t 192.0.2.2:80\n"                                //
      "-a -t 192.0.2.2:80 -R 10.0.0.1:80 -g\n"              // 5: -R typo (DIGEST 002)
      "-A -t 192.0.2.2:80\n"                                // 6: duplicate
      "-a -t 192.0.2.2:80 -r 10.0.0.1:80 -w 70000\n"        // 7: weight range
      "-A -t 192.0.2.3:80 --frob\n"                         // 8: unknown option
      "-A -t 192.0.2.4:80 -M 255.255.0.0\n"                 // 9: -M without -p
      "-a -t 192.0.2.2:80 -r 10.0.0.5:80 -i --tun-type gue\n"  // 10: gue without port
      "-A -t 2001:db8::1:80\n"                              // 11: IPv6 without brackets
      "echo hello\n");                                      // 12: not ipvsadm
  EXPECT_TRUE(hasProblem(r, Problem::kError, 1, "no service TCP 192.0.2.1:80 (add it with -A first)", 1));
  EXPECT_TRUE(hasProblem(r, Problem::kError, 2, "save with `ipvsadm -S -n`", 7));
  EXPECT_TRUE(hasProblem(r, Problem::kUnsupported, 3, "scheduler 'zz'", 23));
  EXPECT_TRUE(hasProblem(r, Problem::kError, 5, "'-R' conflicts with -a (a real server is given with lower-case -r)", 20));
  EXPECT_TRUE(hasProblem(r, Problem::kError, 6, "already exists (added at line 4)", 1));
  EXPECT_TRUE(hasProblem(r, Problem::kError, 7, "weight '70000' is not a number in 0..65535", 38));
  EXPECT_TRUE(hasProblem(r, Problem::kError, 8, "unknown option '--frob'", 20));
  EXPECT_TRUE(hasProblem(r, Problem::kError, 9, "-M/--pe need a persistent service (-p)", 1));
  EXPECT_TRUE(hasProblem(r, Problem::kError, 10, "--tun-type gue needs --tun-port", 38));
  EXPECT_TRUE(hasProblem(r, Problem::kError, 11, "in brackets", 7));
  EXPECT_TRUE(hasProblem(r, Problem::kError, 12, "'echo' is not an ipvsadm command", 1));
  EXPECT_FALSE(r.complete());
}

TEST(Ipvsadm, SavedFormatsOfSeveralVersions) {
  // Port names (-S without -n), "pe sip"/"ops" as some versions print them,
  // scheduler flags, IPv6 firewall marks, thresholds, long options.
  auto r = run(
      "-A -t 192.0.2.1:http -s sh -b flag-1,sh-port\n"
      "-a -t 192.0.2.1:http -r 10.0.0.1:http -g -w 1 -x 100 -y 10\n"
      "-A -u 192.0.2.1:5060 -s rr -p 120 pe sip ops\n"
      "-A -f 3 -6 -s wlc -p 30 -M 64\n"
      "-a -f 3 -6 -r [2001:db8::5]:0 -g -w 2\n"
      "--add-service --tcp-service=192.0.2.7:443 --scheduler=mh --sched-flags=mh-port\n");
  ASSERT_TRUE(r.complete()) << ::testing::PrintToString(testing::problemTexts(r));
  ASSERT_EQ(r.config.virtual_service_size(), 4);
  const auto& sh = r.config.virtual_service(0);
  EXPECT_EQ(sh.address(), "192.0.2.1:80");
  ASSERT_EQ(sh.sched_flag_size(), 2);
  EXPECT_EQ(sh.sched_flag(0), config::SH_FALLBACK);
  EXPECT_EQ(sh.sched_flag(1), config::SH_PORT);
  EXPECT_EQ(sh.real_server(0).upper_threshold(), 100u);
  EXPECT_EQ(sh.real_server(0).lower_threshold(), 10u);
  const auto& sip = r.config.virtual_service(1);
  EXPECT_EQ(sip.persistence().engine(), "sip");
  EXPECT_TRUE(sip.one_packet());
  const auto& fw = r.config.virtual_service(2);
  EXPECT_EQ(fw.family(), config::INET6);
  EXPECT_EQ(fw.persistence().netmask(), "64");
  EXPECT_EQ(fw.real_server(0).address(), "[2001:db8::5]");
  EXPECT_EQ(r.config.virtual_service(3).sched_flag(0), config::MH_PORT);
}

TEST(Ipvsadm, TunnelsSharedByAllRealServersMoveToTheService) {
  auto r = run(
      "-A -t 192.0.2.1:80 -s rr\n"
      "-a -t 192.0.2.1:80 -r 10.0.0.1:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-nocsum\n"
      "-a -t 192.0.2.1:80 -r 10.0.0.2:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-nocsum\n"
      "-A -t 192.0.2.2:80 -s rr\n"
      "-a -t 192.0.2.2:80 -r 10.0.0.1:80 -i -w 1 --tun-type ipip\n"
      "-a -t 192.0.2.2:80 -r 10.0.0.2:80 -i -w 1 --tun-type gre --tun-csum\n");
  ASSERT_TRUE(r.complete()) << ::testing::PrintToString(testing::problemTexts(r));
  const auto& a = r.config.virtual_service(0);
  EXPECT_EQ(a.forwarding(), config::TUN);
  EXPECT_EQ(a.tunnel().type(), config::Tunnel::GUE);
  EXPECT_EQ(a.tunnel().port(), 6080u);
  EXPECT_FALSE(a.real_server(0).has_tunnel());
  const auto& b = r.config.virtual_service(1);
  EXPECT_FALSE(b.has_tunnel());
  EXPECT_FALSE(b.real_server(0).has_tunnel());  // ipip is the default
  EXPECT_EQ(b.real_server(1).tunnel().type(), config::Tunnel::GRE);
  EXPECT_EQ(b.real_server(1).tunnel().csum(), config::Tunnel::CSUM);
}

TEST(Ipvsadm, TimeoutsAndSyncDaemon) {
  auto r = run(
      "ipvsadm --set 900 120 300\n"
      "/sbin/ipvsadm --start-daemon master --mcast-interface eth1 --syncid 3 --sync-maxlen 1400\n"
      "ipvsadm --start-daemon backup\n");
  EXPECT_EQ(r.config.ipvs().tcp_timeout_s(), 900u);
  EXPECT_EQ(r.config.ipvs().tcpfin_timeout_s(), 120u);
  EXPECT_EQ(r.config.ipvs().udp_timeout_s(), 300u);
  EXPECT_EQ(r.config.sync().kernel().interface(), "eth1");
  EXPECT_EQ(r.config.sync().kernel().sync_id(), 3u);
  EXPECT_EQ(r.config.sync().kernel().maxlen(), 1400u);
  EXPECT_TRUE(hasProblem(r, Problem::kNote, 2, "FOLLOW_ROLE"));
  EXPECT_EQ(r.count(Problem::kError), 0u);
}

}  // namespace
}  // namespace lvsd::import
