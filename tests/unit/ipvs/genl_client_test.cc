// The pipelining and error mapping of GenlClient against a scripted kernel.

#include "ipvs/genl_client.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <functional>

namespace lvsd::ipvs {
namespace {

using nl::Bytes;

Bytes nlmsg(uint16_t type, uint16_t flags, uint32_t seq, const Bytes& payload) {
  Bytes out(16);
  uint32_t len = static_cast<uint32_t>(16 + payload.size());
  std::memcpy(out.data(), &len, 4);
  std::memcpy(out.data() + 4, &type, 2);
  std::memcpy(out.data() + 6, &flags, 2);
  std::memcpy(out.data() + 8, &seq, 4);
  out.insert(out.end(), payload.begin(), payload.end());
  out.resize((out.size() + 3) & ~size_t{3}, 0);
  return out;
}

Bytes errorMsg(uint32_t seq, int err) {
  Bytes p(20, 0);  // int error + the request's nlmsghdr (NETLINK_CAP_ACK)
  int32_t e = -err;
  std::memcpy(p.data(), &e, 4);
  return nlmsg(nl::kNlmsgError, 0, seq, p);
}

// A kernel in a box: answers each request the way netlink_rcv_skb does.
class ScriptedKernel final : public NetlinkTransport {
 public:
  std::function<int(uint8_t cmd, uint32_t seq)> fail = [](uint8_t, uint32_t) { return 0; };
  std::function<std::vector<Bytes>(uint8_t cmd, uint32_t seq)> replies =
      [](uint8_t, uint32_t) { return std::vector<Bytes>{}; };
  std::vector<Bytes> sent;
  std::vector<std::vector<nl::Message>> sentMessages;
  std::deque<Bytes> queue;
  std::deque<int> receiveErrors;  // errno to return before the next datagram
  int sendError = 0;

  Status send(std::span<const uint8_t> data) override {
    if (sendError) return Error(std::strerror(sendError), sendError);
    sent.emplace_back(data.begin(), data.end());
    auto msgs = nl::splitMessages(sent.back());
    EXPECT_TRUE(msgs.ok());
    sentMessages.push_back(*msgs);
    for (const auto& m : *msgs) {
      uint8_t cmd = m.payload.empty() ? 0 : m.payload[0];
      for (auto& r : replies(cmd, m.seq)) queue.push_back(r);
      int err = fail(cmd, m.seq);
      if (m.flags & nl::kFlagDump) {
        if (err) {
          queue.push_back(errorMsg(m.seq, err));
        } else {
          Bytes done(4, 0);
          queue.push_back(nlmsg(nl::kNlmsgDone, nl::kFlagMulti, m.seq, done));
        }
      } else if (err || (m.flags & nl::kFlagAck)) {
        queue.push_back(errorMsg(m.seq, err));
      }
    }
    return okStatus();
  }

  Result<size_t> receive(std::span<uint8_t> buf) override {
    if (!receiveErrors.empty()) {
      int e = receiveErrors.front();
      receiveErrors.pop_front();
      return Error(std::strerror(e), e);
    }
    if (queue.empty()) return Error("no answer", ETIMEDOUT);
    Bytes b = queue.front();
    queue.pop_front();
    std::memcpy(buf.data(), b.data(), b.size());
    return b.size();
  }
};

Op addDest(int i) {
  Op op;
  op.kind = OpKind::kAddDestination;
  op.service.key = ServiceKey::inet(Protocol::kTcp, *Endpoint::parse("192.0.2.1:80"));
  op.dest.address = IpAddress::v4(0x0a000000 + static_cast<uint32_t>(i));
  op.dest.port = 80;
  return op;
}

struct Fixture {
  ScriptedKernel* kernel;
  std::unique_ptr<GenlClient> client;
  explicit Fixture(size_t batchMessages, size_t batchBytes = 1 << 20) {
    auto k = std::make_unique<ScriptedKernel>();
    kernel = k.get();
    NetlinkOptions o;
    o.batchMessages = batchMessages;
    o.batchBytes = batchBytes;
    client = std::make_unique<GenlClient>(std::move(k), o, 100);
    client->setFamily(0x1c);
  }
};

TEST(GenlClient, BatchSendsChunksAndAsksForOneAckPerChunk) {
  Fixture f(4);
  std::vector<Op> ops;
  for (int i = 0; i < 10; ++i) ops.push_back(addDest(i));
  BatchResult r = f.client->batch(ops);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.sent, 10u);
  ASSERT_EQ(f.kernel->sentMessages.size(), 3u);  // 4 + 4 + 2
  EXPECT_EQ(f.kernel->sentMessages[0].size(), 4u);
  EXPECT_EQ(f.kernel->sentMessages[2].size(), 2u);
  uint32_t seq = 100;
  for (const auto& chunk : f.kernel->sentMessages) {
    for (size_t i = 0; i < chunk.size(); ++i) {
      EXPECT_EQ(chunk[i].seq, seq++);
      bool last = i + 1 == chunk.size();
      EXPECT_EQ(chunk[i].flags, last ? (nl::kFlagRequest | nl::kFlagAck) : nl::kFlagRequest);
      EXPECT_EQ(chunk[i].payload[0], nl::kCmdNewDest);
    }
  }
  EXPECT_TRUE(f.kernel->queue.empty());  // every answer consumed
}

TEST(GenlClient, BatchRespectsTheByteLimit) {
  Fixture f(1000, 300);  // an add-destination message is 140 bytes
  std::vector<Op> ops;
  for (int i = 0; i < 5; ++i) ops.push_back(addDest(i));
  EXPECT_TRUE(f.client->batch(ops).ok());
  EXPECT_EQ(f.kernel->sentMessages.size(), 2u);  // 3 (420 B: stops after passing 300) + 2
}

TEST(GenlClient, BatchMapsEachFailureToItsObject) {
  Fixture f(4);
  // Requests 102 (index 2) and 107 (index 7, the last of chunk 2) fail.
  f.kernel->fail = [](uint8_t, uint32_t seq) {
    return seq == 102 ? EEXIST : seq == 107 ? ENOENT : 0;
  };
  std::vector<Op> ops;
  for (int i = 0; i < 9; ++i) ops.push_back(addDest(i));
  BatchResult r = f.client->batch(ops);
  EXPECT_EQ(r.sent, 9u);
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_EQ(r.errors[0].index, 2u);
  EXPECT_EQ(r.errors[0].error.code, EEXIST);
  EXPECT_EQ(r.errors[0].error.what(),
            "service tcp 192.0.2.1:80: destination 10.0.0.2:80: File exists");
  EXPECT_EQ(r.errors[1].index, 7u);
  EXPECT_EQ(r.errors[1].error.what(),
            "service tcp 192.0.2.1:80: destination 10.0.0.7:80: No such file or directory");
  EXPECT_TRUE(f.kernel->queue.empty());
}

TEST(GenlClient, StaleAnswersAreIgnored) {
  Fixture f(8);
  f.kernel->queue.push_back(errorMsg(7, EEXIST));  // an answer from long ago
  std::vector<Op> ops{addDest(1)};
  EXPECT_TRUE(f.client->batch(ops).ok());
}

TEST(GenlClient, OverrunMarksUnconfirmedOpsUnknownAndResyncs) {
  Fixture f(3);
  std::vector<Op> ops;
  for (int i = 0; i < 7; ++i) ops.push_back(addDest(i));
  f.kernel->fail = [](uint8_t, uint32_t seq) { return seq == 100 ? EEXIST : 0; };
  // The socket reports an overrun before any answer of the first chunk.
  f.kernel->receiveErrors.push_back(ENOBUFS);
  BatchResult r = f.client->batch(ops);
  EXPECT_EQ(r.sent, 3u);
  ASSERT_EQ(r.errors.size(), 7u);
  for (size_t i = 0; i < 7; ++i) {
    EXPECT_EQ(r.errors[i].index, i);
    EXPECT_EQ(r.errors[i].error.code, ENOBUFS);
  }
  EXPECT_NE(r.errors[1].error.what().find("outcome unknown"), std::string::npos);
  EXPECT_NE(r.errors[5].error.what().find("not sent"), std::string::npos);
  // A resync request (GET_INFO) went out and its answer was found behind the
  // stale ones, so the next request is matched correctly.
  ASSERT_EQ(f.kernel->sentMessages.size(), 2u);
  EXPECT_EQ(f.kernel->sentMessages[1][0].payload[0], nl::kCmdGetInfo);
  EXPECT_TRUE(f.kernel->queue.empty());
  std::vector<Op> more{addDest(9)};
  EXPECT_TRUE(f.client->batch(more).ok());
}

TEST(GenlClient, SendFailureFailsEveryOp) {
  Fixture f(2);
  f.kernel->sendError = EPERM;
  std::vector<Op> ops{addDest(1), addDest(2), addDest(3)};
  BatchResult r = f.client->batch(ops);
  EXPECT_EQ(r.sent, 0u);
  ASSERT_EQ(r.errors.size(), 3u);
  EXPECT_EQ(r.errors[2].error.code, EPERM);
}

TEST(GenlClient, TransactCollectsRepliesUntilTheAck) {
  Fixture f(8);
  f.kernel->replies = [](uint8_t cmd, uint32_t seq) {
    Bytes genl = {nl::kCmdSetInfo, 1, 0, 0, 8, 0, 1, 0, 1, 2, 1, 0};
    return std::vector<Bytes>{nlmsg(0x1c, 0, seq, genl)};
  };
  uint32_t seq = f.client->nextSeq();
  Bytes req;
  nl::encodeGetInfo(req, 0x1c, seq);
  auto r = f.client->transact(req, seq);
  ASSERT_TRUE(r.ok()) << r.error().what();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].size(), 8u);  // the attributes after the genetlink header
}

TEST(GenlClient, TransactReturnsTheKernelErrno) {
  Fixture f(8);
  f.kernel->fail = [](uint8_t, uint32_t) { return EPERM; };
  uint32_t seq = f.client->nextSeq();
  Bytes req;
  nl::encodeFlush(req, 0x1c, seq);
  auto r = f.client->transact(req, seq);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, EPERM);
  EXPECT_EQ(r.error().what(), "Operation not permitted");
}

TEST(GenlClient, DumpCollectsMultipartUntilDone) {
  Fixture f(8);
  f.kernel->replies = [](uint8_t cmd, uint32_t seq) {
    std::vector<Bytes> out;
    for (int i = 0; i < 3; ++i) {
      Bytes genl = {nl::kCmdNewService, 1, 0, 0, 8, 0, 5, 0, static_cast<uint8_t>(i), 0, 0, 0};
      out.push_back(nlmsg(0x1c, nl::kFlagMulti, seq, genl));
    }
    return out;
  };
  uint32_t seq = f.client->nextSeq();
  Bytes req;
  nl::encodeDumpServices(req, 0x1c, seq);
  auto r = f.client->dump(req, seq);
  ASSERT_TRUE(r.ok()) << r.error().what();
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[2][4], 2);
}

TEST(GenlClient, DumpErrorAndTimeout) {
  Fixture f(8);
  f.kernel->fail = [](uint8_t, uint32_t) { return ESRCH; };
  uint32_t seq = f.client->nextSeq();
  Bytes req;
  nl::encodeDumpDestinations(req, 0x1c, seq, ServiceKey::mark(1, Family::kV4));
  auto r = f.client->dump(req, seq);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ESRCH);

  // A kernel that never answers is a timeout, not a hang.
  Fixture g(8);
  uint32_t s2 = g.client->nextSeq();
  Bytes req2;
  nl::encodeGetInfo(req2, 0x1c, s2);
  g.kernel->receiveErrors.push_back(ETIMEDOUT);
  auto t = g.client->transact(req2, s2);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().code, ETIMEDOUT);
}

TEST(GenlClient, ResolveFamily) {
  Fixture f(8);
  f.kernel->replies = [](uint8_t cmd, uint32_t seq) {
    // CTRL_CMD_NEWFAMILY with CTRL_ATTR_FAMILY_ID = 0x2a.
    Bytes genl = {1, 2, 0, 0, 6, 0, 1, 0, 0x2a, 0, 0, 0};
    return std::vector<Bytes>{nlmsg(nl::kGenlIdCtrl, 0, seq, genl)};
  };
  auto id = f.client->resolveFamily("IPVS");
  ASSERT_TRUE(id.ok()) << id.error().what();
  EXPECT_EQ(*id, 0x2a);
  EXPECT_EQ(f.client->family(), 0x2a);

  Fixture g(8);
  g.kernel->fail = [](uint8_t, uint32_t) { return ENOENT; };
  auto missing = g.client->resolveFamily("IPVS");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ENOENT);
}

}  // namespace
}  // namespace lvsd::ipvs
