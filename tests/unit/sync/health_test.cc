#include <gtest/gtest.h>

#include "sync/sync.h"

namespace lvsd::sync {
namespace {

Endpoint ep(const char* s) { return Endpoint::parse(s).value(); }

RealServerHealth rs(const char* a, bool up, std::optional<uint32_t> w, bool settled) {
  RealServerHealth r;
  r.address = ep(a);
  r.up = up;
  r.weight = w;
  r.settled = settled;
  return r;
}

TEST(SyncHealth, RoleNames) {
  EXPECT_STREQ(roleName(InstanceRole::kMaster), "MASTER");
  EXPECT_STREQ(roleName(InstanceRole::kStop), "STOP");
}

TEST(SyncHealth, UnsettledLocalStatesTakeTheSettledPeerView) {
  HealthView local;
  local.services.push_back({"tcp/192.0.2.10:80", false, false,
                            {rs("10.0.0.1:80", false, std::nullopt, false),  // alpha: initial DOWN
                             rs("10.0.0.2:80", true, 5, true),               // settled locally
                             rs("10.0.0.3:80", false, std::nullopt, false)}});
  HealthView a;
  a.services.push_back({"tcp/192.0.2.10:80", true, false,
                        {rs("10.0.0.1:80", true, 7, true),
                         rs("10.0.0.2:80", false, std::nullopt, true),
                         rs("10.0.0.3:80", true, 1, false),  // peer not settled either
                         rs("10.0.0.9:80", true, 1, true)}});  // not in the local config
  a.services.push_back({"tcp/192.0.2.99:80", true, false, {rs("10.0.0.1:80", true, 3, true)}});
  auto m = mergeHealth(local, {{"dir-a", a}});
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0].source, HealthSource::kPeer);
  EXPECT_EQ(m[0].peer, "dir-a");
  EXPECT_TRUE(m[0].health.up);
  EXPECT_EQ(m[0].health.weight, 7u);
  EXPECT_EQ(m[1].source, HealthSource::kLocal);  // local verdict beats the peer's
  EXPECT_TRUE(m[1].health.up);
  EXPECT_EQ(m[2].source, HealthSource::kLocal);
  EXPECT_FALSE(m[2].health.up);
  EXPECT_EQ(m[0].service, "tcp/192.0.2.10:80");
}

TEST(SyncHealth, TheLastPeerReportWins) {
  HealthView local;
  local.services.push_back({"s", false, false, {rs("10.0.0.1:80", false, std::nullopt, false)}});
  HealthView older, newer;
  older.services.push_back({"s", true, false, {rs("10.0.0.1:80", true, 2, true)}});
  newer.services.push_back({"s", true, false, {rs("10.0.0.1:80", false, std::nullopt, true)}});
  auto m = mergeHealth(local, {{"a", older}, {"b", newer}});
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].peer, "b");
  EXPECT_FALSE(m[0].health.up);
  EXPECT_TRUE(mergeHealth(HealthView{}, {{"a", older}}).empty());
}

}  // namespace
}  // namespace lvsd::sync
