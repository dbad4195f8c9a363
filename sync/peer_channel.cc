#include "sync/peer_channel.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <deque>
#include <map>
#include <random>

#include "core/log.h"

namespace lvsd::sync {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

auto channelLog() { return logger("sync"); }

// Per-connection and per-context slots for the PSK callbacks.
int sslIndex() {
  static const int idx = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return idx;
}
int ctxIndex() {
  static const int idx = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return idx;
}

struct PskConfig {
  std::string self;
  std::set<std::string> directors;
  std::string key;
};

std::string opensslError() {
  unsigned long e = ERR_get_error();
  if (!e) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

asio::ip::address toAsio(const IpAddress& a) {
  if (a.isV4()) return asio::ip::address_v4(a.v4HostOrder());
  asio::ip::address_v6::bytes_type b;
  std::copy(a.bytes().begin(), a.bytes().end(), b.begin());
  return asio::ip::address_v6(b);
}

}  // namespace

class Conn;

class PeerChannel::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(asio::io_context& io, const Clock& clock, ChannelOptions o, ChannelCallbacks cb)
      : io_(io), clock_(clock), opts_(std::move(o)), cb_(std::move(cb)),
        ctx_(ssl::context::tls), acceptor_(io) {}

  lvsd::Status start();
  void stop();
  void connUp(const std::shared_ptr<Conn>& c, const wire::Hello& hello);
  void connMessage(const std::shared_ptr<Conn>& c, const wire::PeerMessage& m);
  void connClosed(const std::shared_ptr<Conn>& c, ChannelError why, const std::string& detail,
                  bool quiet);
  bool send(const std::string& peer, wire::PeerMessage m);

  asio::io_context& io_;
  const Clock& clock_;
  ChannelOptions opts_;
  ChannelCallbacks cb_;
  ssl::context ctx_;
  PskConfig psk_;
  tcp::acceptor acceptor_;
  struct Dialer {
    PeerEndpoint ep;
    Backoff backoff;
    asio::steady_timer timer;
    std::shared_ptr<Conn> conn;
  };
  std::map<std::string, std::unique_ptr<Dialer>> dialers_;
  std::map<std::string, std::shared_ptr<Conn>> up_;
  std::set<std::shared_ptr<Conn>> pending_;
  std::map<std::string, std::string> lastError_;
  ChannelCounters counters_;
  bool running_ = false;

 private:
  void accept();
  void dial(Dialer& d);
  void scheduleRedial(Dialer& d);
};

class Conn : public std::enable_shared_from_this<Conn> {
 public:
  Conn(std::weak_ptr<PeerChannel::Impl> ch, PeerChannel::Impl& impl, bool client,
       std::string expected)
      : ch_(std::move(ch)),
        opts_(impl.opts_),
        cb_(impl.cb_),
        clock_(impl.clock_),
        stream_(impl.io_, impl.ctx_),
        client_(client),
        expected_(std::move(expected)),
        session_(impl.opts_.self, impl.opts_.directors, expected_,
                 [this](const std::string& d) { return identityMatches(d); }),
        deadline_(impl.io_),
        pingTimer_(impl.io_) {
    SSL_set_ex_data(stream_.native_handle(), sslIndex(), &pskIdentity_);
  }

  tcp::socket& socket() { return stream_.next_layer(); }
  bool client() const { return client_; }
  const std::string& expected() const { return expected_; }
  const std::string& peer() const { return session_.peer(); }
  bool established() const { return session_.established(); }
  bool closed() const { return closed_; }

  void connect(const tcp::endpoint& to) {
    armDeadline(opts_.handshakeTimeout, "connect, TLS handshake and hello");
    if (!opts_.tls.usePsk()) {
      // The server's certificate must be issued for the director we dial.
      SSL* ssl = stream_.native_handle();
      SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      SSL_set1_host(ssl, expected_.c_str());
    }
    auto self = shared_from_this();
    socket().async_connect(to, [self](const boost::system::error_code& ec) {
      if (self->closed_) return;
      if (ec) return self->close(ChannelError::kIo, "connect: " + ec.message());
      self->tune();
      self->handshake(ssl::stream_base::client);
    });
  }

  void acceptedStart() {
    armDeadline(opts_.handshakeTimeout, "TLS handshake and hello");
    tune();
    handshake(ssl::stream_base::server);
  }

  void enqueue(wire::PeerMessage m) {
    if (closed_) return;
    m.set_seq(session_.nextSendSeq());
    std::string f = encodePeerFrame(m);
    queued_ += f.size();
    if (queued_ > opts_.maxQueueBytes)
      return close(ChannelError::kOverflow,
                   std::to_string(queued_) + " bytes unsent (peer not reading)");
    queue_.push_back(std::move(f));
    if (!writing_) writeNext();
  }

  void close(ChannelError why, const std::string& detail, bool quiet = false) {
    if (closed_) return;
    closed_ = true;
    deadline_.cancel();
    pingTimer_.cancel();
    boost::system::error_code ec;
    stream_.lowest_layer().shutdown(tcp::socket::shutdown_both, ec);
    stream_.lowest_layer().close(ec);
    if (auto ch = ch_.lock()) ch->connClosed(shared_from_this(), why, detail, quiet);
  }

 private:
  void tune() {
    boost::system::error_code ec;
    socket().set_option(tcp::no_delay(true), ec);
    socket().set_option(asio::socket_base::keep_alive(true), ec);
  }

  void handshake(ssl::stream_base::handshake_type type) {
    auto self = shared_from_this();
    stream_.async_handshake(type, [self](const boost::system::error_code& ec) {
      if (self->closed_) return;
      if (ec) return self->close(ChannelError::kTls, self->tlsFailure(ec));
      wire::PeerMessage hello;
      *hello.mutable_hello() = self->cb_.makeHello();
      self->enqueue(std::move(hello));
      self->readNext();
    });
  }

  std::string tlsFailure(const boost::system::error_code& ec) {
    std::string s = "TLS handshake: " + ec.message();
    long v = SSL_get_verify_result(stream_.native_handle());
    if (v != X509_V_OK) s += std::string(" (") + X509_verify_cert_error_string(v) + ")";
    return s;
  }

  bool identityMatches(const std::string& director) const {
    if (opts_.tls.usePsk()) {
      // The dialler authenticated the server by the key itself; the
      // acceptor learnt the client's identity in the PSK callback.
      return client_ ? director == expected_ : director == pskIdentity_;
    }
    X509* cert = SSL_get1_peer_certificate(const_cast<SSL*>(
        const_cast<ssl::stream<tcp::socket>&>(stream_).native_handle()));
    if (!cert) return false;
    int rc = X509_check_host(cert, director.data(), director.size(),
                             X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, nullptr);
    X509_free(cert);
    return rc == 1;
  }

  void armDeadline(Duration d, std::string what) {
    deadline_.expires_after(d);
    std::weak_ptr<Conn> weak = shared_from_this();
    deadline_.async_wait([weak, what = std::move(what), d](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (ec || !self || self->closed_) return;
      self->close(ChannelError::kTimeout,
                  what + ": nothing for " + std::to_string(toMillis(d)) + " ms");
    });
  }

  void armPing() {
    pingTimer_.expires_after(opts_.pingInterval);
    std::weak_ptr<Conn> weak = shared_from_this();
    pingTimer_.async_wait([weak](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (ec || !self || self->closed_) return;
      wire::PeerMessage p;
      p.mutable_ping()->set_sent_unix_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                                             self->clock_.wallNow().time_since_epoch())
                                             .count());
      self->enqueue(std::move(p));
      self->armPing();
    });
  }

  void readNext() {
    auto self = shared_from_this();
    stream_.async_read_some(asio::buffer(rbuf_), [self](const boost::system::error_code& ec,
                                                        size_t n) {
      if (self->closed_) return;
      if (n) self->reader_.feed(self->rbuf_.data(), n);
      // Frames that arrived complete are handled even when the stream ends.
      if (!self->drain()) return;
      if (ec) {
        if (self->reader_.pending())
          return self->close(ChannelError::kTruncated, self->reader_.truncation());
        return self->close(ChannelError::kIo, ec == asio::error::eof ||
                                                      ec == ssl::error::stream_truncated
                                                  ? "closed by peer"
                                                  : "read: " + ec.message());
      }
      self->readNext();
    });
  }

  // Handles every complete frame; false when the connection was closed.
  bool drain() {
    while (!closed_) {
      auto next = reader_.next();
      if (std::holds_alternative<std::nullopt_t>(next)) return true;
      if (auto* v = std::get_if<Violation>(&next)) {
        close(v->error, v->detail);
        return false;
      }
      bool wasEstablished = established();
      auto r = session_.receive(std::get<std::string>(next));
      if (auto* v = std::get_if<Violation>(&r)) {
        close(v->error, v->detail);
        return false;
      }
      auto& m = std::get<wire::PeerMessage>(r);
      auto ch = ch_.lock();
      if (!ch) return false;
      // Any message proves the peer alive.
      armDeadline(opts_.pingInterval * opts_.deadIntervals, "keepalive");
      if (!wasEstablished) {
        armPing();
        ch->connUp(shared_from_this(), m.hello());
      } else {
        ch->connMessage(shared_from_this(), m);
      }
    }
    return false;
  }

  void writeNext() {
    if (queue_.empty() || closed_) {
      writing_ = false;
      return;
    }
    writing_ = true;
    auto self = shared_from_this();
    asio::async_write(stream_, asio::buffer(queue_.front()),
                      [self](const boost::system::error_code& ec, size_t n) {
                        if (self->closed_) return;
                        if (ec) return self->close(ChannelError::kIo, "write: " + ec.message());
                        self->queued_ -= self->queue_.front().size();
                        self->queue_.pop_front();
                        self->writeNext();
                      });
  }

  std::weak_ptr<PeerChannel::Impl> ch_;
  const ChannelOptions& opts_;
  const ChannelCallbacks& cb_;
  const Clock& clock_;
  ssl::stream<tcp::socket> stream_;
  bool client_;
  std::string expected_;
  std::string pskIdentity_;
  PeerSession session_;
  FrameReader reader_;
  std::array<char, 16384> rbuf_{};
  std::deque<std::string> queue_;
  size_t queued_ = 0;
  bool writing_ = false;
  bool closed_ = false;
  asio::steady_timer deadline_;
  asio::steady_timer pingTimer_;
};

namespace {

unsigned pskClient(SSL* ssl, const char*, char* identity, unsigned maxIdentity,
                   unsigned char* psk, unsigned maxPsk) {
  auto* cfg = static_cast<PskConfig*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ctxIndex()));
  if (!cfg || cfg->self.size() + 1 > maxIdentity || cfg->key.size() > maxPsk) return 0;
  std::memcpy(identity, cfg->self.c_str(), cfg->self.size() + 1);
  std::memcpy(psk, cfg->key.data(), cfg->key.size());
  return unsigned(cfg->key.size());
}

unsigned pskServer(SSL* ssl, const char* identity, unsigned char* psk, unsigned maxPsk) {
  auto* cfg = static_cast<PskConfig*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ctxIndex()));
  if (!cfg || !identity || cfg->key.size() > maxPsk) return 0;
  std::string id(identity);
  // Only a peer director may present the key; its name becomes the
  // connection's identity, checked again against its Hello.
  if (id == cfg->self || !cfg->directors.count(id)) return 0;
  if (auto* slot = static_cast<std::string*>(SSL_get_ex_data(ssl, sslIndex()))) *slot = id;
  std::memcpy(psk, cfg->key.data(), cfg->key.size());
  return unsigned(cfg->key.size());
}

}  // namespace

lvsd::Status PeerChannel::Impl::start() {
  SSL_CTX* raw = ctx_.native_handle();
  SSL_CTX_set_min_proto_version(raw, TLS1_2_VERSION);
  SSL_CTX_set_options(raw, SSL_OP_NO_RENEGOTIATION);
  boost::system::error_code ec;
  if (opts_.tls.usePsk()) {
    psk_ = PskConfig{opts_.self, opts_.directors, opts_.tls.psk};
    SSL_CTX_set_ex_data(raw, ctxIndex(), &psk_);
    SSL_CTX_set_psk_client_callback(raw, pskClient);
    SSL_CTX_set_psk_server_callback(raw, pskServer);
    // TLS 1.3 uses the key with (EC)DHE; TLS 1.2 peers get ECDHE-PSK suites.
    if (SSL_CTX_set_cipher_list(raw, "ECDHE-PSK-CHACHA20-POLY1305:ECDHE-PSK-AES256-CBC-SHA384") != 1)
      return Error("peer channel: PSK cipher list: " + opensslError());
    SSL_CTX_set_verify(raw, SSL_VERIFY_NONE, nullptr);
  } else {
    ctx_.use_certificate_chain_file(opts_.tls.certFile, ec);
    if (ec) return Error("peer channel: certificate " + opts_.tls.certFile + ": " + ec.message());
    ctx_.use_private_key_file(opts_.tls.keyFile, ssl::context::pem, ec);
    if (ec) return Error("peer channel: key " + opts_.tls.keyFile + ": " + ec.message());
    if (SSL_CTX_check_private_key(raw) != 1)
      return Error("peer channel: key " + opts_.tls.keyFile + " does not match certificate " +
                   opts_.tls.certFile);
    ctx_.load_verify_file(opts_.tls.caFile, ec);
    if (ec) return Error("peer channel: CA " + opts_.tls.caFile + ": " + ec.message());
    ctx_.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert, ec);
    if (ec) return Error("peer channel: verify mode: " + ec.message());
  }

  tcp::endpoint at(toAsio(opts_.listen.address()), opts_.listen.port());
  acceptor_.open(at.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(at, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    acceptor_.close();
    return Error("peer channel: listen on " + opts_.listen.toString() + ": " + ec.message(),
                 ec.value());
  }
  running_ = true;
  accept();
  uint64_t seed = opts_.seed ? opts_.seed : std::random_device{}();
  for (const auto& p : opts_.peers) {
    if (!(opts_.self < p.director)) continue;  // that peer dials us
    auto d = std::unique_ptr<Dialer>(new Dialer{
        p, Backoff(opts_.backoffInitial, opts_.backoffMax, 0.2, seed++), asio::steady_timer(io_),
        nullptr});
    dial(*d);
    dialers_.emplace(p.director, std::move(d));
  }
  channelLog()->info("peer-channel: listening on {} ({}), dialling {} peer(s)", opts_.listen.toString(),
              opts_.tls.usePsk() ? "psk" : "certificates", dialers_.size());
  return okStatus();
}

void PeerChannel::Impl::accept() {
  auto conn = std::make_shared<Conn>(weak_from_this(), *this, false, "");
  auto weak = weak_from_this();
  acceptor_.async_accept(conn->socket(), [weak, conn](const boost::system::error_code& ec) {
    auto self = weak.lock();
    if (!self || !self->running_) return;
    if (!ec) {
      ++self->counters_.accepted;
      self->pending_.insert(conn);
      conn->acceptedStart();
    } else if (ec == asio::error::operation_aborted) {
      return;
    } else {
      channelLog()->warn("peer-channel: accept: {}", ec.message());
    }
    self->accept();
  });
}

void PeerChannel::Impl::dial(Dialer& d) {
  if (!running_) return;
  d.conn = std::make_shared<Conn>(weak_from_this(), *this, true, d.ep.director);
  pending_.insert(d.conn);
  ++counters_.dials;
  d.conn->connect(tcp::endpoint(toAsio(d.ep.address.address()), d.ep.address.port()));
}

void PeerChannel::Impl::scheduleRedial(Dialer& d) {
  if (!running_) return;
  Duration wait = d.backoff.next();
  d.timer.expires_after(wait);
  auto weak = weak_from_this();
  std::string name = d.ep.director;
  d.timer.async_wait([weak, name](const boost::system::error_code& ec) {
    auto self = weak.lock();
    if (ec || !self) return;
    auto it = self->dialers_.find(name);
    if (it != self->dialers_.end()) self->dial(*it->second);
  });
}

void PeerChannel::Impl::connUp(const std::shared_ptr<Conn>& c, const wire::Hello& hello) {
  const std::string& peer = c->peer();
  if (!c->client() && !(peer < opts_.self)) {
    // The lower name dials. Accepting both directions would give a pair two
    // connections that keep replacing each other.
    c->close(ChannelError::kBadHello, "'" + peer + "' must be dialled by '" + opts_.self + "'");
    return;
  }
  pending_.erase(c);
  if (auto it = up_.find(peer); it != up_.end() && it->second != c) {
    auto old = it->second;
    up_.erase(it);
    old->close(ChannelError::kReplaced, "a newer connection from the same peer took over");
  }
  up_[peer] = c;
  ++counters_.established;
  if (c->client()) {
    if (auto it = dialers_.find(peer); it != dialers_.end()) it->second->backoff.reset();
  }
  channelLog()->info("peer-channel: peer={} up ({})", peer, c->client() ? "dialled" : "accepted");
  if (cb_.onUp) cb_.onUp(peer, hello);
}

void PeerChannel::Impl::connMessage(const std::shared_ptr<Conn>& c, const wire::PeerMessage& m) {
  ++counters_.messagesIn;
  if (cb_.onMessage) cb_.onMessage(c->peer(), m);
}

void PeerChannel::Impl::connClosed(const std::shared_ptr<Conn>& c, ChannelError why,
                                   const std::string& detail, bool quiet) {
  pending_.erase(c);
  std::string who = c->established() ? c->peer() : (c->client() ? c->expected() : "");
  if (!quiet) {
    ++counters_.errors[size_t(why)];
    std::string peerName = who.empty() ? "(unidentified)" : who;
    if (why == ChannelError::kIo || why == ChannelError::kReplaced)
      channelLog()->info("peer-channel: peer={} closed reason={} detail=\"{}\"", peerName,
                  channelErrorName(why), detail);
    else
      channelLog()->warn("peer-channel: peer={} closed reason={} detail=\"{}\"", peerName,
                  channelErrorName(why), detail);
    if (!who.empty()) lastError_[who] = std::string(channelErrorName(why)) + ": " + detail;
  }
  if (c->established()) {
    auto it = up_.find(c->peer());
    if (it != up_.end() && it->second == c) {
      up_.erase(it);
      if (cb_.onDown && running_) cb_.onDown(c->peer(), why, detail);
    }
  }
  if (c->client()) {
    auto it = dialers_.find(c->expected());
    if (it != dialers_.end() && it->second->conn == c) {
      it->second->conn.reset();
      scheduleRedial(*it->second);
    }
  }
}

bool PeerChannel::Impl::send(const std::string& peer, wire::PeerMessage m) {
  auto it = up_.find(peer);
  if (it == up_.end()) return false;
  ++counters_.messagesOut;
  it->second->enqueue(std::move(m));
  return true;
}

void PeerChannel::Impl::stop() {
  if (!running_) return;
  running_ = false;
  boost::system::error_code ec;
  acceptor_.close(ec);
  for (auto& [name, d] : dialers_) d->timer.cancel();
  auto pending = pending_;
  for (auto& c : pending) c->close(ChannelError::kIo, "stopping", true);
  auto up = up_;
  for (auto& [name, c] : up) c->close(ChannelError::kIo, "stopping", true);
  pending_.clear();
  up_.clear();
  dialers_.clear();
}

PeerChannel::PeerChannel(asio::io_context& io, const Clock& clock, ChannelOptions options,
                         ChannelCallbacks callbacks)
    : impl_(std::make_shared<Impl>(io, clock, std::move(options), std::move(callbacks))) {}

PeerChannel::~PeerChannel() { impl_->stop(); }

lvsd::Status PeerChannel::start() { return impl_->start(); }
void PeerChannel::stop() { impl_->stop(); }

bool PeerChannel::send(const std::string& peer, wire::PeerMessage m) {
  return impl_->send(peer, std::move(m));
}

size_t PeerChannel::broadcast(const wire::PeerMessage& m) {
  size_t n = 0;
  for (const auto& peer : connectedPeers()) n += impl_->send(peer, m);
  return n;
}

bool PeerChannel::connected(const std::string& peer) const { return impl_->up_.count(peer) > 0; }

std::vector<std::string> PeerChannel::connectedPeers() const {
  std::vector<std::string> out;
  for (const auto& [name, c] : impl_->up_) out.push_back(name);
  return out;
}

std::string PeerChannel::lastError(const std::string& peer) const {
  auto it = impl_->lastError_.find(peer);
  return it == impl_->lastError_.end() ? "" : it->second;
}

const ChannelCounters& PeerChannel::counters() const { return impl_->counters_; }

uint16_t PeerChannel::listeningPort() const {
  boost::system::error_code ec;
  auto ep = impl_->acceptor_.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

}  // namespace lvsd::sync
