#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "ipvs/ipvs.h"

namespace lvsd::ipvs {
namespace {

ServiceKey tcp(const char* ep) { return ServiceKey::inet(Protocol::kTcp, *Endpoint::parse(ep)); }

Service svc(const char* ep, const char* sched = "wlc") {
  Service s;
  s.key = tcp(ep);
  s.scheduler = sched;
  return s;
}

Destination rs(const char* ep, uint32_t weight = 1, Forwarding f = Forwarding::kRoute) {
  Destination d;
  auto e = Endpoint::parse(ep);
  d.address = e->address();
  d.port = e->port();
  d.weight = weight;
  d.forwarding = f;
  return d;
}

std::vector<std::string> lines(const std::vector<Op>& ops) {
  std::vector<std::string> out;
  for (const auto& o : ops) out.push_back(o.toString());
  return out;
}

Table base() {
  return {
      {svc("192.0.2.1:80", "wrr"), {rs("10.0.0.1:80", 5), rs("10.0.0.2:80", 10)}},
      {svc("192.0.2.2:443"), {rs("10.0.1.1:443"), rs("10.0.1.2:443")}},
  };
}

TEST(Planner, EmptyToEmptyIsNothing) { EXPECT_TRUE(plan({}, {}, {}).empty()); }

TEST(Planner, MatchingTableGivesZeroOps) {
  Table t = base();
  EXPECT_TRUE(plan(t, t, {}).empty());
  // Kernel order differs from config order: still nothing to do.
  Table shuffled = t;
  std::reverse(shuffled.begin(), shuffled.end());
  std::reverse(shuffled[0].destinations.begin(), shuffled[0].destinations.end());
  EXPECT_TRUE(plan(t, shuffled, {}).empty());
}

TEST(Planner, IrrelevantDifferencesAreNotEdits) {
  Table want = base();
  Table have = base();
  // A non-persistent service with a leftover netmask/timeout (ipvsadm -M without -p).
  have[0].service.netmask = 0xffff0000;
  have[0].service.timeout = 77;
  // Tunnel parameters of a non-tunnel destination.
  have[0].destinations[0].tunnel = Tunnel{TunnelType::kGue, 1, 1};
  EXPECT_TRUE(plan(want, have, {}).empty());
}

TEST(Planner, NewServiceAddsServiceThenItsDestinations) {
  EXPECT_EQ(lines(plan(base(), {}, {})),
            (std::vector<std::string>{
                "add-service service tcp 192.0.2.1:80 scheduler=wrr",
                "add-destination service tcp 192.0.2.1:80: destination 10.0.0.1:80 forwarding=dr weight=5",
                "add-destination service tcp 192.0.2.1:80: destination 10.0.0.2:80 forwarding=dr weight=10",
                "add-service service tcp 192.0.2.2:443 scheduler=wlc",
                "add-destination service tcp 192.0.2.2:443: destination 10.0.1.1:443 forwarding=dr weight=1",
                "add-destination service tcp 192.0.2.2:443: destination 10.0.1.2:443 forwarding=dr weight=1",
            }));
}

TEST(Planner, OneWeightChangeIsOneEdit) {
  Table want = base();
  want[1].destinations[1].weight = 3;
  auto ops = plan(want, base(), {});
  ASSERT_EQ(ops.size(), 1u);
  EXPECT_EQ(ops[0].kind, OpKind::kEditDestination);
  EXPECT_EQ(ops[0].objectName(), "service tcp 192.0.2.2:443: destination 10.0.1.2:443");
  EXPECT_EQ(ops[0].dest.weight, 3u);
  EXPECT_EQ(ops[0].service, want[1].service);
}

TEST(Planner, DestinationAttributesAreEditedInPlace) {
  struct Case {
    const char* name;
    void (*mutate)(Destination&);
  };
  const Case cases[] = {
      {"forwarding", [](Destination& d) { d.forwarding = Forwarding::kMasq; }},
      {"local", [](Destination& d) { d.forwarding = Forwarding::kLocal; }},
      {"weight zero", [](Destination& d) { d.weight = 0; }},
      {"upper threshold", [](Destination& d) { d.upperThreshold = 100; }},
      {"lower threshold", [](Destination& d) { d.lowerThreshold = 1; }},
      {"to tunnel", [](Destination& d) { d.forwarding = Forwarding::kTunnel; }},
  };
  for (const auto& c : cases) {
    Table want = base();
    c.mutate(want[0].destinations[1]);
    auto ops = plan(want, base(), {});
    ASSERT_EQ(ops.size(), 1u) << c.name;
    EXPECT_EQ(ops[0].kind, OpKind::kEditDestination) << c.name;
    EXPECT_EQ(ops[0].dest, want[0].destinations[1]) << c.name;
  }
}

TEST(Planner, TunnelParametersMatterForTunnels) {
  Table have = base();
  have[0].destinations[0].forwarding = Forwarding::kTunnel;
  Table want = have;
  want[0].destinations[0].tunnel = Tunnel{TunnelType::kGue, 6080, kTunnelCsum};
  auto ops = plan(want, have, {});
  ASSERT_EQ(ops.size(), 1u);
  EXPECT_EQ(ops[0].kind, OpKind::kEditDestination);
  EXPECT_EQ(ops[0].dest.tunnel.port, 6080);
  Table gre = have;
  gre[0].destinations[0].tunnel.type = TunnelType::kGre;
  EXPECT_EQ(plan(gre, have, {}).size(), 1u);
}

TEST(Planner, ServiceAttributesAreEditedInPlace) {
  struct Case {
    const char* name;
    void (*mutate)(Service&);
  };
  const Case cases[] = {
      {"scheduler", [](Service& s) { s.scheduler = "mh"; }},
      {"sched flag", [](Service& s) { s.flags |= kSvcSched1; }},
      {"one packet", [](Service& s) { s.flags |= kSvcOnePacket; }},
      {"persistence on",
       [](Service& s) {
         s.flags |= kSvcPersistent;
         s.timeout = 300;
       }},
      {"engine", [](Service& s) { s.pe = "sip"; }},
  };
  for (const auto& c : cases) {
    Table want = base();
    c.mutate(want[1].service);
    auto ops = plan(want, base(), {});
    ASSERT_EQ(ops.size(), 1u) << c.name;
    EXPECT_EQ(ops[0].kind, OpKind::kEditService) << c.name;
    EXPECT_EQ(ops[0].service, want[1].service) << c.name;
  }
}

TEST(Planner, PersistentTimeoutAndGranularityAreCompared) {
  Table have = base();
  have[0].service.flags = kSvcPersistent;
  have[0].service.timeout = 300;
  Table want = have;
  EXPECT_TRUE(plan(want, have, {}).empty());
  want[0].service.timeout = 600;
  EXPECT_EQ(plan(want, have, {}).size(), 1u);
  want = have;
  want[0].service.netmask = 0xffffff00;
  ASSERT_EQ(plan(want, have, {}).size(), 1u);
  EXPECT_EQ(plan(want, have, {})[0].kind, OpKind::kEditService);
  // Persistence off: one edit, never a delete.
  want = base();
  auto ops = plan(want, have, {});
  ASSERT_EQ(ops.size(), 1u);
  EXPECT_EQ(ops[0].kind, OpKind::kEditService);
}

TEST(Planner, AddsBeforeDeletesWithinAService) {
  Table want = base();
  want[0].destinations = {rs("10.0.0.2:80", 7), rs("10.0.0.3:80", 1)};
  EXPECT_EQ(lines(plan(want, base(), {})),
            (std::vector<std::string>{
                "edit-destination service tcp 192.0.2.1:80: destination 10.0.0.2:80 forwarding=dr weight=7",
                "add-destination service tcp 192.0.2.1:80: destination 10.0.0.3:80 forwarding=dr weight=1",
                "delete-destination service tcp 192.0.2.1:80: destination 10.0.0.1:80",
            }));
}

TEST(Planner, DestinationPortChangeIsAddAndDelete) {
  Table want = base();
  want[1].destinations[0] = rs("10.0.1.1:8443");
  auto l = lines(plan(want, base(), {}));
  EXPECT_EQ(l, (std::vector<std::string>{
                   "add-destination service tcp 192.0.2.2:443: destination 10.0.1.1:8443 forwarding=dr weight=1",
                   "delete-destination service tcp 192.0.2.2:443: destination 10.0.1.1:443",
               }));
}

TEST(Planner, ServicesNotDesiredAreDeletedOnlyWhenOwned) {
  Table have = base();
  Table want = {base()[0]};
  EXPECT_TRUE(plan(want, have, {}).empty());  // not ours: left alone

  Ownership owned;
  owned.owned.insert(tcp("192.0.2.2:443"));
  EXPECT_EQ(lines(plan(want, have, owned)),
            (std::vector<std::string>{"delete-service service tcp 192.0.2.2:443"}));

  Ownership all;
  all.wholeTable = true;
  EXPECT_EQ(plan(want, have, all).size(), 1u);
}

TEST(Planner, ForeignServicesSurviveEvenWhenEverythingElseChanges) {
  Table have = base();
  have.push_back({svc("198.51.100.9:25"), {rs("10.9.9.9:25")}});
  Table want = base();
  want[0].service.scheduler = "rr";
  Ownership o;
  o.owned = {tcp("192.0.2.1:80"), tcp("192.0.2.2:443")};
  for (const auto& op : plan(want, have, o)) {
    EXPECT_NE(op.service.key, tcp("198.51.100.9:25")) << op.toString();
  }
}

TEST(Planner, ServiceKeyChangeIsAddPlusOwnedDelete) {
  Table want = base();
  want[1].service.key = tcp("192.0.2.2:8443");
  Ownership o;
  o.owned.insert(tcp("192.0.2.2:443"));
  auto ops = plan(want, base(), o);
  ASSERT_EQ(ops.size(), 4u);
  EXPECT_EQ(ops[0].kind, OpKind::kAddService);
  EXPECT_EQ(ops[1].kind, OpKind::kAddDestination);
  EXPECT_EQ(ops[2].kind, OpKind::kAddDestination);
  EXPECT_EQ(ops[3].kind, OpKind::kDeleteService);  // deletes come last
  EXPECT_EQ(ops[3].service.key, tcp("192.0.2.2:443"));
}

TEST(Planner, FamiliesAndFwmarksAreDistinctKeys) {
  Service m4;
  m4.key = ServiceKey::mark(1, Family::kV4);
  Service m6;
  m6.key = ServiceKey::mark(1, Family::kV6);
  m6.netmask = 128;
  Table have = {{m4, {rs("10.0.0.1:0")}}};
  Table want = {{m6, {rs("[2001:db8::1]:0")}}};
  Ownership o;
  o.owned.insert(m4.key);
  auto l = lines(plan(want, have, o));
  EXPECT_EQ(l, (std::vector<std::string>{
                   "add-service service fwmark 1 inet6 scheduler=wlc",
                   "add-destination service fwmark 1 inet6: destination [2001:db8::1]:0 forwarding=dr weight=1",
                   "delete-service service fwmark 1",
               }));
}

TEST(Planner, DuplicateKeysLastDefinitionWins) {
  Table want = {{svc("192.0.2.1:80", "rr"), {rs("10.0.0.1:80", 1), rs("10.0.0.1:80", 4)}},
                {svc("192.0.2.1:80", "sh"), {rs("10.0.0.1:80", 2)}}};
  auto ops = plan(want, {}, {});
  ASSERT_EQ(ops.size(), 2u);
  EXPECT_EQ(ops[0].service.scheduler, "sh");
  EXPECT_EQ(ops[1].dest.weight, 2u);
}

TEST(Planner, OpNamesMatchTheErrorFormat) {
  Op op;
  op.kind = OpKind::kAddDestination;
  op.service = svc("192.0.2.1:80");
  op.dest = rs("10.0.0.5:80");
  EXPECT_EQ(op.objectName(), "service tcp 192.0.2.1:80: destination 10.0.0.5:80");
  op.service.key = ServiceKey::inet(Protocol::kUdp, *Endpoint::parse("[2001:db8::1]:53"));
  op.dest = rs("[2001:db8::2]:53");
  EXPECT_EQ(op.objectName(), "service udp [2001:db8::1]:53: destination [2001:db8::2]:53");
}

// ---------------------------------------------------------------------------
// Randomised: plan() converges in one step, is idempotent, and never touches
// what it does not own.

struct Gen {
  std::mt19937 rng{12345};
  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); }

  Service service(int i) {
    Service s;
    if (i % 5 == 4) {
      s.key = ServiceKey::mark(static_cast<uint32_t>(i + 1), i % 2 ? Family::kV6 : Family::kV4);
    } else {
      s.key = ServiceKey::inet(static_cast<Protocol>(std::array<int, 3>{6, 17, 132}[i % 3]),
                               Endpoint(IpAddress::v4(0xc0000200 + static_cast<uint32_t>(i)), 80));
    }
    s.netmask = defaultNetmask(s.key.family);
    s.scheduler = std::string(kSchedulers[static_cast<size_t>(pick(13))]);
    if (pick(3) == 0) {
      s.flags |= kSvcPersistent;
      s.timeout = 60u * static_cast<uint32_t>(1 + pick(3));
    }
    if (pick(4) == 0) s.flags |= kSvcSched1;
    if (pick(5) == 0) s.pe = "sip";
    return s;
  }

  Destination dest(int j) {
    Destination d;
    d.address = IpAddress::v4(0x0a000000 + static_cast<uint32_t>(j));
    d.port = static_cast<uint16_t>(80 + pick(2));
    d.forwarding = static_cast<Forwarding>(pick(4));
    d.weight = static_cast<uint32_t>(pick(4));
    d.upperThreshold = static_cast<uint32_t>(pick(2) * 100);
    if (d.forwarding == Forwarding::kTunnel && pick(2)) d.tunnel = Tunnel{TunnelType::kGre, 0, 1};
    return d;
  }

  Table table() {
    Table t;
    for (int i = 0; i < 12; ++i) {
      if (pick(3) == 0) continue;
      VirtualServer vs{service(i), {}};
      for (int j = 0; j < 6; ++j) {
        if (pick(2)) vs.destinations.push_back(dest(j));
      }
      // plan() treats duplicate destinations as "last wins"; keep them unique here.
      std::vector<Destination> unique;
      for (auto& d : vs.destinations) {
        auto it = std::find_if(unique.begin(), unique.end(), [&](auto& u) { return u.sameKey(d); });
        if (it == unique.end()) {
          unique.push_back(d);
        } else {
          *it = d;
        }
      }
      vs.destinations = unique;
      t.push_back(vs);
    }
    return t;
  }
};

TEST(Planner, RandomTablesConvergeInOneStep) {
  Gen g;
  for (int round = 0; round < 400; ++round) {
    Table want = g.table();
    Table have = g.table();
    Ownership o;
    o.wholeTable = round % 2 == 0;
    if (!o.wholeTable) {
      for (const auto& vs : have) {
        if (g.pick(2)) o.owned.insert(vs.service.key);
      }
    }
    auto ops = plan(want, have, o);
    Table result = have;
    for (const auto& op : ops) {
      auto s = applyOp(result, op);
      ASSERT_TRUE(s.ok()) << "round " << round << ": " << op.toString() << ": " << s.error().what();
      bool desired = std::any_of(want.begin(), want.end(),
                                 [&](auto& v) { return v.service.key == op.service.key; });
      ASSERT_TRUE(desired || o.wholeTable || o.owned.count(op.service.key))
          << "touched a foreign service: " << op.toString();
    }
    // Idempotent: nothing left to do.
    EXPECT_TRUE(plan(want, result, o).empty()) << "round " << round;
    // Everything desired is there; foreign services are untouched.
    for (const auto& vs : have) {
      bool desired = std::any_of(want.begin(), want.end(),
                                 [&](auto& v) { return v.service.key == vs.service.key; });
      bool present = std::any_of(result.begin(), result.end(),
                                 [&](auto& v) { return v.service.key == vs.service.key; });
      if (!desired && !o.wholeTable && !o.owned.count(vs.service.key)) {
        EXPECT_TRUE(present);
      }
      if (!desired && (o.wholeTable || o.owned.count(vs.service.key))) {
        EXPECT_FALSE(present);
      }
    }
    // No delete-and-re-add of the same object.
    for (size_t i = 0; i < ops.size(); ++i) {
      for (size_t j = 0; j < ops.size(); ++j) {
        if (ops[i].kind == OpKind::kDeleteService && ops[j].kind == OpKind::kAddService) {
          EXPECT_NE(ops[i].service.key, ops[j].service.key);
        }
        if (ops[i].kind == OpKind::kDeleteDestination && ops[j].kind == OpKind::kAddDestination &&
            ops[i].service.key == ops[j].service.key) {
          EXPECT_FALSE(ops[i].dest.sameKey(ops[j].dest));
        }
      }
    }
  }
}

// plan() skips its index when `actual` starts with the desired services in
// order; both paths must give the same operations.
TEST(Planner, AlignedFastPathAgreesWithTheIndexedPath) {
  Gen g;
  auto sorted = [](std::vector<Op> ops) {
    std::vector<std::string> l;
    for (const auto& o : ops) l.push_back(o.toString());
    std::sort(l.begin(), l.end());
    return l;
  };
  for (int round = 0; round < 300; ++round) {
    Table want = g.table();
    Table have = want;
    for (auto& vs : have) {
      if (g.pick(3) == 0) vs.service.scheduler = "rr";
      if (!vs.destinations.empty() && g.pick(2)) vs.destinations[0].weight += 1;
      if (g.pick(4) == 0) vs.destinations.push_back(g.dest(9));
      if (!vs.destinations.empty() && g.pick(4) == 0) vs.destinations.pop_back();
    }
    Service foreign;
    foreign.key = ServiceKey::mark(999, Family::kV4);
    have.push_back({foreign, {}});
    Ownership o;
    if (g.pick(2)) o.owned.insert(foreign.key);
    auto fast = plan(want, have, o);
    Table rotated = have;
    std::rotate(rotated.begin(), rotated.end() - 1, rotated.end());  // defeats the fast path
    auto slow = plan(want, rotated, o);
    EXPECT_EQ(sorted(fast), sorted(slow)) << "round " << round;
    Table result = have;
    for (const auto& op : fast) ASSERT_TRUE(applyOp(result, op).ok()) << op.toString();
    EXPECT_TRUE(plan(want, result, o).empty());
  }
}

TEST(ApplyOp, KernelErrorsForMissingAndDuplicateObjects) {
  Table t;
  Op add;
  add.kind = OpKind::kAddService;
  add.service = svc("192.0.2.1:80");
  ASSERT_TRUE(applyOp(t, add).ok());
  auto dup = applyOp(t, add);
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, EEXIST);
  EXPECT_EQ(dup.error().what(), "service tcp 192.0.2.1:80: File exists");

  Op d;
  d.kind = OpKind::kEditDestination;
  d.service = add.service;
  d.dest = rs("10.0.0.5:80");
  EXPECT_EQ(applyOp(t, d).error().code, ENOENT);
  d.kind = OpKind::kAddDestination;
  ASSERT_TRUE(applyOp(t, d).ok());
  auto again = applyOp(t, d);
  EXPECT_EQ(again.error().what(), "service tcp 192.0.2.1:80: destination 10.0.0.5:80: File exists");
  d.service = svc("192.0.2.9:80");
  EXPECT_EQ(applyOp(t, d).error().code, ESRCH);
}

}  // namespace
}  // namespace lvsd::ipvs
