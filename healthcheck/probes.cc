// TCP, HTTP/HTTPS, UDP and DNS probes on Boost.Asio, plus the factory.
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <openssl/ssl.h>

#include <array>

#include "healthcheck/codec.h"
#include "healthcheck/http.h"
#include "healthcheck/probe.h"

namespace lvsd::healthcheck {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;
using boost::system::error_code;

namespace {

asio::ip::address toAsio(const IpAddress& a) {
  if (a.isV4()) {
    asio::ip::address_v4::bytes_type b;
    std::copy_n(a.bytes().begin(), 4, b.begin());
    return asio::ip::address_v4(b);
  }
  asio::ip::address_v6::bytes_type b;
  std::copy_n(a.bytes().begin(), 16, b.begin());
  return asio::ip::address_v6(b);
}

std::string failure(const char* what, const error_code& ec) {
  return std::string(what) + ": " + ec.message();
}

// Closes a check's TCP connection with a reset (SO_LINGER 0), as HAProxy
// does for its checks: no FIN exchange and no TIME_WAIT on the director,
// which at thousands of checks a second is most of the kernel's work.
template <typename Socket>
void abortiveClose(Socket& s) {
  error_code ignored;
  if (s.is_open()) s.set_option(asio::socket_base::linger(true, 0), ignored);
  s.close(ignored);
}

// --- TCP ---------------------------------------------------------------------

class TcpAttempt final : public Attempt {
 public:
  TcpAttempt(asio::io_context& io, tcp::endpoint ep, Probe::Done d)
      : Attempt(std::move(d)), socket_(io), ep_(ep) {}
  void run() override {
    socket_.async_connect(ep_, [self = shared_from_this(), this](const error_code& ec) {
      if (cancelled()) return;
      finish(ec ? ProbeResult::fail(failure("connect", ec)) : ProbeResult::ok("connected"));
    });
  }

 private:
  void close() override { abortiveClose(socket_); }
  tcp::socket socket_;
  tcp::endpoint ep_;
};

// --- HTTP / HTTPS ------------------------------------------------------------

struct HttpSettings {
  tcp::endpoint ep;
  std::string request;
  std::shared_ptr<const HttpExpect> expect;
  std::shared_ptr<asio::ssl::context> tls;  // null for plain HTTP
  std::string sni;                          // empty = none (IP literals are not sent, RFC 6066 §3)
  std::string verifyName;                   // host name or IP the certificate must match
  bool verify = false;
  bool reuse = true;                        // keep the connection for the next attempt
};

// The connection an HTTP(S) check keeps between attempts (Envoy's
// reuse_connection): a check then costs one request, not a TCP (and TLS)
// handshake and teardown. Owned by the probe, lent to one attempt at a time.
template <typename Stream>
struct IdleConnection {
  std::unique_ptr<Stream> stream;
};

template <typename Stream>
class HttpAttempt final : public Attempt {
 public:
  HttpAttempt(asio::io_context& io, std::shared_ptr<const HttpSettings> s,
              std::shared_ptr<IdleConnection<Stream>> idle, Probe::Done d)
      : Attempt(std::move(d)), io_(io), s_(std::move(s)), idle_(std::move(idle)),
        parser_(s_->expect->maxBody, s_->expect->needsBody()) {}

  void run() override {
    if (idle_->stream) {
      stream_ = std::move(idle_->stream);
      reused_ = true;
      send();
      return;
    }
    connect();
  }

 private:
  static constexpr bool kTls = !std::is_same_v<Stream, tcp::socket>;

  void connect() {
    if constexpr (kTls) stream_ = std::make_unique<Stream>(io_, *s_->tls);
    else stream_ = std::make_unique<Stream>(io_);
    lowest().async_connect(s_->ep, [self = shared_from_this(), this](const error_code& ec) {
      if (cancelled()) return;
      if (ec) return finish(ProbeResult::fail(failure("connect", ec)));
      if constexpr (kTls) {
        SSL* ssl = stream_->native_handle();
        if (!s_->sni.empty()) SSL_set_tlsext_host_name(ssl, s_->sni.c_str());
        if (s_->verify) {
          stream_->set_verify_mode(asio::ssl::verify_peer);
          stream_->set_verify_callback(asio::ssl::host_name_verification(s_->verifyName));
        } else {
          stream_->set_verify_mode(asio::ssl::verify_none);
        }
        stream_->async_handshake(asio::ssl::stream_base::client,
                                 [self = shared_from_this(), this](const error_code& ec2) {
                                   if (cancelled()) return;
                                   if (ec2) return finish(ProbeResult::fail(tlsFailure(ec2)));
                                   send();
                                 });
      } else {
        send();
      }
    });
  }
  tcp::socket::lowest_layer_type& lowest() {
    if constexpr (kTls) return stream_->lowest_layer();
    else return *stream_;
  }
  std::string tlsFailure(const error_code& ec) {
    std::string m = "tls handshake: " + ec.message();
    if constexpr (kTls) {
      long v = SSL_get_verify_result(stream_->native_handle());
      if (s_->verify && v != X509_V_OK) m += " (" + std::string(X509_verify_cert_error_string(v)) + ")";
    }
    return m;
  }
  // A kept connection the server has closed meanwhile fails before any
  // byte of a response: that says nothing about the server, so the attempt
  // goes on with a fresh connection (once).
  bool retryFresh() {
    if (!reused_ || parser_.state() != HttpResponseParser::State::kNeedMore || gotBytes_) return false;
    reused_ = false;
    abortiveClose(lowest());
    parser_ = HttpResponseParser(s_->expect->maxBody, s_->expect->needsBody());
    connect();
    return true;
  }
  void send() {
    asio::async_write(*stream_, asio::buffer(s_->request),
                      [self = shared_from_this(), this](const error_code& ec, size_t) {
                        if (cancelled()) return;
                        if (ec) {
                          if (retryFresh()) return;
                          return finish(ProbeResult::fail(failure("send", ec)));
                        }
                        read();
                      });
  }
  void read() {
    stream_->async_read_some(asio::buffer(buf_), [self = shared_from_this(), this](
                                                     const error_code& ec, size_t n) {
      if (cancelled()) return;
      if (n > 0) {
        gotBytes_ = true;
        parser_.feed(std::string_view(buf_.data(), n));
      }
      if (ec && parser_.state() == HttpResponseParser::State::kNeedMore) {
        if (retryFresh()) return;
        bool closed = ec == asio::error::eof || ec == asio::error::connection_reset;
        if constexpr (kTls) closed = closed || ec == asio::ssl::error::stream_truncated;
        if (!closed) return finish(ProbeResult::fail(failure("receive", ec)));
        parser_.eof();
      }
      // Without a body check and without a connection to keep, the status
      // line decides: no need to read on.
      bool enough = parser_.state() != HttpResponseParser::State::kNeedMore ||
                    (!s_->reuse && !s_->expect->needsBody() && parser_.status() != 0);
      if (!enough) return read();
      keep_ = !ec && s_->reuse && parser_.reusable();
      finish(judgeHttp(*s_->expect, parser_));
    });
  }
  void close() override {
    if (!stream_) return;
    if (keep_) {
      idle_->stream = std::move(stream_);
      return;
    }
    abortiveClose(lowest());
  }

  asio::io_context& io_;
  std::shared_ptr<const HttpSettings> s_;
  std::shared_ptr<IdleConnection<Stream>> idle_;
  std::unique_ptr<Stream> stream_;
  HttpResponseParser parser_;
  bool reused_ = false;
  bool gotBytes_ = false;
  bool keep_ = false;
  // Small enough that the whole attempt stays in malloc's per-thread cache
  // (glibc tcache: up to 1032 bytes); health responses are short, longer
  // bodies take a few more reads.
  std::array<char, 640> buf_;
};

// --- UDP and DNS ---------------------------------------------------------------

// Sends one datagram on a connected socket and waits for an answer that
// `judge` accepts (returns a result) or skips (nullopt: not ours, keep
// waiting). ICMP port unreachable surfaces as "connection refused".
class DatagramAttempt final : public Attempt {
 public:
  using Judge = std::function<std::optional<ProbeResult>(const uint8_t*, size_t)>;
  DatagramAttempt(asio::io_context& io, udp::endpoint ep, std::vector<uint8_t> payload, Judge judge,
                  Probe::Done d)
      : Attempt(std::move(d)), socket_(io), ep_(ep), payload_(std::move(payload)),
        judge_(std::move(judge)) {}

  void run() override {
    error_code ec;
    socket_.open(ep_.protocol(), ec);
    if (!ec) socket_.connect(ep_, ec);
    if (ec) {
      // Deliver from the loop, never from inside start().
      asio::post(socket_.get_executor(), [self = shared_from_this(), this, ec] {
        finish(ProbeResult::fail(failure("socket", ec)));
      });
      return;
    }
    socket_.async_send(asio::buffer(payload_), [self = shared_from_this(), this](
                                                   const error_code& ec2, size_t) {
      if (cancelled()) return;
      if (ec2) return finish(ProbeResult::fail(failure("send", ec2)));
      receive();
    });
  }

 private:
  void receive() {
    socket_.async_receive(asio::buffer(buf_), [self = shared_from_this(), this](
                                                  const error_code& ec, size_t n) {
      if (cancelled()) return;
      if (ec) return finish(ProbeResult::fail(failure("receive", ec)));
      if (auto r = judge_(buf_.data(), n)) return finish(std::move(*r));
      receive();
    });
  }
  void close() override {
    error_code ignored;
    socket_.close(ignored);
  }

  udp::socket socket_;
  udp::endpoint ep_;
  std::vector<uint8_t> payload_;
  Judge judge_;
  std::array<uint8_t, 8192> buf_;
};

Result<std::vector<uint8_t>> fromHex(const std::string& hex) {
  std::vector<uint8_t> out;
  if (hex.size() % 2) return Error("send_hex has an odd number of digits");
  for (size_t i = 0; i < hex.size(); i += 2) {
    auto nib = [](char c) {
      return c >= '0' && c <= '9' ? c - '0'
             : c >= 'a' && c <= 'f' ? c - 'a' + 10
             : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                    : -1;
    };
    int hi = nib(hex[i]), lo = nib(hex[i + 1]);
    if (hi < 0 || lo < 0) return Error("send_hex is not hexadecimal");
    out.push_back(static_cast<uint8_t>(hi << 4 | lo));
  }
  return out;
}

}  // namespace

SeededRng::SeededRng(uint64_t seed) : engine_(seed ? seed : std::random_device{}()) {}
double SeededRng::uniform() { return std::uniform_real_distribution<double>(0.0, 1.0)(engine_); }

Result<std::shared_ptr<asio::ssl::context>> TlsContexts::get(bool verify, const std::string& caFile) {
  auto key = std::make_pair(verify, verify ? caFile : std::string());
  if (auto it = cache_.find(key); it != cache_.end()) return it->second;
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  error_code ec;
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3,
                   ec);
  if (verify) {
    if (caFile.empty()) ctx->set_default_verify_paths(ec);
    else ctx->load_verify_file(caFile, ec);
    if (ec) return Error("ca_file '" + caFile + "': " + ec.message());
  }
  cache_.emplace(key, ctx);
  return ctx;
}

Result<std::unique_ptr<Probe>> makeTcpProbe(const CheckSpec& spec, ProbeEnv& env) {
  tcp::endpoint ep(toAsio(spec.target.address()), spec.target.port());
  auto& io = env.io;
  return std::unique_ptr<Probe>(std::make_unique<AttemptProbe>(
      [&io, ep](Probe::Done d) { return std::make_shared<TcpAttempt>(io, ep, std::move(d)); }));
}

Result<std::unique_ptr<Probe>> makeHttpProbe(const CheckSpec& spec, ProbeEnv& env, bool tls) {
  const config::HttpProbe& p = tls ? spec.def.https() : spec.def.http();
  auto expect = HttpExpect::fromProto(p);
  if (!expect) return std::move(expect).takeError();
  auto s = std::make_shared<HttpSettings>();
  s->ep = tcp::endpoint(toAsio(spec.target.address()), spec.target.port());
  s->expect = std::make_shared<const HttpExpect>(std::move(*expect));
  std::string host = p.host();
  if (host.empty()) {
    host = spec.target.address().toUrlHost();
    if (spec.target.port() != (tls ? 443 : 80)) host += ":" + std::to_string(spec.target.port());
  }
  s->reuse = p.reuse_connection();
  s->request = httpRequest(p.path(), host, s->reuse);
  if (tls) {
    auto ctx = env.tls.get(p.verify_cert(), p.ca_file());
    if (!ctx) return std::move(ctx).takeError();
    s->tls = *ctx;
    s->verify = p.verify_cert();
    std::string name = !p.sni().empty() ? p.sni() : p.host();
    // Host header values may carry a port; the certificate name does not.
    if (auto colon = name.rfind(':'); colon != std::string::npos && name.find(']') == std::string::npos &&
                                      name.find(':') == colon)
      name.resize(colon);
    if (name.empty()) name = spec.target.address().toString();
    s->verifyName = name;
    if (!IpAddress::parse(name).ok()) s->sni = name;
  }
  auto& io = env.io;
  std::shared_ptr<const HttpSettings> cs = s;
  if (tls) {
    using Stream = asio::ssl::stream<tcp::socket>;
    auto idle = std::make_shared<IdleConnection<Stream>>();
    return std::unique_ptr<Probe>(std::make_unique<AttemptProbe>([&io, cs, idle](Probe::Done d) {
      return std::make_shared<HttpAttempt<Stream>>(io, cs, idle, std::move(d));
    }));
  }
  auto idle = std::make_shared<IdleConnection<tcp::socket>>();
  return std::unique_ptr<Probe>(std::make_unique<AttemptProbe>([&io, cs, idle](Probe::Done d) {
    return std::make_shared<HttpAttempt<tcp::socket>>(io, cs, idle, std::move(d));
  }));
}

Result<std::unique_ptr<Probe>> makeUdpProbe(const CheckSpec& spec, ProbeEnv& env) {
  const auto& p = spec.def.udp();
  auto payload = fromHex(p.send_hex());
  if (!payload) return std::move(payload).takeError();
  std::shared_ptr<const BodyRegex> re;
  if (!p.expect_regex().empty()) {
    auto compiled = BodyRegex::compile(p.expect_regex());
    if (!compiled) return Error("bad expect_regex '" + p.expect_regex() + "': " + compiled.error().message);
    re = std::make_shared<const BodyRegex>(std::move(*compiled));
  }
  udp::endpoint ep(toAsio(spec.target.address()), spec.target.port());
  auto& io = env.io;
  auto data = std::make_shared<const std::vector<uint8_t>>(std::move(*payload));
  return std::unique_ptr<Probe>(std::make_unique<AttemptProbe>([&io, ep, data, re](Probe::Done d) {
    auto judge = [re](const uint8_t* b, size_t n) -> std::optional<ProbeResult> {
      if (!re) return ProbeResult::ok("answered " + std::to_string(n) + " bytes");
      if (re->search(std::string_view(reinterpret_cast<const char*>(b), n))) return ProbeResult::ok("answer matches");
      return ProbeResult::fail("answer does not match expect_regex");
    };
    return std::make_shared<DatagramAttempt>(io, ep, *data, std::move(judge), std::move(d));
  }));
}

Result<std::unique_ptr<Probe>> makeDnsProbe(const CheckSpec& spec, ProbeEnv& env) {
  const auto& p = spec.def.dns();
  auto type = dnsTypeCode(p.type());
  if (!type) return std::move(type).takeError();
  if (p.query().empty()) return Error("dns probe needs a query name");
  if (auto q = encodeDnsQuery(0, p.query(), *type); !q) return std::move(q).takeError();
  udp::endpoint ep(toAsio(spec.target.address()), spec.target.port());
  auto& io = env.io;
  Rng* rng = &env.rng;
  std::string name = p.query();
  uint16_t t = *type;
  return std::unique_ptr<Probe>(std::make_unique<AttemptProbe>([&io, ep, rng, name, t](Probe::Done d) {
    // A fresh random id per query (RFC 5452 §9.2) so stale answers do not count.
    auto id = static_cast<uint16_t>(rng->next64());
    auto query = encodeDnsQuery(id, name, t);
    auto judge = [id, t](const uint8_t* b, size_t n) -> std::optional<ProbeResult> {
      auto r = judgeDnsReply(b, n, id, t);
      if (!r) return std::nullopt;  // not an answer to this query
      return std::move(*r);
    };
    return std::make_shared<DatagramAttempt>(io, ep, std::move(*query), std::move(judge), std::move(d));
  }));
}

Result<std::unique_ptr<Probe>> makeProbe(const CheckSpec& spec, ProbeEnv& env) {
  switch (spec.def.probe_case()) {
    case config::Check::kTcp: return makeTcpProbe(spec, env);
    case config::Check::kHttp: return makeHttpProbe(spec, env, false);
    case config::Check::kHttps: return makeHttpProbe(spec, env, true);
    case config::Check::kUdp: return makeUdpProbe(spec, env);
    case config::Check::kDns: return makeDnsProbe(spec, env);
    case config::Check::kPing: return makePingProbe(spec, env);
    case config::Check::kExec: return makeExecProbe(spec, env);
    case config::Check::kFile: return makeFileProbe(spec, env);
    case config::Check::PROBE_NOT_SET: break;
  }
  return Error("check has no probe");
}

}  // namespace lvsd::healthcheck
