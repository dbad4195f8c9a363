#pragma once
// Private to cli/ipvsadm: host and service name lookups, as ipvsadm does
// them (gethostbyname/gethostbyaddr, getservbyname/getservbyport), behind an
// interface so tests are independent of /etc/hosts and /etc/services.

#include <cstdint>
#include <optional>
#include <string>

#include "core/address.h"

namespace lvsd::ipvsadm {

class NameResolver {
 public:
  virtual ~NameResolver() = default;
  // IPv4 address of a host name (ipvsadm only resolves names to IPv4).
  virtual std::optional<IpAddress> hostAddress(const std::string& name) const = 0;
  virtual std::optional<std::string> hostName(const IpAddress& a) const = 0;
  // Port (host order) of a service name for an IPPROTO_* protocol.
  virtual std::optional<uint16_t> servicePort(const std::string& name, uint16_t proto) const = 0;
  virtual std::optional<std::string> serviceName(uint16_t port, uint16_t proto) const = 0;
};

// libc lookups (NSS: /etc/hosts, DNS, /etc/services).
const NameResolver& systemResolver();

// ipvsadm's inet_aton: accepts "10.1", "0x0a.1", "010.0.0.1", ... (IPv4 only).
std::optional<IpAddress> inetAton(const std::string& text);

}  // namespace lvsd::ipvsadm
