#pragma once
// Private to sync/: the I/O shell of the peer channel. TLS (OpenSSL through
// Boost.Asio) over TCP between directors; every operation is asynchronous
// on the caller's io_context. The director with the lower name dials each
// peer (reconnecting with backoff); the other accepts. Mutual
// authentication: certificates signed by the configured CA and issued for
// the peer's director name (SAN or CN), or a pre-shared key whose identity
// is the director's name. What travels and how it is checked is in
// peer_protocol.h.

#include <boost/asio/io_context.hpp>

#include <array>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/address.h"
#include "core/clock.h"
#include "core/result.h"
#include "proto/sync.pb.h"
#include "sync/peer_protocol.h"

namespace lvsd::sync {

struct PeerEndpoint {
  std::string director;
  Endpoint address;
};

struct TlsSettings {
  std::string certFile, keyFile, caFile;  // certificate mode
  std::string psk;                        // PSK mode: the raw key bytes
  bool usePsk() const { return !psk.empty(); }
  bool operator==(const TlsSettings&) const = default;
};

struct ChannelOptions {
  std::string self;
  std::set<std::string> directors;  // every director in the config (self included)
  Endpoint listen;                  // this director's address and the channel port
  std::vector<PeerEndpoint> peers;  // every other director
  TlsSettings tls;
  Duration pingInterval = std::chrono::seconds(1);
  unsigned deadIntervals = 3;  // silent this many ping intervals = dead
  Duration handshakeTimeout = std::chrono::seconds(5);  // TLS handshake + Hello
  Duration backoffInitial = std::chrono::milliseconds(100);
  Duration backoffMax = std::chrono::seconds(5);
  uint64_t seed = 0;
  size_t maxQueueBytes = 16u << 20;  // unsent bytes per connection before it is dropped
};

struct ChannelCallbacks {
  // What this side says first on every connection.
  std::function<wire::Hello()> makeHello;
  // A peer's Hello was accepted: the connection is up.
  std::function<void(const std::string& peer, const wire::Hello& hello)> onUp;
  // Every later message (Pings included: they prove the peer alive).
  std::function<void(const std::string& peer, const wire::PeerMessage& m)> onMessage;
  // An established connection closed.
  std::function<void(const std::string& peer, ChannelError why, const std::string& detail)> onDown;
};

struct ChannelCounters {
  uint64_t accepted = 0;      // TCP connections accepted
  uint64_t dials = 0;         // connection attempts
  uint64_t established = 0;   // Hellos exchanged
  uint64_t messagesIn = 0;
  uint64_t messagesOut = 0;
  std::array<uint64_t, kChannelErrorCount> errors{};  // closes by reason
};

class PeerChannel {
 public:
  PeerChannel(boost::asio::io_context& io, const Clock& clock, ChannelOptions options,
              ChannelCallbacks callbacks);
  ~PeerChannel();
  PeerChannel(const PeerChannel&) = delete;
  PeerChannel& operator=(const PeerChannel&) = delete;

  // Loads the credentials, listens and starts dialling. Errors: unreadable
  // certificate/key/CA, a key that does not match the certificate, or the
  // listening address cannot be bound.
  lvsd::Status start();
  void stop();

  // Queues `m` (its seq is assigned here) to an established peer; false
  // when the peer is not connected.
  bool send(const std::string& peer, wire::PeerMessage m);
  // To every established peer; returns how many.
  size_t broadcast(const wire::PeerMessage& m);

  bool connected(const std::string& peer) const;
  std::vector<std::string> connectedPeers() const;
  // The last reason a connection to/from `peer` closed ("" if none).
  std::string lastError(const std::string& peer) const;
  const ChannelCounters& counters() const;
  // The port actually bound (useful with port 0 in tests).
  uint16_t listeningPort() const;

  class Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace lvsd::sync
