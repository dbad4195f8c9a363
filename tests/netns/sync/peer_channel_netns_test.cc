// The TLS peer channel between two directors in two network namespaces:
// mutual authentication (certificates, PSK), refusal of wrong credentials,
// forged and truncated messages closing the connection with a logged
// reason and the channel recovering, and a cut link being redialled.
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>

#include "core/clock.h"
#include "sync/peer_channel.h"
#include "sync_netns.h"

namespace lvsd::sync {
namespace {

using namespace std::chrono_literals;
using testing::NsLoop;
using testing::Waiter;

const IpAddress kA = IpAddress::parse("10.77.0.1").value();
const IpAddress kB = IpAddress::parse("10.77.0.2").value();
constexpr uint16_t kPort = 5406;

// What one side saw, shared with the test thread.
struct Seen {
  std::mutex mu;
  int ups = 0, downs = 0;
  std::vector<std::string> messages;  // body names of non-ping messages
  std::vector<ChannelError> downReasons;
  int count(const std::string& body) {
    std::lock_guard l(mu);
    return int(std::count(messages.begin(), messages.end(), body));
  }
  int upCount() {
    std::lock_guard l(mu);
    return ups;
  }
  int downCount() {
    std::lock_guard l(mu);
    return downs;
  }
};

struct Side {
  NsLoop& loop;
  std::string name;
  std::unique_ptr<PeerChannel> channel;
  Seen seen;

  Side(NsLoop& l, std::string n) : loop(l), name(std::move(n)) {}
  ~Side() {
    if (channel) loop.call([this] { channel.reset(); return 0; });
  }

  lvsd::Status start(const TlsSettings& tls, Waiter& w, const std::string& peerName,
                     const IpAddress& self, const IpAddress& peer) {
    ChannelOptions o;
    o.self = name;
    o.directors = {"dir-a", "dir-b"};
    o.listen = Endpoint(self, kPort);
    o.peers = {{peerName, Endpoint(peer, kPort)}};
    o.tls = tls;
    o.pingInterval = 200ms;
    o.handshakeTimeout = 2s;
    o.backoffInitial = 50ms;
    o.backoffMax = 400ms;
    o.seed = 7;
    ChannelCallbacks cb;
    cb.makeHello = [this] {
      wire::Hello h;
      h.set_version(kPeerProtocolVersion);
      h.set_director(name);
      h.set_boot_id(1);
      h.set_config_digest("digest-" + name);
      return h;
    };
    cb.onUp = [this, &w](const std::string&, const wire::Hello&) {
      {
        std::lock_guard l(seen.mu);
        ++seen.ups;
      }
      w.notify();
    };
    cb.onMessage = [this, &w](const std::string&, const wire::PeerMessage& m) {
      if (m.body_case() == wire::PeerMessage::kPing) return;
      {
        std::lock_guard l(seen.mu);
        seen.messages.push_back(m.GetDescriptor()->FindFieldByNumber(int(m.body_case()))->name());
      }
      w.notify();
    };
    cb.onDown = [this, &w](const std::string&, ChannelError e, const std::string&) {
      {
        std::lock_guard l(seen.mu);
        ++seen.downs;
        seen.downReasons.push_back(e);
      }
      w.notify();
    };
    return loop.call([&] {
      channel = std::make_unique<PeerChannel>(loop.io, SystemClock::instance(), o, std::move(cb));
      return channel->start();
    });
  }

  bool connected(const std::string& peer) {
    return loop.call([&] { return channel && channel->connected(peer); });
  }
  uint64_t errors(ChannelError e) {
    return loop.call([&] { return channel->counters().errors[size_t(e)]; });
  }
  bool sendDigest(const std::string& peer) {
    return loop.call([&] {
      wire::PeerMessage m;
      m.mutable_config()->set_digest("x");
      return channel->send(peer, m);
    });
  }
};

class PeerChannelNetns : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(pair_.error, "");
    ASSERT_EQ(pki_.error, "");
    for (auto [ca, name, file] : std::vector<std::tuple<std::string, std::string, std::string>>{
             {"ca", "dir-a", "a"}, {"ca", "dir-b", "b"}, {"rogue", "dir-b", "b-rogue"},
             {"rogue", "dir-a", "a-rogue"}, {"ca", "dir-c", "c"}})
      ASSERT_EQ(pki_.leaf(ca, name, file), "") << file;
    log_ = testing::captureLog("sync", &w_);
  }
  void TearDown() override {
    auto l = logger("sync");
    auto& sinks = l->sinks();
    sinks.erase(std::remove(sinks.begin(), sinks.end(), log_), sinks.end());
  }

  TlsSettings certs(const std::string& file, const std::string& ca = "ca") {
    TlsSettings t;
    t.certFile = pki_.path(file + ".pem");
    t.keyFile = pki_.path(file + ".key");
    t.caFile = pki_.path(ca + ".pem");
    return t;
  }
  static TlsSettings psk(const std::string& key) {
    TlsSettings t;
    t.psk = key;
    return t;
  }

  // dir-a dials dir-b (the lower name dials).
  void startBoth(const TlsSettings& ta, const TlsSettings& tb) {
    ASSERT_TRUE(b_.start(tb, w_, "dir-a", kB, kA).ok());
    ASSERT_TRUE(a_.start(ta, w_, "dir-b", kA, kB).ok());
  }
  bool bothUp() {
    return w_.until([&] { return a_.connected("dir-b") && b_.connected("dir-a"); });
  }

  testing::Pair pair_;
  testing::TestPki pki_;
  Waiter w_;
  std::shared_ptr<testing::LogCapture> log_;
  Side a_{pair_.a, "dir-a"};
  Side b_{pair_.b, "dir-b"};
};

TEST_F(PeerChannelNetns, MutualCertificatesConnectAndCarryMessages) {
  startBoth(certs("a"), certs("b"));
  ASSERT_TRUE(bothUp());
  EXPECT_TRUE(a_.sendDigest("dir-b"));
  EXPECT_TRUE(b_.sendDigest("dir-a"));
  EXPECT_TRUE(w_.until([&] { return a_.seen.count("config") == 1 && b_.seen.count("config") == 1; }));
  EXPECT_TRUE(log_->contains("peer-channel: peer=dir-b up (dialled)"));
  EXPECT_TRUE(log_->contains("peer-channel: peer=dir-a up (accepted)"));
}

TEST_F(PeerChannelNetns, ServerCertificateFromAnotherCaIsRefused) {
  startBoth(certs("a"), certs("b-rogue"));
  EXPECT_TRUE(w_.until([&] { return a_.errors(ChannelError::kTls) >= 2; }));
  EXPECT_FALSE(a_.connected("dir-b"));
  EXPECT_FALSE(b_.connected("dir-a"));
  EXPECT_TRUE(log_->contains("reason=tls"));
  EXPECT_TRUE(log_->contains("certificate verify failed"));
}

TEST_F(PeerChannelNetns, ClientCertificateFromAnotherCaIsRefused) {
  startBoth(certs("a-rogue"), certs("b"));
  EXPECT_TRUE(w_.until([&] { return b_.errors(ChannelError::kTls) >= 2; }));
  EXPECT_FALSE(b_.connected("dir-a"));
  EXPECT_EQ(b_.seen.upCount(), 0);
  EXPECT_EQ(a_.seen.upCount(), 0);
}

TEST_F(PeerChannelNetns, CertificateForAnotherDirectorIsRefused) {
  // Signed by the right CA, but issued to dir-c: not who dir-a dialled.
  startBoth(certs("a"), certs("c"));
  EXPECT_TRUE(w_.until([&] { return a_.errors(ChannelError::kTls) >= 2; }));
  EXPECT_EQ(a_.seen.upCount(), 0);
  EXPECT_EQ(b_.seen.upCount(), 0);
}

TEST_F(PeerChannelNetns, PreSharedKeyConnectsAndAWrongKeyDoesNot) {
  startBoth(psk("0123456789abcdef0123456789abcdef"), psk("0123456789abcdef0123456789abcdef"));
  ASSERT_TRUE(bothUp());
  EXPECT_TRUE(a_.sendDigest("dir-b"));
  EXPECT_TRUE(w_.until([&] { return b_.seen.count("config") == 1; }));
}

TEST_F(PeerChannelNetns, WrongPreSharedKeyIsRefused) {
  startBoth(psk("0123456789abcdef0123456789abcdef"), psk("fedcba9876543210fedcba9876543210"));
  EXPECT_TRUE(w_.until([&] {
    return a_.errors(ChannelError::kTls) + b_.errors(ChannelError::kTls) >= 2;
  }));
  EXPECT_EQ(a_.seen.upCount(), 0);
  EXPECT_EQ(b_.seen.upCount(), 0);
}

// A client holding dir-a's credentials that writes whatever it is told.
class Forger {
 public:
  Forger(NsLoop& loop, const TlsSettings& tls) : loop_(loop), tls_(tls) {}

  // Connects to dir-b, completes TLS, writes `bytes`, optionally closes its
  // side, then waits for the server to close (returns true when it did).
  // Runs beside dir-a's loop, which keeps serving the real channel.
  bool sendAndExpectClose(const std::string& bytes, bool closeAfter) {
    return loop_.aside([&] {
      namespace asio = boost::asio;
      namespace ssl = asio::ssl;
      asio::io_context io;
      ssl::context ctx(ssl::context::tls_client);
      ctx.use_certificate_chain_file(tls_.certFile);
      ctx.use_private_key_file(tls_.keyFile, ssl::context::pem);
      ctx.load_verify_file(tls_.caFile);
      ctx.set_verify_mode(ssl::verify_peer);
      ssl::stream<asio::ip::tcp::socket> s(io, ctx);
      boost::system::error_code ec;
      s.lowest_layer().connect(
          asio::ip::tcp::endpoint(asio::ip::make_address("10.77.0.2"), kPort), ec);
      if (ec) return false;
      s.handshake(ssl::stream_base::client, ec);
      if (ec) return false;
      asio::write(s, asio::buffer(bytes), ec);
      if (ec) return false;
      // The stream ends here: whatever frame is incomplete stays so.
      if (closeAfter) s.lowest_layer().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
      // The server answers with its own Hello, then closes; read to the end.
      char buf[4096];
      struct timeval tv {5, 0};
      setsockopt(s.lowest_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      while (true) {
        s.read_some(asio::buffer(buf), ec);
        if (ec) return ec != asio::error::would_block && ec != asio::error::try_again;
      }
    });
  }

 private:
  NsLoop& loop_;
  TlsSettings tls_;
};

std::string frameOf(const wire::PeerMessage& m) { return encodePeerFrame(m); }

wire::PeerMessage helloFrom(const std::string& who, uint64_t seq = 1) {
  wire::PeerMessage m;
  m.set_seq(seq);
  m.mutable_hello()->set_version(1);
  m.mutable_hello()->set_director(who);
  m.mutable_hello()->set_boot_id(99);
  return m;
}

TEST_F(PeerChannelNetns, ForgedAndTruncatedMessagesCloseTheConnectionAndTheChannelRecovers) {
  startBoth(certs("a"), certs("b"));
  ASSERT_TRUE(bothUp());
  Forger forger(pair_.a, certs("a"));

  struct Case {
    std::string name;
    std::string bytes;
    ChannelError expect;
    std::string logged;
    bool closeAfter = false;
  };
  wire::PeerMessage gap;
  gap.set_seq(3);
  gap.mutable_ping();
  std::string truncated = frameOf(helloFrom("dir-a"));
  truncated.resize(truncated.size() - 5);
  std::string garbage = std::string("\x00\x00\x00\x06", 4) + "\xff\xff\xff\xff\xff\xff";
  std::vector<Case> cases = {
      {"truncated frame", truncated, ChannelError::kTruncated, "reason=truncated", true},
      {"zero-length frame", std::string(4, '\0'), ChannelError::kBadFrame, "reason=bad-frame"},
      {"garbage payload", garbage, ChannelError::kMalformed, "reason=malformed"},
      {"hello naming another director", frameOf(helloFrom("dir-b")), ChannelError::kBadHello,
       "reason=bad-hello"},
      {"sequence gap", frameOf(helloFrom("dir-a")) + frameOf(gap), ChannelError::kBadSequence,
       "reason=bad-sequence"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    uint64_t before = b_.errors(c.expect);
    EXPECT_TRUE(forger.sendAndExpectClose(c.bytes, c.closeAfter));
    EXPECT_TRUE(w_.until([&] { return b_.errors(c.expect) == before + 1; }));
    EXPECT_TRUE(log_->contains(c.logged)) << c.logged;
    // The real dir-a is connected again (a forged hello from "dir-a" that got
    // through replaced it for a moment; it redials).
    EXPECT_TRUE(bothUp());
    EXPECT_TRUE(a_.sendDigest("dir-b"));
  }
  EXPECT_TRUE(w_.until([&] { return b_.seen.count("config") == int(cases.size()); }));
}

TEST_F(PeerChannelNetns, ACutLinkIsNoticedAndRedialled) {
  startBoth(certs("a"), certs("b"));
  ASSERT_TRUE(bothUp());
  // Drop everything between the two: the TCP connection stays "open", only
  // the keepalive notices.
  ASSERT_EQ(pair_.a.run("ip link set sva down"), "");
  EXPECT_TRUE(w_.until([&] { return a_.seen.downCount() >= 1 && b_.seen.downCount() >= 1; }));
  EXPECT_FALSE(a_.connected("dir-b"));
  EXPECT_TRUE(log_->contains("reason=timeout"));
  ASSERT_EQ(pair_.a.run("ip link set sva up"), "");
  EXPECT_TRUE(bothUp());
  EXPECT_GE(a_.seen.upCount(), 2);
  EXPECT_TRUE(a_.sendDigest("dir-b"));
  EXPECT_TRUE(w_.until([&] { return b_.seen.count("config") >= 1; }));
}

}  // namespace
}  // namespace lvsd::sync
