// Gratuitous ARP over AF_PACKET and unsolicited NA over a raw ICMPv6 socket.
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/icmp6.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "vip/packets.h"
#include "vip/vip.h"

namespace lvsd::vip {

namespace {

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

class PacketAnnouncer final : public Announcer {
 public:
  PacketAnnouncer(Fd arp, Fd icmp6) : arp_(std::move(arp)), icmp6_(std::move(icmp6)) {}

  Status announce(const VipSpec& v) override {
    unsigned ifindex = if_nametoindex(v.interface.c_str());
    if (ifindex == 0) return errnoError("interface " + v.interface, errno);
    auto mac = hwaddr(v.interface);
    if (!mac) return std::move(mac).takeError();
    return v.prefix.address().isV4() ? garp(ifindex, *mac, v) : na(ifindex, *mac, v);
  }

 private:
  Result<Mac> hwaddr(const std::string& ifname) {
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
    if (::ioctl(arp_.get(), SIOCGIFHWADDR, &ifr) < 0)
      return errnoError("hardware address of " + ifname, errno);
    Mac m;
    std::memcpy(m.data(), ifr.ifr_hwaddr.sa_data, m.size());
    return m;
  }

  Status garp(unsigned ifindex, const Mac& mac, const VipSpec& v) {
    auto frame = buildGarp(mac, v.prefix.address());
    sockaddr_ll to{};
    to.sll_family = AF_PACKET;
    to.sll_protocol = htons(ETH_P_ARP);
    to.sll_ifindex = static_cast<int>(ifindex);
    to.sll_halen = 6;
    std::memset(to.sll_addr, 0xff, 6);
    if (::sendto(arp_.get(), frame.data(), frame.size(), 0, reinterpret_cast<sockaddr*>(&to),
                 sizeof(to)) < 0)
      return errnoError("gratuitous ARP for " + v.toString(), errno);
    return okStatus();
  }

  // RFC 4861 §7.2.6: to all-nodes, hop limit 255, from the VIP itself.
  Status na(unsigned ifindex, const Mac& mac, const VipSpec& v) {
    auto body = buildUnsolicitedNa(mac, v.prefix.address(), forwarding(v.interface));
    sockaddr_in6 to{};
    to.sin6_family = AF_INET6;
    inet_pton(AF_INET6, "ff02::1", &to.sin6_addr);
    to.sin6_scope_id = ifindex;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(in6_pktinfo))] = {};
    iovec iov{body.data(), body.size()};
    msghdr msg{};
    msg.msg_name = &to;
    msg.msg_namelen = sizeof(to);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = IPPROTO_IPV6;
    c->cmsg_type = IPV6_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof(in6_pktinfo));
    in6_pktinfo info{};
    std::memcpy(&info.ipi6_addr, v.prefix.address().bytes().data(), 16);
    info.ipi6_ifindex = ifindex;
    std::memcpy(CMSG_DATA(c), &info, sizeof(info));
    if (::sendmsg(icmp6_.get(), &msg, 0) < 0)
      return errnoError("unsolicited neighbour advertisement for " + v.toString(), errno);
    return okStatus();
  }

  // The Router flag tells hosts we forward (a NAT director does).
  static bool forwarding(const std::string& ifname) {
    std::ifstream in("/proc/sys/net/ipv6/conf/" + ifname + "/forwarding");
    int v = 0;
    return in >> v && v != 0;
  }

  Fd arp_;
  Fd icmp6_;
};

}  // namespace

Result<std::unique_ptr<Announcer>> makePacketAnnouncer() {
  // Protocol 0: send-only, the socket is bound to no EtherType and so
  // queues none of the host's ARP traffic.
  Fd arp(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
  if (arp.get() < 0) return errnoError("AF_PACKET socket", errno);
  // Send-only as well: block every ICMPv6 type on receive.
  Fd icmp6(::socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMPV6));
  if (icmp6.get() < 0) return errnoError("ICMPv6 raw socket", errno);
  int hops = 255;
  if (::setsockopt(icmp6.get(), IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof(hops)) < 0)
    return errnoError("IPV6_MULTICAST_HOPS", errno);
  icmp6_filter filter;
  ICMP6_FILTER_SETBLOCKALL(&filter);
  if (::setsockopt(icmp6.get(), IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof(filter)) < 0)
    return errnoError("ICMP6_FILTER", errno);
  return std::unique_ptr<Announcer>(new PacketAnnouncer(std::move(arp), std::move(icmp6)));
}

}  // namespace lvsd::vip
