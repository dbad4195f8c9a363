// A full-table resync on the wire: 50,000 entries read from a proc-format
// table in one namespace, packed, paced and multicast to the sync group out
// of the veth; a receiver joined to the group in the other namespace gets
// every entry, in datagrams the kernel's backup daemon accepts.
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <set>

#include "core/clock.h"
#include "sync/resync.h"
#include "sync/wire.h"
#include "sync_netns.h"

namespace lvsd::sync {
namespace {

using namespace std::chrono_literals;

// `n` entries in /proc/net/ip_vs_conn format: every client 198.18.x.y has
// one established connection and one persistence template.
std::string writeTable(size_t n) {
  return testing::writeConnTable(n, [](size_t i) {
    char line[128];
    uint32_t client = 0xc6120000 + uint32_t(i / 2);
    if (i % 2 == 0)
      std::snprintf(line, sizeof line, "TCP %08X %04X 0A000064 0050 0A010065 0050 ESTABLISHED %7u\n",
                    client, 1024 + unsigned(i % 60000), 600 + unsigned(i % 300));
    else
      std::snprintf(line, sizeof line, "TCP %08X 0000 0A000064 0050 0A010065 0050 NONE        %7u\n",
                    client, 200 + unsigned(i % 100));
    return std::string(line);
  });
}

struct Received {
  size_t datagrams = 0;
  size_t maxSize = 0;
  std::vector<wire::SyncConn> entries;
  std::string error;
};

Received receiveUntil(int fd, size_t entries) {
  Received r;
  std::vector<uint8_t> buf(65536);
  while (r.entries.size() < entries) {
    ssize_t n = recv(fd, buf.data(), buf.size(), 0);
    if (n < 0) {
      r.error = "receive timed out after " + std::to_string(r.entries.size()) + " entries";
      break;
    }
    ++r.datagrams;
    r.maxSize = std::max(r.maxSize, size_t(n));
    auto m = wire::decodeMessage(std::span(buf.data(), size_t(n)));
    if (!m) {
      r.error = m.error().message;
      break;
    }
    if (m->syncId != 9) {
      r.error = "sync id " + std::to_string(m->syncId);
      break;
    }
    for (auto& c : m->conns) r.entries.push_back(std::move(c));
  }
  return r;
}

TEST(ResyncNetns, FiftyThousandEntriesArriveWhole) {
  testing::Pair pair;
  ASSERT_EQ(pair.error, "");
  constexpr size_t kEntries = 50000;
  std::string table = writeTable(kEntries);
  ASSERT_FALSE(table.empty());

  int fd = pair.b.call([] { return testing::joinSyncGroup("svb", 8848, 2); });
  ASSERT_GE(fd, 0) << "joining 224.0.0.81 on svb";

  ResyncTarget target;
  target.interface = "sva";
  target.syncId = 9;
  auto prepared = pair.a.call([&] { return prepareResync(table, {}, target); });
  ASSERT_TRUE(prepared.ok()) << prepared.error().message;
  EXPECT_EQ(prepared->entries, kEntries);
  EXPECT_EQ(prepared->templates, kEntries / 2);
  EXPECT_EQ(prepared->skipped, 0u);
  EXPECT_EQ(prepared->unresolved, kEntries);  // no service table given
  EXPECT_EQ(prepared->datagramLimit, 1472u);  // veth MTU 1500
  EXPECT_EQ(prepared->datagrams.size(), kEntries / 40);
  uint32_t readSlack = uint32_t(toMillis(prepared->readTime) / 1000 + 1);

  std::promise<ResyncResult> done;
  std::unique_ptr<ResyncSender> sender;
  auto sent = pair.a.call([&] {
    sender = std::make_unique<ResyncSender>(pair.a.io, SystemClock::instance());
    return sender->start(std::move(prepared->datagrams), target, 20000, defaultBurst(20000),
                         [&done](const ResyncResult& r) { done.set_value(r); });
  });
  ASSERT_TRUE(sent.ok()) << sent.error().message;

  Received got = pair.b.call([&] { return receiveUntil(fd, kEntries); });
  ResyncResult r = done.get_future().get();
  pair.a.call([&] {
    sender.reset();
    return 0;
  });
  close(fd);
  std::remove(table.c_str());

  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.datagrams, kEntries / 40);
  EXPECT_EQ(got.error, "");
  EXPECT_EQ(got.datagrams, kEntries / 40);
  EXPECT_LE(got.maxSize, 1472u);
  ASSERT_EQ(got.entries.size(), kEntries);
  std::set<uint32_t> clients;
  size_t templates = 0;
  for (size_t i = 0; i < got.entries.size(); ++i) {
    const auto& c = got.entries[i];
    clients.insert(c.caddr.v4HostOrder());
    // Remaining time, less at most the time the table took to read.
    uint32_t want = c.isTemplate() ? 200u + (i % 100) : 600u + (i % 300);
    EXPECT_LE(c.timeout, want) << i;
    EXPECT_GE(c.timeout + readSlack, want) << i;
    if (c.isTemplate())
      ++templates;
    else
      EXPECT_EQ(c.state, 1);  // ESTABLISHED
  }
  EXPECT_EQ(templates, kEntries / 2);
  EXPECT_EQ(clients.size(), kEntries / 2);
  // 1250 datagrams at 20,000/s with a burst of 20: about 62 ms of pacing.
  std::printf("RESULT resync_netns entries=%zu datagrams=%llu ms=%lld waits=%llu\n", kEntries,
              (unsigned long long)r.datagrams, (long long)toMillis(r.elapsed),
              (unsigned long long)r.waits);
}

TEST(ResyncNetns, RefusesAnUnknownInterface) {
  testing::Pair pair;
  ASSERT_EQ(pair.error, "");
  auto s = pair.a.call([&] {
    ResyncSender sender(pair.a.io, SystemClock::instance());
    ResyncTarget t;
    t.interface = "nope0";
    return sender.start({{0, 0, 0, 8, 0, 1, 0, 0}}, t, 100, 1, [](const ResyncResult&) {});
  });
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("sync interface nope0"), std::string::npos);
}

}  // namespace
}  // namespace lvsd::sync
