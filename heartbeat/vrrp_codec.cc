#include "heartbeat/vrrp_codec.h"

namespace lvsd::heartbeat {

namespace {

constexpr uint8_t kTypeAdvertisement = 1;  // RFC 5798 §5.2.2
constexpr uint8_t kAuthNone = 0;           // RFC 3768 §5.3.6

size_t addrLen(Family f) { return f == Family::kV4 ? 4 : 16; }

// RFC 5798 §5.2.8: the IPv4 pseudo-header is RFC 768's, the IPv6 one is
// RFC 2460 §8.1's, both with protocol / next header 112.
uint32_t pseudoHeaderSum(Family f, const IpAddress& src, const IpAddress& dst, size_t len) {
  uint32_t sum = 0;
  sum = onesSum(std::span(src.bytes().data(), addrLen(f)), sum);
  sum = onesSum(std::span(dst.bytes().data(), addrLen(f)), sum);
  if (f == Family::kV4) {
    uint8_t tail[4] = {0, kIpProtoVrrp, static_cast<uint8_t>(len >> 8),
                       static_cast<uint8_t>(len)};
    return onesSum(tail, sum);
  }
  uint8_t tail[8] = {static_cast<uint8_t>(len >> 24), static_cast<uint8_t>(len >> 16),
                     static_cast<uint8_t>(len >> 8),  static_cast<uint8_t>(len),
                     0, 0, 0, kIpProtoVrrp};
  return onesSum(tail, sum);
}

uint16_t vrrpChecksum(std::span<const uint8_t> msg, VrrpVersion v, Family f,
                      const IpAddress& src, const IpAddress& dst) {
  uint32_t sum = v == VrrpVersion::kV3 ? pseudoHeaderSum(f, src, dst, msg.size()) : 0;
  return foldChecksum(onesSum(msg, sum));
}

}  // namespace

IpAddress vrrpGroup(Family f) {
  return f == Family::kV4 ? IpAddress::parse("224.0.0.18").value()
                          : IpAddress::parse("ff02::12").value();
}

uint32_t onesSum(std::span<const uint8_t> data, uint32_t sum) {
  size_t i = 0;
  for (; i + 1 < data.size(); i += 2) sum += (uint32_t(data[i]) << 8) | data[i + 1];
  if (i < data.size()) sum += uint32_t(data[i]) << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return sum;
}

uint16_t foldChecksum(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum & 0xffff);
}

Result<std::vector<uint8_t>> encodeVrrp(const VrrpAdvert& a, Family f, const IpAddress& src,
                                        const IpAddress& dst) {
  if (a.version == VrrpVersion::kV2 && f != Family::kV4)
    return Error("VRRPv2 carries IPv4 only (RFC 3768)");
  if (a.addresses.size() > kVrrpMaxAddresses)
    return Error("too many addresses for one VRRP advertisement (" +
                 std::to_string(a.addresses.size()) + " > 255)");
  for (const auto& ip : a.addresses)
    if (ip.family() != f) return Error("address " + ip.toString() + " is not " + familyName(f));
  size_t len = kVrrpHeaderLen + a.addresses.size() * addrLen(f) +
               (a.version == VrrpVersion::kV2 ? kVrrp2AuthLen : 0);
  std::vector<uint8_t> out(len, 0);
  out[0] = static_cast<uint8_t>((static_cast<uint8_t>(a.version) << 4) | kTypeAdvertisement);
  out[1] = a.vrid;
  out[2] = a.priority;
  out[3] = static_cast<uint8_t>(a.addresses.size());
  if (a.version == VrrpVersion::kV3) {
    auto cs = std::chrono::duration_cast<std::chrono::milliseconds>(a.interval).count() / 10;
    if (cs < 1 || cs > 0x0fff) return Error("VRRPv3 interval outside 10..40950 ms");
    out[4] = static_cast<uint8_t>((cs >> 8) & 0x0f);  // 4 reserved bits stay 0
    out[5] = static_cast<uint8_t>(cs);
  } else {
    auto s = std::chrono::duration_cast<std::chrono::seconds>(a.interval).count();
    if (s < 1 || s > 255) return Error("VRRPv2 interval outside 1..255 s");
    out[4] = kAuthNone;
    out[5] = static_cast<uint8_t>(s);
  }
  size_t off = kVrrpHeaderLen;
  for (const auto& ip : a.addresses) {
    std::copy_n(ip.bytes().begin(), addrLen(f), out.begin() + off);
    off += addrLen(f);
  }
  uint16_t c = vrrpChecksum(out, a.version, f, src, dst);
  out[6] = static_cast<uint8_t>(c >> 8);
  out[7] = static_cast<uint8_t>(c);
  return out;
}

Decoded<VrrpAdvert> decodeVrrp(std::span<const uint8_t> b, VrrpVersion expect, Family f,
                               const IpAddress& src, const IpAddress& dst) {
  using D = Decoded<VrrpAdvert>;
  if (b.size() < kVrrpHeaderLen) return D::fail(DropReason::kTruncated);
  if ((b[0] >> 4) != static_cast<uint8_t>(expect)) return D::fail(DropReason::kBadVersion);
  if ((b[0] & 0x0f) != kTypeAdvertisement) return D::fail(DropReason::kBadType);
  if (expect == VrrpVersion::kV2 && f != Family::kV4) return D::fail(DropReason::kBadVersion);
  size_t count = b[3];
  size_t want = kVrrpHeaderLen + count * addrLen(f) +
                (expect == VrrpVersion::kV2 ? kVrrp2AuthLen : 0);
  if (b.size() < want) return D::fail(DropReason::kTruncated);
  if (b.size() > want) return D::fail(DropReason::kOversize);
  if (vrrpChecksum(b, expect, f, src, dst) != 0) return D::fail(DropReason::kBadChecksum);
  D d;
  VrrpAdvert& a = d.value;
  a.version = expect;
  a.vrid = b[1];
  a.priority = b[2];
  if (a.vrid == 0) return D::fail(DropReason::kMalformed);
  if (expect == VrrpVersion::kV3) {
    unsigned cs = ((b[4] & 0x0f) << 8) | b[5];
    if (cs == 0) return D::fail(DropReason::kMalformed);
    a.interval = std::chrono::milliseconds(cs * 10);
  } else {
    if (b[4] != kAuthNone) return D::fail(DropReason::kBadAuth);
    if (b[5] == 0) return D::fail(DropReason::kMalformed);
    a.interval = std::chrono::seconds(b[5]);
  }
  a.addresses.reserve(count);
  for (size_t i = 0; i < count; ++i)
    a.addresses.push_back(IpAddress::fromBytes(f, b.data() + kVrrpHeaderLen + i * addrLen(f)));
  return d;
}

Decoded<Ipv4Header> parseIpv4(std::span<const uint8_t> b) {
  using D = Decoded<Ipv4Header>;
  if (b.size() < 20) return D::fail(DropReason::kTruncated);
  if ((b[0] >> 4) != 4) return D::fail(DropReason::kMalformed);
  size_t ihl = size_t(b[0] & 0x0f) * 4;
  if (ihl < 20) return D::fail(DropReason::kMalformed);
  if (ihl > b.size()) return D::fail(DropReason::kTruncated);
  size_t total = (size_t(b[2]) << 8) | b[3];
  if (total < ihl) return D::fail(DropReason::kMalformed);
  if (total > b.size()) return D::fail(DropReason::kTruncated);
  uint16_t frag = static_cast<uint16_t>((b[6] << 8) | b[7]);
  if (frag & 0x3fff) return D::fail(DropReason::kFragment);  // MF or an offset
  D d;
  d.value.ttl = b[8];
  d.value.protocol = b[9];
  d.value.src = IpAddress::fromBytes(Family::kV4, b.data() + 12);
  d.value.dst = IpAddress::fromBytes(Family::kV4, b.data() + 16);
  d.value.payload = b.subspan(ihl, total - ihl);
  return d;
}

}  // namespace lvsd::heartbeat
