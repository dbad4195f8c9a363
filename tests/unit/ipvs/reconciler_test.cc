#include <gtest/gtest.h>

#include <algorithm>

#include "fakes/fake_ipvs_backend.h"
#include "ipvs/ipvs.h"

namespace lvsd::ipvs {
namespace {

using testing::FakeIpvsBackend;

ServiceKey tcp(const char* ep) { return ServiceKey::inet(Protocol::kTcp, *Endpoint::parse(ep)); }

Destination rs(const char* ep, uint32_t w = 1) {
  Destination d;
  auto e = Endpoint::parse(ep);
  d.address = e->address();
  d.port = e->port();
  d.weight = w;
  return d;
}

Table desired() {
  Service a;
  a.key = tcp("192.0.2.1:80");
  Service b;
  b.key = tcp("192.0.2.2:80");
  b.scheduler = "rr";
  return {{a, {rs("10.0.0.1:80"), rs("10.0.0.2:80", 2)}}, {b, {rs("10.0.0.3:80")}}};
}

TEST(Reconciler, FirstApplyReadsTheKernelThenProgramsEverything) {
  FakeIpvsBackend k;
  Reconciler r(k, {});
  auto rep = r.apply(desired());
  ASSERT_TRUE(rep.ok()) << rep.error().what();
  EXPECT_TRUE(rep->refreshed);
  EXPECT_EQ(rep->ops.size(), 5u);
  EXPECT_TRUE(rep->errors.empty());
  EXPECT_EQ(k.applyCalls, 1u);  // one pipelined batch
  EXPECT_EQ(k.table(), desired());
  EXPECT_EQ(r.cached(), desired());
}

TEST(Reconciler, RestartOnAMatchingTableChangesNothing) {
  FakeIpvsBackend k;
  k.setTable(desired());
  Reconciler r(k, {});
  auto rep = r.apply(desired());
  ASSERT_TRUE(rep.ok());
  EXPECT_TRUE(rep->ops.empty());
  EXPECT_EQ(k.applyCalls, 0u);
  EXPECT_TRUE(k.applied.empty());
}

TEST(Reconciler, OneWeightChangeIsOneRequestWithoutADump) {
  FakeIpvsBackend k;
  Reconciler r(k, {});
  ASSERT_TRUE(r.apply(desired()).ok());
  size_t dumps = k.dumpCalls;
  k.applied.clear();
  Table t = desired();
  t[0].destinations[1].weight = 7;
  auto rep = r.apply(t);
  ASSERT_TRUE(rep.ok());
  EXPECT_FALSE(rep->refreshed);
  EXPECT_EQ(k.dumpCalls, dumps);  // planned against the cache
  ASSERT_EQ(k.applied.size(), 1u);
  EXPECT_EQ(k.applied[0].kind, OpKind::kEditDestination);
  EXPECT_EQ(k.table(), t);
}

TEST(Reconciler, FailureMarksTheCacheStaleAndTheNextApplyHeals) {
  FakeIpvsBackend k;
  Reconciler r(k, {});
  k.inject = [](const Op& op) {
    return op.kind == OpKind::kAddDestination && op.dest.port == 80 &&
                   op.dest.address == IpAddress::v4(0x0a000002)
               ? EEXIST
               : 0;
  };
  auto rep = r.apply(desired());
  ASSERT_TRUE(rep.ok());
  ASSERT_EQ(rep->errors.size(), 1u);
  EXPECT_EQ(rep->errors[0].error.what(),
            "service tcp 192.0.2.1:80: destination 10.0.0.2:80: File exists");
  EXPECT_EQ(r.counters().opErrors, 1u);
  k.inject = nullptr;
  auto again = r.apply(desired());
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->refreshed);
  ASSERT_EQ(again->ops.size(), 1u);
  EXPECT_EQ(k.table(), desired());
}

TEST(Reconciler, SomeoneElseChangedTheKernel) {
  FakeIpvsBackend k;
  Reconciler r(k, {});
  ASSERT_TRUE(r.apply(desired()).ok());
  // An operator deletes a destination behind lvsd's back; the cached plan
  // for a weight change then fails with ENOENT and the next apply re-reads.
  k.table()[0].destinations.pop_back();
  Table t = desired();
  t[0].destinations[1].weight = 9;
  auto rep = r.apply(t);
  ASSERT_TRUE(rep.ok());
  ASSERT_EQ(rep->errors.size(), 1u);
  EXPECT_EQ(rep->errors[0].error.code, ENOENT);
  auto healed = r.apply(t);
  ASSERT_TRUE(healed.ok());
  EXPECT_TRUE(healed->errors.empty());
  EXPECT_EQ(k.table(), t);
}

TEST(Reconciler, RemovedServicesAreDeletedBecauseLvsdOwnedThem) {
  FakeIpvsBackend k;
  Service foreign;
  foreign.key = tcp("198.51.100.1:25");
  k.setTable({{foreign, {rs("10.9.9.9:25")}}});
  Reconciler r(k, {});
  ASSERT_TRUE(r.apply(desired()).ok());
  Table smaller = desired();
  smaller.pop_back();
  auto rep = r.apply(smaller);
  ASSERT_TRUE(rep.ok());
  ASSERT_EQ(rep->ops.size(), 1u);
  EXPECT_EQ(rep->ops[0].kind, OpKind::kDeleteService);
  EXPECT_EQ(rep->ops[0].service.key, tcp("192.0.2.2:80"));
  // The foreign service is still there.
  ASSERT_EQ(k.table().size(), 2u);
  EXPECT_EQ(k.table()[0].service.key, foreign.key);
  EXPECT_FALSE(r.ownership().owned.count(tcp("192.0.2.2:80")));
}

TEST(Reconciler, CacheFollowsTheDesiredOrderAfterAKernelOrderedRead) {
  FakeIpvsBackend k;
  Table t = desired();
  Table kernelOrder = t;
  std::reverse(kernelOrder.begin(), kernelOrder.end());
  for (auto& vs : kernelOrder) std::reverse(vs.destinations.begin(), vs.destinations.end());
  Service foreign;
  foreign.key = tcp("198.51.100.1:25");
  kernelOrder.insert(kernelOrder.begin(), VirtualServer{foreign, {}});
  k.setTable(kernelOrder);
  Reconciler r(k, {});
  auto rep = r.apply(t);
  ASSERT_TRUE(rep.ok());
  EXPECT_TRUE(rep->ops.empty());
  ASSERT_EQ(r.cached().size(), 3u);
  EXPECT_EQ(r.cached()[0], t[0]);  // desired order, destinations too
  EXPECT_EQ(r.cached()[1], t[1]);
  EXPECT_EQ(r.cached()[2].service.key, foreign.key);  // the rest after
  // And a change is still exactly one op.
  t[1].destinations[0].weight = 4;
  rep = r.apply(t);
  ASSERT_TRUE(rep.ok());
  ASSERT_EQ(rep->ops.size(), 1u);
  EXPECT_EQ(rep->ops[0].kind, OpKind::kEditDestination);
}

TEST(Reconciler, KernelUnavailable) {
  FakeIpvsBackend k;
  k.failAll = ENOPROTOOPT;
  Reconciler r(k, {});
  auto rep = r.apply(desired());
  ASSERT_FALSE(rep.ok());
  EXPECT_EQ(rep.error().code, ENOPROTOOPT);
}

TEST(Reconciler, PreviewDoesNotTouchTheKernel) {
  FakeIpvsBackend k;
  Reconciler r(k, {});
  auto ops = r.preview(desired());
  ASSERT_TRUE(ops.ok());
  EXPECT_EQ(ops->size(), 5u);
  EXPECT_EQ(k.applyCalls, 0u);
  EXPECT_TRUE(k.table().empty());
}

TEST(ReadTable, JoinsServicesAndDestinations) {
  FakeIpvsBackend k;
  k.setTable(desired());
  auto t = readTable(k);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*t, desired());
}

}  // namespace
}  // namespace lvsd::ipvs
