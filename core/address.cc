#include "core/address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>

namespace lvsd {

const char* familyName(Family f) { return f == Family::kV4 ? "IPv4" : "IPv6"; }
int toAf(Family f) { return f == Family::kV4 ? AF_INET : AF_INET6; }

Result<IpAddress> IpAddress::parse(std::string_view text) {
  // inet_pton needs a NUL-terminated string and is already strict (no
  // leading zeros in IPv4, exactly four parts, no trailing junk).
  if (text.empty()) return Error("empty address");
  if (text.size() > INET6_ADDRSTRLEN) return Error("invalid IP address '" + std::string(text) + "'");
  std::string s(text);
  IpAddress a;
  if (s.find(':') == std::string::npos) {
    if (inet_pton(AF_INET, s.c_str(), a.bytes_.data()) == 1) {
      a.family_ = Family::kV4;
      return a;
    }
  } else if (inet_pton(AF_INET6, s.c_str(), a.bytes_.data()) == 1) {
    a.family_ = Family::kV6;
    return a;
  }
  return Error("invalid IP address '" + s + "'");
}

IpAddress IpAddress::v4(uint32_t hostOrder) {
  IpAddress a;
  a.family_ = Family::kV4;
  uint32_t n = htonl(hostOrder);
  std::memcpy(a.bytes_.data(), &n, 4);
  return a;
}

IpAddress IpAddress::fromBytes(Family f, const uint8_t* bytes) {
  IpAddress a;
  a.family_ = f;
  std::memcpy(a.bytes_.data(), bytes, f == Family::kV4 ? 4 : 16);
  return a;
}

uint32_t IpAddress::v4HostOrder() const {
  uint32_t n;
  std::memcpy(&n, bytes_.data(), 4);
  return ntohl(n);
}

bool IpAddress::isUnspecified() const {
  for (size_t i = 0; i < size(); ++i)
    if (bytes_[i] != 0) return false;
  return true;
}

bool IpAddress::isMulticast() const {
  return isV4() ? (bytes_[0] & 0xf0) == 0xe0 : bytes_[0] == 0xff;
}

bool IpAddress::isLoopback() const {
  if (isV4()) return bytes_[0] == 127;
  for (size_t i = 0; i < 15; ++i)
    if (bytes_[i] != 0) return false;
  return bytes_[15] == 1;
}

bool IpAddress::isLinkLocal() const {
  if (isV4()) return bytes_[0] == 169 && bytes_[1] == 254;
  return bytes_[0] == 0xfe && (bytes_[1] & 0xc0) == 0x80;
}

std::string IpAddress::toString() const {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(toAf(family_), bytes_.data(), buf, sizeof buf);
  return buf;
}

std::string IpAddress::toUrlHost() const { return isV6() ? "[" + toString() + "]" : toString(); }

Result<uint64_t> parseUnsigned(std::string_view text, uint64_t max) {
  if (text.empty()) return Error("empty number");
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v, 10);
  if (ec == std::errc::result_out_of_range || (ec == std::errc() && v > max))
    return Error("number '" + std::string(text) + "' out of range 0.." + std::to_string(max));
  if (ec != std::errc() || p != text.data() + text.size())
    return Error("invalid number '" + std::string(text) + "'");
  return v;
}

Result<Prefix> Prefix::parse(std::string_view text) {
  auto slash = text.find('/');
  auto addr = IpAddress::parse(text.substr(0, slash));
  if (!addr) return Error(addr.error().message);
  uint64_t maxLen = addr->isV4() ? 32 : 128;
  if (slash == std::string_view::npos) return Prefix(*addr, static_cast<uint8_t>(maxLen));
  auto len = parseUnsigned(text.substr(slash + 1), maxLen);
  if (!len)
    return Error("invalid prefix length in '" + std::string(text) + "' (0.." +
                 std::to_string(maxLen) + ")");
  return Prefix(*addr, static_cast<uint8_t>(*len));
}

bool Prefix::contains(const IpAddress& a) const {
  if (a.family() != addr_.family()) return false;
  return Prefix(a, len_).masked().addr_ == masked().addr_;
}

Prefix Prefix::masked() const {
  std::array<uint8_t, 16> b = addr_.bytes();
  size_t n = addr_.size();
  for (size_t i = 0; i < n; ++i) {
    int bitsHere = static_cast<int>(len_) - static_cast<int>(i * 8);
    uint8_t mask = bitsHere >= 8 ? 0xff : bitsHere <= 0 ? 0 : static_cast<uint8_t>(0xff << (8 - bitsHere));
    b[i] &= mask;
  }
  return Prefix(IpAddress::fromBytes(addr_.family(), b.data()), len_);
}

std::string Prefix::toString() const { return addr_.toString() + "/" + std::to_string(len_); }

Result<uint8_t> parseNetmaskV4(std::string_view text) {
  auto a = IpAddress::parse(text);
  if (!a || !a->isV4()) return Error("invalid netmask '" + std::string(text) + "'");
  uint32_t m = a->v4HostOrder();
  uint32_t inv = ~m;
  if ((inv & (inv + 1)) != 0) return Error("netmask '" + std::string(text) + "' is not contiguous");
  return static_cast<uint8_t>(__builtin_popcount(m));
}

std::string netmaskV4(uint8_t len) {
  uint32_t m = len == 0 ? 0 : ~uint32_t{0} << (32 - len);
  return IpAddress::v4(m).toString();
}

Result<Endpoint> Endpoint::parse(std::string_view text, bool allowNoPort) {
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) return Error("missing ']' in '" + std::string(text) + "'");
    host = text.substr(1, close - 1);
    auto rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return Error("junk after ']' in '" + std::string(text) + "'");
      port = rest.substr(1);
      if (port.empty()) return Error("missing port in '" + std::string(text) + "'");
    }
  } else {
    auto colon = text.rfind(':');
    if (colon != std::string_view::npos && text.find(':') == colon) {
      host = text.substr(0, colon);
      port = text.substr(colon + 1);
      if (port.empty()) return Error("missing port in '" + std::string(text) + "'");
    } else {
      host = text;  // IPv4 without port, or bare IPv6
    }
  }
  auto a = IpAddress::parse(host);
  if (!a) return Error(a.error().message);
  if (port.empty()) {
    if (!allowNoPort) return Error("missing port in '" + std::string(text) + "'");
    return Endpoint(*a, 0);
  }
  auto p = parseUnsigned(port, 65535);
  if (!p) return Error("invalid port '" + std::string(port) + "' (0..65535)");
  return Endpoint(*a, static_cast<uint16_t>(*p));
}

std::string Endpoint::toString() const {
  return addr_.toUrlHost() + ":" + std::to_string(port_);
}

}  // namespace lvsd

size_t std::hash<lvsd::IpAddress>::operator()(const lvsd::IpAddress& a) const noexcept {
  size_t h = static_cast<size_t>(a.family());
  for (auto b : a.bytes()) h = h * 131 + b;
  return h;
}

size_t std::hash<lvsd::Endpoint>::operator()(const lvsd::Endpoint& e) const noexcept {
  return std::hash<lvsd::IpAddress>()(e.address()) * 65537 + e.port();
}
