#include "test_server.h"

#include <utility>  // boost/asio/awaitable.hpp uses std::exchange without it

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <openssl/ssl.h>

#include <deque>
#include <mutex>
#include <thread>
#include <variant>

namespace lvsd::testing {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;
using boost::system::error_code;

class TestServer::Impl {
 public:
  // TLS contexts outlive the io_context whose handlers hold streams.
  std::vector<std::shared_ptr<asio::ssl::context>> tls;
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(io);
  std::thread thread;
  mutable std::mutex mu;
  Reply def = Reply::kOk;
  std::deque<Reply> queued;
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> connections{0};
  std::string lastHost, lastPath, lastSni;
  bool ownThread = true;

  Reply next() {
    ++requests;
    std::lock_guard l(mu);
    if (queued.empty()) return def;
    Reply r = queued.front();
    queued.pop_front();
    return r;
  }

  static std::string response(Reply r, bool close) {
    std::string body = r == Reply::kWrongBody ? "something else entirely\n" : kOkBody;
    std::string status = r == Reply::kStatus503 ? "503 Service Unavailable" : "200 OK";
    return "HTTP/1.1 " + status + "\r\nContent-Type: text/plain\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n" + (close ? "Connection: close\r\n" : "") +
           "\r\n" + body;
  }

  template <typename Stream>
  struct Conn : std::enable_shared_from_this<Conn<Stream>> {
    Impl* srv;
    Stream s;
    std::string buf;
    std::array<char, 2048> chunk;
    std::string out;
    template <typename... A>
    Conn(Impl* i, A&&... a) : srv(i), s(std::forward<A>(a)...) {}

    void start() {
      if constexpr (std::is_same_v<Stream, tcp::socket>) {
        read();
      } else {
        s.async_handshake(asio::ssl::stream_base::server,
                          [self = this->shared_from_this()](const error_code& ec) {
                            if (ec) return;
                            const char* sni = SSL_get_servername(self->s.native_handle(),
                                                                 TLSEXT_NAMETYPE_host_name);
                            {
                              std::lock_guard l(self->srv->mu);
                              self->srv->lastSni = sni ? sni : "";
                            }
                            self->read();
                          });
      }
    }
    void read() {
      s.async_read_some(asio::buffer(chunk), [self = this->shared_from_this()](const error_code& ec,
                                                                               size_t n) {
        if (ec) return;
        self->buf.append(self->chunk.data(), n);
        self->process();
      });
    }
    // One request at a time; HTTP/1.1 keeps the connection unless the
    // client says "Connection: close"; HTTP/1.0 closes unless it asks.
    void process() {
      auto end = buf.find("\r\n\r\n");
      if (end == std::string::npos) return read();
      std::string head = buf.substr(0, end);
      buf.erase(0, end + 4);
      answer(head);
    }
    void answer(const std::string& head) {
      {
        std::lock_guard l(srv->mu);
        auto sp1 = head.find(' '), sp2 = head.find(' ', sp1 + 1);
        if (sp1 != std::string::npos && sp2 != std::string::npos)
          srv->lastPath = head.substr(sp1 + 1, sp2 - sp1 - 1);
        auto h = head.find("\r\nHost: ");
        if (h != std::string::npos) srv->lastHost = head.substr(h + 8, head.find("\r\n", h + 8) - h - 8);
      }
      Reply r = srv->next();
      if (r == Reply::kHang) {
        // Keep the connection open (and this object alive) until the peer goes.
        hold();
        return;
      }
      if (r == Reply::kClose) return;
      // HTTP/1.0 is persistent only when asked (RFC 9112 §9.3): keepalived's
      // HTTP_GET sends "GET / HTTP/1.0" and reads until the server closes.
      bool http10 = head.substr(0, head.find("\r\n")).find(" HTTP/1.0") != std::string::npos;
      bool close = head.find("\r\nConnection: close") != std::string::npos ||
                   (http10 && head.find("\r\nConnection: keep-alive") == std::string::npos);
      out = response(r, close);
      if (r == Reply::kOkThenClose) close = true;  // without saying so
      asio::async_write(s, asio::buffer(out), [self = this->shared_from_this(), close](
                                                  const error_code& ec, size_t) {
        if (ec) return;
        if (!close) return self->process();
        error_code ignored;
        self->s.lowest_layer().shutdown(tcp::socket::shutdown_both, ignored);
      });
    }
    void hold() {
      s.async_read_some(asio::buffer(chunk), [self = this->shared_from_this()](const error_code& ec, size_t) {
        if (!ec) self->hold();
      });
    }
  };

  void accept(std::shared_ptr<tcp::acceptor> a, std::shared_ptr<asio::ssl::context> ctx) {
    a->async_accept([self = this, a, ctx](const error_code& ec, tcp::socket sock) {
      if (ec) return;
      // kClose and kHang before the handshake are decided per connection for
      // TLS too: the reply queue applies once the request is read.
      ++self->connections;
      if (ctx) {
        std::make_shared<Conn<asio::ssl::stream<tcp::socket>>>(self, std::move(sock), *ctx)->start();
      } else {
        std::make_shared<Conn<tcp::socket>>(self, std::move(sock))->start();
      }
      self->accept(a, ctx);
    });
  }

  struct UdpState {
    udp::socket sock;
    udp::endpoint peer;
    std::array<char, 2048> buf;
    std::string out;
    explicit UdpState(asio::io_context& io) : sock(io) {}
  };
  void receive(std::shared_ptr<UdpState> u) {
    u->sock.async_receive_from(asio::buffer(u->buf), u->peer, [self = this, u](
                                                                  const error_code& ec, size_t n) {
      if (ec) return;
      Reply r = self->next();
      if (r == Reply::kOk || r == Reply::kWrongBody || r == Reply::kStatus503) {
        u->out = r == Reply::kOk ? "pong:" + std::string(u->buf.data(), n) : "nope";
        error_code ignored;
        u->sock.send_to(asio::buffer(u->out), u->peer, 0, ignored);
      }
      self->receive(u);
    });
  }
};

TestServer::TestServer(bool ownThread) : impl_(std::make_unique<Impl>()) {
  impl_->ownThread = ownThread;
}

TestServer::~TestServer() {
  stop();
  if (impl_->thread.joinable()) impl_->thread.join();
  // Destroying the io_context destroys the pending handlers and with them
  // every socket: the ports are closed when this returns.
}

uint16_t TestServer::listenHttp(const std::string& ip, uint16_t port, const std::string& cert,
                                const std::string& key) {
  auto a = std::make_shared<tcp::acceptor>(impl_->io);
  tcp::endpoint ep(asio::ip::make_address(ip), port);
  a->open(ep.protocol());
  a->set_option(tcp::acceptor::reuse_address(true));
  a->bind(ep);
  a->listen(4096);
  std::shared_ptr<asio::ssl::context> ctx;
  if (!cert.empty()) {
    ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
    ctx->use_certificate_chain_file(cert);
    ctx->use_private_key_file(key, asio::ssl::context::pem);
    impl_->tls.push_back(ctx);
  }
  uint16_t bound = a->local_endpoint().port();
  asio::post(impl_->io, [impl = impl_.get(), a, ctx] { impl->accept(a, ctx); });
  if (impl_->ownThread && !impl_->thread.joinable()) impl_->thread = std::thread([impl = impl_.get()] { impl->io.run(); });
  return bound;
}

uint16_t TestServer::listenUdp(const std::string& ip, uint16_t port) {
  auto u = std::make_shared<Impl::UdpState>(impl_->io);
  udp::endpoint ep(asio::ip::make_address(ip), port);
  u->sock.open(ep.protocol());
  u->sock.bind(ep);
  uint16_t bound = u->sock.local_endpoint().port();
  asio::post(impl_->io, [impl = impl_.get(), u] { impl->receive(u); });
  if (impl_->ownThread && !impl_->thread.joinable()) impl_->thread = std::thread([impl = impl_.get()] { impl->io.run(); });
  return bound;
}

void TestServer::setDefault(Reply r) {
  std::lock_guard l(impl_->mu);
  impl_->def = r;
}
void TestServer::queue(Reply r) {
  std::lock_guard l(impl_->mu);
  impl_->queued.push_back(r);
}
uint64_t TestServer::requests() const { return impl_->requests; }
uint64_t TestServer::connections() const { return impl_->connections; }
std::string TestServer::lastHost() const {
  std::lock_guard l(impl_->mu);
  return impl_->lastHost;
}
std::string TestServer::lastPath() const {
  std::lock_guard l(impl_->mu);
  return impl_->lastPath;
}
std::string TestServer::lastSni() const {
  std::lock_guard l(impl_->mu);
  return impl_->lastSni;
}

void TestServer::runHere() { impl_->io.run(); }

void TestServer::stop() {
  impl_->work.reset();
  impl_->io.stop();
}

}  // namespace lvsd::testing
