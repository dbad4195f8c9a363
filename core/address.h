#pragma once
// IPv4/IPv6 address, prefix and endpoint value types. Parsing is strict:
// anything inet_pton would not accept, stray characters, out-of-range ports
// or prefix lengths are errors with a message that quotes the input.

#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/result.h"

struct in_addr;
struct in6_addr;

namespace lvsd {

enum class Family : uint8_t { kV4 = 4, kV6 = 6 };

const char* familyName(Family f);  // "IPv4" / "IPv6"
int toAf(Family f);                // AF_INET / AF_INET6

class IpAddress {
 public:
  IpAddress() = default;  // 0.0.0.0
  static Result<IpAddress> parse(std::string_view text);
  static IpAddress v4(uint32_t hostOrder);
  static IpAddress fromBytes(Family f, const uint8_t* bytes);  // 4 or 16 network-order bytes

  Family family() const { return family_; }
  bool isV4() const { return family_ == Family::kV4; }
  bool isV6() const { return family_ == Family::kV6; }
  bool isUnspecified() const;
  bool isMulticast() const;
  bool isLoopback() const;
  bool isLinkLocal() const;
  // Network-order bytes; 4 meaningful bytes for IPv4, 16 for IPv6.
  const std::array<uint8_t, 16>& bytes() const { return bytes_; }
  size_t size() const { return isV4() ? 4 : 16; }
  uint32_t v4HostOrder() const;  // only for IPv4

  std::string toString() const;
  // IPv6 in brackets, for "addr:port" rendering.
  std::string toUrlHost() const;

  auto operator<=>(const IpAddress&) const = default;
  bool operator==(const IpAddress&) const = default;

 private:
  Family family_ = Family::kV4;
  std::array<uint8_t, 16> bytes_{};
};

class Prefix {
 public:
  Prefix() = default;
  Prefix(IpAddress a, uint8_t len) : addr_(a), len_(len) {}
  // "10.0.0.0/24", "2001:db8::/64"; a bare address means a host prefix.
  static Result<Prefix> parse(std::string_view text);
  const IpAddress& address() const { return addr_; }
  uint8_t length() const { return len_; }
  bool contains(const IpAddress& a) const;
  Prefix masked() const;  // host bits cleared
  std::string toString() const;
  auto operator<=>(const Prefix&) const = default;
  bool operator==(const Prefix&) const = default;

 private:
  IpAddress addr_;
  uint8_t len_ = 32;
};

// Parses a dotted IPv4 netmask ("255.255.255.0") into a prefix length; rejects
// non-contiguous masks.
Result<uint8_t> parseNetmaskV4(std::string_view text);
std::string netmaskV4(uint8_t prefixLen);

class Endpoint {
 public:
  Endpoint() = default;
  Endpoint(IpAddress a, uint16_t p) : addr_(a), port_(p) {}
  // "192.0.2.1:80", "[2001:db8::1]:80"; with allowNoPort, "192.0.2.1" gives port 0.
  static Result<Endpoint> parse(std::string_view text, bool allowNoPort = false);
  const IpAddress& address() const { return addr_; }
  uint16_t port() const { return port_; }
  std::string toString() const;
  auto operator<=>(const Endpoint&) const = default;
  bool operator==(const Endpoint&) const = default;

 private:
  IpAddress addr_;
  uint16_t port_ = 0;
};

// Strict unsigned decimal parse (no sign, no whitespace, no overflow).
Result<uint64_t> parseUnsigned(std::string_view text, uint64_t max);

}  // namespace lvsd

template <>
struct std::hash<lvsd::IpAddress> {
  size_t operator()(const lvsd::IpAddress& a) const noexcept;
};
template <>
struct std::hash<lvsd::Endpoint> {
  size_t operator()(const lvsd::Endpoint& e) const noexcept;
};
