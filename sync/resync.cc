#include "sync/resync.h"

#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/post.hpp>

#include <cerrno>
#include <cstring>

namespace lvsd::sync {

namespace asio = boost::asio;
using asio::ip::udp;

Result<uint32_t> interfaceMtu(const std::string& ifname) {
  if (ifname.empty() || ifname.size() >= IFNAMSIZ) return Error("invalid interface name '" + ifname + "'");
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return errnoError("socket", errno);
  struct ifreq ifr {};
  std::memcpy(ifr.ifr_name, ifname.c_str(), ifname.size());
  int rc = ::ioctl(fd, SIOCGIFMTU, &ifr);
  int err = errno;
  ::close(fd);
  if (rc < 0) return errnoError("interface " + ifname + ": SIOCGIFMTU", err);
  return uint32_t(ifr.ifr_mtu);
}

Result<PreparedResync> prepareResync(const std::string& procPath, const ipvs::Table& services,
                                     const ResyncTarget& target) {
  auto started = std::chrono::steady_clock::now();
  auto table = ipvs::readConnections(procPath);
  if (!table) return std::move(table).takeError();
  Duration readTime = std::chrono::steady_clock::now() - started;
  ageByReadTime(*table, readTime);
  ServiceIndex index(services);
  ConvertResult conv = convertTable(*table, index);
  PreparedResync p;
  p.readTime = readTime;
  uint32_t mtu = 0;
  if (auto m = interfaceMtu(target.interface)) mtu = *m;
  p.datagramLimit = resyncDatagramLimit(target.maxlen, target.group.family(), mtu);
  size_t invalid = 0;
  p.datagrams = packAll(target.syncId, p.datagramLimit, conv.entries, &invalid);
  p.entries = conv.entries.size() - invalid;
  p.connections = conv.connections;
  p.templates = conv.templates;
  p.skipped = conv.skippedTotal() + invalid;
  p.unresolved = conv.unresolved;
  p.malformed = conv.malformed;
  for (size_t i = 0; i < kSkipCount; ++i) {
    if (!conv.skipped[i]) continue;
    if (!p.skipDetail.empty()) p.skipDetail += ' ';
    p.skipDetail += std::string(skipName(Skip(i))) + "=" + std::to_string(conv.skipped[i]);
  }
  if (invalid) p.skipDetail += (p.skipDetail.empty() ? "" : " ") + std::string("encoding=") +
                               std::to_string(invalid);
  return p;
}

ResyncSender::ResyncSender(asio::io_context& io, const Clock& clock)
    : io_(io), clock_(clock), timer_(io) {}

ResyncSender::~ResyncSender() {
  alive_.reset();
  timer_.cancel();
  if (socket_) {
    boost::system::error_code ec;
    socket_->close(ec);
  }
}

namespace {

Status setOpt(int fd, int level, int name, const void* v, socklen_t len, const char* what) {
  if (::setsockopt(fd, level, name, v, len) < 0) return errnoError(what, errno);
  return okStatus();
}

}  // namespace

lvsd::Status ResyncSender::start(std::vector<std::vector<uint8_t>> datagrams,
                                 const ResyncTarget& target, uint32_t rate, uint32_t burst,
                                 Done done) {
  if (running_) finish("cancelled");
  unsigned ifindex = ::if_nametoindex(target.interface.c_str());
  if (!ifindex) return errnoError("sync interface " + target.interface, errno);
  bool v6 = target.group.isV6();
  auto sock = std::make_unique<udp::socket>(io_);
  boost::system::error_code ec;
  sock->open(v6 ? udp::v6() : udp::v4(), ec);
  if (ec) return Error("resync socket: " + ec.message(), ec.value());
  int fd = sock->native_handle();
  int ttl = target.ttl ? target.ttl : 1;
  int zero = 0;
  if (v6) {
    int idx = int(ifindex);
    if (auto s = setOpt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &idx, sizeof idx, "IPV6_MULTICAST_IF"); !s)
      return s;
    if (auto s = setOpt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &ttl, sizeof ttl, "IPV6_MULTICAST_HOPS"); !s)
      return s;
    // Our own backup daemon (mode BOTH) must not take our entries back.
    if (auto s = setOpt(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &zero, sizeof zero, "IPV6_MULTICAST_LOOP"); !s)
      return s;
  } else {
    struct ip_mreqn mreq {};
    mreq.imr_ifindex = int(ifindex);
    if (auto s = setOpt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mreq, sizeof mreq, "IP_MULTICAST_IF"); !s)
      return s;
    if (auto s = setOpt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl, "IP_MULTICAST_TTL"); !s)
      return s;
    if (auto s = setOpt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &zero, sizeof zero, "IP_MULTICAST_LOOP"); !s)
      return s;
  }
  // Room for a few bursts; best effort (the sysctl caps it).
  int sndbuf = 1 << 20;
  (void)::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  sock->non_blocking(true, ec);
  if (ec) return Error("resync socket: " + ec.message(), ec.value());

  asio::ip::address addr;
  if (v6) {
    asio::ip::address_v6::bytes_type b;
    std::copy(target.group.bytes().begin(), target.group.bytes().end(), b.begin());
    // Link-scoped groups (ff02::/16) need the interface as scope.
    addr = asio::ip::address_v6(b, target.group.isLinkLocal() || (b[0] == 0xff && (b[1] & 0x0f) == 2)
                                       ? ifindex
                                       : 0);
  } else {
    addr = asio::ip::address_v4(target.group.v4HostOrder());
  }
  socket_ = std::move(sock);
  dest_ = udp::endpoint(addr, target.port);
  datagrams_ = std::move(datagrams);
  next_ = 0;
  result_ = ResyncResult{};
  started_ = clock_.now();
  pacer_.emplace(rate, burst, started_);
  done_ = std::move(done);
  running_ = true;
  waiting_ = false;
  // Start from the loop, so `done` never runs inside start().
  std::weak_ptr<int> alive = alive_;
  asio::post(io_, [this, alive] {
    if (alive.lock() && running_) pump();
  });
  return okStatus();
}

void ResyncSender::cancel() {
  if (running_) finish("cancelled");
}

void ResyncSender::pump() {
  if (!running_ || waiting_) return;
  TimePoint now = clock_.now();
  uint64_t n = pacer_->available(now);
  while (n > 0 && next_ < datagrams_.size()) {
    const auto& d = datagrams_[next_];
    boost::system::error_code ec;
    socket_->send_to(asio::buffer(d), dest_, 0, ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      // The socket buffer is full: continue when it drains.
      ++result_.waits;
      waiting_ = true;
      std::weak_ptr<int> alive = alive_;
      socket_->async_wait(udp::socket::wait_write, [this, alive](const boost::system::error_code& e) {
        if (!alive.lock()) return;
        waiting_ = false;
        if (e) return;  // cancelled by finish()/close
        pump();
      });
      return;
    }
    if (ec == asio::error::no_buffer_space) {
      // The device queue is full; poll() would say writable. Back off briefly.
      ++result_.waits;
      break;
    }
    if (ec) {
      finish("send to " + dest_.address().to_string() + " port " + std::to_string(dest_.port()) +
             ": " + ec.message());
      return;
    }
    pacer_->consume(1);
    --n;
    ++next_;
    ++result_.datagrams;
    result_.bytes += d.size();
  }
  if (next_ >= datagrams_.size()) {
    finish("");
    return;
  }
  TimePoint at = pacer_->nextAt(clock_.now());
  Duration wait = std::max<Duration>(at - clock_.now(), std::chrono::microseconds(n == 0 ? 0 : 1000));
  timer_.expires_after(wait);
  std::weak_ptr<int> alive = alive_;
  timer_.async_wait([this, alive](const boost::system::error_code& e) {
    if (!alive.lock() || e) return;
    pump();
  });
}

void ResyncSender::finish(const std::string& error) {
  running_ = false;
  waiting_ = false;
  timer_.cancel();
  if (socket_) {
    boost::system::error_code ec;
    socket_->close(ec);
  }
  result_.error = error;
  result_.elapsed = clock_.now() - started_;
  Done done = std::move(done_);
  done_ = nullptr;
  datagrams_.clear();
  datagrams_.shrink_to_fit();
  if (done) done(result_);
}

}  // namespace lvsd::sync
