// ICMP echo probe. Prefers an unprivileged ICMP datagram ("ping") socket,
// where the kernel picks the identifier and delivers only this socket's
// replies; falls back to a raw socket (root / CAP_NET_RAW), where every
// reply arrives and ours are picked out by source, identifier and sequence.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>

#include <array>
#include <cerrno>
#include <cstring>

#include "healthcheck/codec.h"
#include "healthcheck/probe.h"

namespace lvsd::healthcheck {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

struct PingSocket {
  int fd = -1;
  bool raw = false;
};

Result<PingSocket> openPingSocket(bool v6) {
  int family = v6 ? AF_INET6 : AF_INET;
  int proto = v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
  int fd = ::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
  if (fd >= 0) return PingSocket{fd, false};
  int dgramErr = errno;
  fd = ::socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
  if (fd >= 0) return PingSocket{fd, true};
  return errnoError("ICMP socket (datagram: " + std::string(std::strerror(dgramErr)) + "; raw)", errno);
}

class PingAttempt final : public Attempt {
 public:
  PingAttempt(asio::io_context& io, Endpoint target, uint16_t id, uint16_t seq, Probe::Done d)
      : Attempt(std::move(d)), sock_(io), target_(target), id_(id), seq_(seq) {}

  void run() override {
    const bool v6 = target_.address().isV6();
    auto s = openPingSocket(v6);
    if (!s) return failSoon(s.error().message);
    raw_ = s->raw;
    sock_.assign(s->fd);
    sockaddr_storage sa{};
    socklen_t len;
    if (v6) {
      auto* a = reinterpret_cast<sockaddr_in6*>(&sa);
      a->sin6_family = AF_INET6;
      std::memcpy(&a->sin6_addr, target_.address().bytes().data(), 16);
      len = sizeof(*a);
    } else {
      auto* a = reinterpret_cast<sockaddr_in*>(&sa);
      a->sin_family = AF_INET;
      std::memcpy(&a->sin_addr, target_.address().bytes().data(), 4);
      len = sizeof(*a);
    }
    auto pkt = encodeEchoRequest(v6, id_, seq_, "lvsd-healthcheck");
    if (::sendto(sock_.native_handle(), pkt.data(), pkt.size(), 0,
                 reinterpret_cast<sockaddr*>(&sa), len) < 0)
      return failSoon(errnoError("send echo request", errno).message);
    wait();
  }

 private:
  void failSoon(std::string reason) {
    asio::post(sock_.get_executor(), [self = shared_from_this(), this, reason] {
      finish(ProbeResult::fail(reason));
    });
  }
  void wait() {
    sock_.async_wait(asio::posix::stream_descriptor::wait_read,
                     [self = shared_from_this(), this](const error_code& ec) {
                       if (cancelled()) return;
                       if (ec) return finish(ProbeResult::fail("receive: " + ec.message()));
                       drain();
                     });
  }
  void drain() {
    const bool v6 = target_.address().isV6();
    for (;;) {
      sockaddr_storage from{};
      socklen_t flen = sizeof(from);
      ssize_t n = ::recvfrom(sock_.native_handle(), buf_.data(), buf_.size(), 0,
                             reinterpret_cast<sockaddr*>(&from), &flen);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return wait();
        if (errno == EINTR) continue;
        return finish(ProbeResult::fail(errnoError("receive", errno).message));
      }
      auto reply = parseEchoReply(v6, raw_ && !v6, buf_.data(), static_cast<size_t>(n));
      if (!reply || reply->seq != seq_) continue;
      if (raw_) {
        // A raw socket sees every ICMP packet of the host.
        if (reply->id != id_ || !fromTarget(from)) continue;
      }
      return finish(ProbeResult::ok("echo reply"));
    }
  }
  bool fromTarget(const sockaddr_storage& from) const {
    if (from.ss_family == AF_INET && target_.address().isV4())
      return std::memcmp(&reinterpret_cast<const sockaddr_in&>(from).sin_addr,
                         target_.address().bytes().data(), 4) == 0;
    if (from.ss_family == AF_INET6 && target_.address().isV6())
      return std::memcmp(&reinterpret_cast<const sockaddr_in6&>(from).sin6_addr,
                         target_.address().bytes().data(), 16) == 0;
    return false;
  }
  void close() override {
    error_code ignored;
    sock_.close(ignored);
  }

  asio::posix::stream_descriptor sock_;
  Endpoint target_;
  uint16_t id_;
  uint16_t seq_;
  bool raw_ = false;
  std::array<uint8_t, 2048> buf_;
};

}  // namespace

Result<std::unique_ptr<Probe>> makePingProbe(const CheckSpec& spec, ProbeEnv& env) {
  auto& io = env.io;
  Endpoint target = spec.target;
  auto id = static_cast<uint16_t>(env.rng.next64());
  auto seq = std::make_shared<uint16_t>(0);
  return std::unique_ptr<Probe>(std::make_unique<AttemptProbe>([&io, target, id, seq](Probe::Done d) {
    return std::make_shared<PingAttempt>(io, target, id, ++*seq, std::move(d));
  }));
}

}  // namespace lvsd::healthcheck
