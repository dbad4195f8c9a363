#include "cli/ipvsadm/resolver.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <cstring>

namespace lvsd::ipvsadm {
namespace {

const char* protoName(uint16_t proto) {
  switch (proto) {
    case IPPROTO_TCP:
      return "tcp";
    case IPPROTO_UDP:
      return "udp";
    case IPPROTO_SCTP:
      return "sctp";
    default:
      return nullptr;
  }
}

class SystemResolver final : public NameResolver {
 public:
  std::optional<IpAddress> hostAddress(const std::string& name) const override {
    hostent* h = ::gethostbyname(name.c_str());
    if (!h || h->h_addrtype != AF_INET || h->h_length != 4 || !h->h_addr_list[0]) return std::nullopt;
    return IpAddress::fromBytes(Family::kV4, reinterpret_cast<const uint8_t*>(h->h_addr_list[0]));
  }

  std::optional<std::string> hostName(const IpAddress& a) const override {
    hostent* h = ::gethostbyaddr(a.bytes().data(), static_cast<socklen_t>(a.size()),
                                 a.isV4() ? AF_INET : AF_INET6);
    if (!h || !h->h_name) return std::nullopt;
    return std::string(h->h_name);
  }

  std::optional<uint16_t> servicePort(const std::string& name, uint16_t proto) const override {
    const char* p = protoName(proto);
    if (!p) return std::nullopt;
    servent* s = ::getservbyname(name.c_str(), p);
    if (!s) return std::nullopt;
    return ntohs(static_cast<uint16_t>(s->s_port));
  }

  std::optional<std::string> serviceName(uint16_t port, uint16_t proto) const override {
    const char* p = protoName(proto);
    if (!p) return std::nullopt;
    servent* s = ::getservbyport(htons(port), p);
    if (!s || !s->s_name) return std::nullopt;
    return std::string(s->s_name);
  }
};

}  // namespace

const NameResolver& systemResolver() {
  static SystemResolver r;
  return r;
}

std::optional<IpAddress> inetAton(const std::string& text) {
  in_addr a{};
  if (::inet_aton(text.c_str(), &a) == 0) return std::nullopt;
  return IpAddress::fromBytes(Family::kV4, reinterpret_cast<const uint8_t*>(&a.s_addr));
}

}  // namespace lvsd::ipvsadm
