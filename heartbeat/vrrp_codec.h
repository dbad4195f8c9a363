#pragma once
// Private to heartbeat/: VRRPv3 (RFC 5798) and VRRPv2 (RFC 3768)
// advertisement codec and the IPv4 header parser the raw socket needs.
// Pure functions over byte spans; every malformed input is a DropReason.

#include <cstdint>
#include <span>
#include <vector>

#include "core/address.h"
#include "core/clock.h"
#include "core/result.h"
#include "heartbeat/types.h"

namespace lvsd::heartbeat {

inline constexpr uint8_t kIpProtoVrrp = 112;  // RFC 5798 §5.1.1.4
inline constexpr uint8_t kVrrpTtl = 255;      // RFC 5798 §5.1.1.3 / §5.1.2.3
inline constexpr size_t kVrrpHeaderLen = 8;
inline constexpr size_t kVrrp2AuthLen = 8;    // RFC 3768 §5.3.10
inline constexpr size_t kVrrpMaxAddresses = 255;

enum class VrrpVersion : uint8_t { kV2 = 2, kV3 = 3 };

struct VrrpAdvert {
  VrrpVersion version = VrrpVersion::kV3;
  uint8_t vrid = 0;
  uint8_t priority = 0;
  // v3: Max Adver Int (12 bits of centiseconds); v2: Adver Int (8 bits of seconds).
  Duration interval{0};
  std::vector<IpAddress> addresses;  // the virtual router's IPvX addresses
};

// The group address of a family: 224.0.0.18 or ff02::12 (RFC 5798 §5.1.1.2).
IpAddress vrrpGroup(Family f);

// One's-complement sum over `data` (RFC 1071), folded, not inverted.
uint32_t onesSum(std::span<const uint8_t> data, uint32_t sum = 0);
uint16_t foldChecksum(uint32_t sum);  // fold and invert

// The VRRP message without IP header. VRRPv3 checksums cover the IPv4 or
// IPv6 pseudo-header (RFC 5798 §5.2.8), so src/dst must be the addresses the
// packet travels with. VRRPv2 is IPv4 only and its checksum covers the VRRP
// message alone (RFC 3768 §5.3.8); authentication type 0 and zero auth data.
Result<std::vector<uint8_t>> encodeVrrp(const VrrpAdvert& a, Family f, const IpAddress& src,
                                        const IpAddress& dst);
// Validates version, type, length, address count, checksum (and for v2 the
// authentication type) in the order RFC 5798 §7.1 lists them.
Decoded<VrrpAdvert> decodeVrrp(std::span<const uint8_t> bytes, VrrpVersion expect, Family f,
                               const IpAddress& src, const IpAddress& dst);

struct Ipv4Header {
  IpAddress src;
  IpAddress dst;
  uint8_t ttl = 0;
  uint8_t protocol = 0;
  std::span<const uint8_t> payload;  // bounded by Total Length
};
// What an AF_INET raw socket returns: header (with options) then payload.
Decoded<Ipv4Header> parseIpv4(std::span<const uint8_t> bytes);

}  // namespace lvsd::heartbeat
