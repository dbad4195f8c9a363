#include "heartbeat/transport.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace lvsd::heartbeat {

namespace asio = boost::asio;

namespace {

constexpr size_t kRecvBuffer = 9216;  // > kMaxFrameBytes: bigger datagrams show as truncated
constexpr int kSocketBuffer = 1 << 20;

Status setopt(int fd, int level, int name, const void* v, socklen_t len, const char* what) {
  if (::setsockopt(fd, level, name, v, len) < 0) return errnoError(what, errno);
  return okStatus();
}
Status setint(int fd, int level, int name, int v, const char* what) {
  return setopt(fd, level, name, &v, sizeof(v), what);
}

socklen_t toSockaddr(const IpAddress& a, uint16_t port, unsigned scope, sockaddr_storage& ss) {
  std::memset(&ss, 0, sizeof(ss));
  if (a.isV4()) {
    auto* s4 = reinterpret_cast<sockaddr_in*>(&ss);
    s4->sin_family = AF_INET;
    s4->sin_port = htons(port);
    std::memcpy(&s4->sin_addr, a.bytes().data(), 4);
    return sizeof(sockaddr_in);
  }
  auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
  s6->sin6_family = AF_INET6;
  s6->sin6_port = htons(port);
  std::memcpy(&s6->sin6_addr, a.bytes().data(), 16);
  if (a.isLinkLocal() || a.isMulticast()) s6->sin6_scope_id = scope;
  return sizeof(sockaddr_in6);
}

IpAddress fromSockaddr(const sockaddr_storage& ss) {
  if (ss.ss_family == AF_INET)
    return IpAddress::fromBytes(
        Family::kV4, reinterpret_cast<const uint8_t*>(&reinterpret_cast<const sockaddr_in*>(&ss)->sin_addr));
  return IpAddress::fromBytes(
      Family::kV6, reinterpret_cast<const uint8_t*>(&reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_addr));
}

}  // namespace

Status Transport::resolveSources(Model& model) {
  if (model.protocol == Protocol::kNative) return okStatus();
  for (auto& link : model.links) {
    if (!link.local.isV6() || link.local.isLinkLocal()) continue;
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) < 0) return errnoError("getifaddrs", errno);
    std::optional<IpAddress> found;
    for (ifaddrs* i = list; i; i = i->ifa_next) {
      if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET6 || link.interface != i->ifa_name)
        continue;
      auto a = fromSockaddr(*reinterpret_cast<const sockaddr_storage*>(i->ifa_addr));
      if (a.isLinkLocal()) found = a;
    }
    ::freeifaddrs(list);
    if (!found)
      return Error("link " + link.name + ": interface " + link.interface +
                   " has no IPv6 link-local address (VRRP over IPv6 sends from it)");
    link.local = *found;
  }
  return okStatus();
}

Result<std::unique_ptr<Transport>> Transport::open(asio::io_context& io, const Model& model,
                                                   OnPacket onPacket,
                                                   std::function<void()> afterBatch) {
  std::unique_ptr<Transport> t(new Transport(model, std::move(onPacket), std::move(afterBatch)));
  t->buf_.resize(kRecvBuffer);
  for (size_t l = 0; l < model.links.size(); ++l) {
    auto st = t->openLink(io, l);
    if (!st) return Error(st.error().message, st.error().code).context("link " + model.links[l].name);
  }
  for (size_t l = 0; l < t->sockets_.size(); ++l) t->arm(l);
  return t;
}

Transport::~Transport() {
  for (auto& s : sockets_)
    if (s.sd) {
      boost::system::error_code ec;
      s.sd->cancel(ec);
      s.sd->close(ec);
    }
}

Status Transport::openLink(asio::io_context& io, size_t l) {
  const LinkModel& link = model_.links[l];
  Socket s;
  s.family = link.local.family();
  s.local = link.local;
  s.ifindex = if_nametoindex(link.interface.c_str());
  if (s.ifindex == 0) return errnoError("interface " + link.interface, errno);
  const bool native = model_.protocol == Protocol::kNative;
  const int af = toAf(s.family);
  int fd = native ? ::socket(af, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)
                  : ::socket(af, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, kIpProtoVrrp);
  if (fd < 0) return errnoError(native ? "UDP socket" : "raw socket (protocol 112)", errno);
  s.fd = fd;
  s.sd = std::make_unique<asio::posix::stream_descriptor>(io, fd);  // owns fd from here
  Status st = setopt(fd, SOL_SOCKET, SO_BINDTODEVICE, link.interface.c_str(),
                     static_cast<socklen_t>(link.interface.size()), "SO_BINDTODEVICE");
  if (!st) return st;
  // Best effort: a bigger buffer rides out a burst of junk.
  (void)setint(fd, SOL_SOCKET, SO_RCVBUF, kSocketBuffer, "SO_RCVBUF");
  int tos = model_.dscp << 2;
  st = s.family == Family::kV4 ? setint(fd, IPPROTO_IP, IP_TOS, tos, "IP_TOS")
                               : setint(fd, IPPROTO_IPV6, IPV6_TCLASS, tos, "IPV6_TCLASS");
  if (!st) return st;

  if (native) {
    if (!(st = setint(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR"))) return st;
    sockaddr_storage ss;
    socklen_t len = toSockaddr(link.local, model_.port, s.ifindex, ss);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) < 0)
      return errnoError("bind " + link.local.toUrlHost() + ":" + std::to_string(model_.port), errno);
  } else if (s.family == Family::kV4) {
    if (!(st = setint(fd, IPPROTO_IP, IP_MULTICAST_TTL, kVrrpTtl, "IP_MULTICAST_TTL"))) return st;
    if (!(st = setint(fd, IPPROTO_IP, IP_TTL, kVrrpTtl, "IP_TTL"))) return st;
    if (!(st = setint(fd, IPPROTO_IP, IP_MULTICAST_LOOP, 0, "IP_MULTICAST_LOOP"))) return st;
    ip_mreqn mr{};
    mr.imr_ifindex = static_cast<int>(s.ifindex);
    std::memcpy(&mr.imr_address, link.local.bytes().data(), 4);
    if (!(st = setopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mr, sizeof(mr), "IP_MULTICAST_IF")))
      return st;
    if (!model_.vrrpUnicast) {
      std::memcpy(&mr.imr_multiaddr, vrrpGroup(Family::kV4).bytes().data(), 4);
      if (!(st = setopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr), "IP_ADD_MEMBERSHIP")))
        return st;
    }
  } else {
    if (!(st = setint(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, kVrrpTtl, "IPV6_MULTICAST_HOPS")))
      return st;
    if (!(st = setint(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, kVrrpTtl, "IPV6_UNICAST_HOPS")))
      return st;
    if (!(st = setint(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0, "IPV6_MULTICAST_LOOP"))) return st;
    if (!(st = setint(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, static_cast<int>(s.ifindex),
                      "IPV6_MULTICAST_IF")))
      return st;
    if (!(st = setint(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1, "IPV6_RECVHOPLIMIT"))) return st;
    if (!(st = setint(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1, "IPV6_RECVPKTINFO"))) return st;
    if (!model_.vrrpUnicast) {
      ipv6_mreq mr{};
      std::memcpy(&mr.ipv6mr_multiaddr, vrrpGroup(Family::kV6).bytes().data(), 16);
      mr.ipv6mr_interface = s.ifindex;
      if (!(st = setopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mr, sizeof(mr), "IPV6_JOIN_GROUP")))
        return st;
    }
  }
  sockets_.push_back(std::move(s));
  return okStatus();
}

Status Transport::send(size_t l, const IpAddress& dst, std::span<const uint8_t> bytes) {
  if (l >= sockets_.size()) return Error("no such link");
  const Socket& s = sockets_[l];
  const bool native = model_.protocol == Protocol::kNative;
  sockaddr_storage ss;
  socklen_t len = toSockaddr(dst, native ? model_.port : 0, s.ifindex, ss);
  iovec iov{const_cast<uint8_t*>(bytes.data()), bytes.size()};
  msghdr msg{};
  msg.msg_name = &ss;
  msg.msg_namelen = len;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(in6_pktinfo))] = {};
  if (!native) {
    // The source is the director's own address on the link (RFC 5798
    // §5.1.1.1 / §5.1.2.1), never a VIP the interface may also carry.
    msg.msg_control = control;
    cmsghdr* c;
    if (s.family == Family::kV4) {
      msg.msg_controllen = CMSG_SPACE(sizeof(in_pktinfo));
      c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = IPPROTO_IP;
      c->cmsg_type = IP_PKTINFO;
      c->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
      in_pktinfo pi{};
      pi.ipi_ifindex = static_cast<int>(s.ifindex);
      std::memcpy(&pi.ipi_spec_dst, s.local.bytes().data(), 4);
      std::memcpy(CMSG_DATA(c), &pi, sizeof(pi));
    } else {
      msg.msg_controllen = CMSG_SPACE(sizeof(in6_pktinfo));
      c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = IPPROTO_IPV6;
      c->cmsg_type = IPV6_PKTINFO;
      c->cmsg_len = CMSG_LEN(sizeof(in6_pktinfo));
      in6_pktinfo pi{};
      pi.ipi6_ifindex = s.ifindex;
      std::memcpy(&pi.ipi6_addr, s.local.bytes().data(), 16);
      std::memcpy(CMSG_DATA(c), &pi, sizeof(pi));
    }
  }
  if (::sendmsg(s.fd, &msg, MSG_DONTWAIT) < 0) return errnoError("send to " + dst.toString(), errno);
  return okStatus();
}

void Transport::arm(size_t l) {
  sockets_[l].sd->async_wait(asio::posix::stream_descriptor::wait_read,
                             [this, l](const boost::system::error_code& ec) {
                               if (ec) return;  // cancelled: shutting down
                               drain(l);
                               afterBatch_();
                               arm(l);
                             });
}

void Transport::drainAll() {
  for (size_t l = 0; l < sockets_.size(); ++l) drain(l);
}

void Transport::drain(size_t l) {
  const Socket& s = sockets_[l];
  const bool native = model_.protocol == Protocol::kNative;
  for (int i = 0; i < kBatch; ++i) {
    sockaddr_storage from{};
    alignas(cmsghdr) char control[256];
    iovec iov{buf_.data(), buf_.size()};
    msghdr msg{};
    msg.msg_name = &from;
    msg.msg_namelen = sizeof(from);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    ssize_t n = ::recvmsg(s.fd, &msg, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) ++receiveErrors_;
      return;
    }
    if (msg.msg_flags & MSG_TRUNC) {
      ++truncated_;
      continue;
    }
    ReceivedPacket p;
    p.link = l;
    p.bytes = std::span<const uint8_t>(buf_.data(), static_cast<size_t>(n));
    if (native) {
      p.src = fromSockaddr(from);
      p.dst = s.local;
    } else if (s.family == Family::kV4) {
      p.ipv4Header = true;
    } else {
      p.src = fromSockaddr(from);
      for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != IPPROTO_IPV6) continue;
        if (c->cmsg_type == IPV6_HOPLIMIT) {
          int h;
          std::memcpy(&h, CMSG_DATA(c), sizeof(h));
          p.ttl = h;
        } else if (c->cmsg_type == IPV6_PKTINFO) {
          in6_pktinfo pi;
          std::memcpy(&pi, CMSG_DATA(c), sizeof(pi));
          p.dst = IpAddress::fromBytes(Family::kV6, reinterpret_cast<const uint8_t*>(&pi.ipi6_addr));
        }
      }
    }
    onPacket_(p);
  }
}

}  // namespace lvsd::heartbeat
