#include "vip/packets.h"

#include <algorithm>

namespace lvsd::vip {

std::array<uint8_t, 42> buildGarp(const Mac& mac, const IpAddress& vip) {
  std::array<uint8_t, 42> f{};
  std::fill_n(f.begin(), 6, 0xff);                 // destination: broadcast
  std::copy(mac.begin(), mac.end(), f.begin() + 6);  // source
  f[12] = 0x08;                                    // EtherType ARP
  f[13] = 0x06;
  uint8_t* a = f.data() + 14;
  a[0] = 0x00; a[1] = 0x01;  // hardware type Ethernet
  a[2] = 0x08; a[3] = 0x00;  // protocol type IPv4
  a[4] = 6;                  // hardware address length
  a[5] = 4;                  // protocol address length
  a[6] = 0x00; a[7] = 0x01;  // operation: request
  std::copy(mac.begin(), mac.end(), a + 8);                   // sender hardware address
  std::copy_n(vip.bytes().begin(), 4, a + 14);                // sender protocol address
  std::copy_n(vip.bytes().begin(), 4, a + 24);                // target protocol address
  return f;                                                   // target hardware address: zero
}

std::vector<uint8_t> buildUnsolicitedNa(const Mac& mac, const IpAddress& vip, bool router) {
  std::vector<uint8_t> p(32, 0);
  p[0] = 136;                               // Neighbor Advertisement
  p[4] = static_cast<uint8_t>(0x20 | (router ? 0x80 : 0));  // O, and R when forwarding
  std::copy_n(vip.bytes().begin(), 16, p.begin() + 8);
  p[24] = 2;                                // Target Link-Layer Address option
  p[25] = 1;                                // length in units of 8 bytes
  std::copy(mac.begin(), mac.end(), p.begin() + 26);
  return p;
}

}  // namespace lvsd::vip
