#pragma once
// Private to vip/: announcement packets, built as pure functions.

#include <array>
#include <cstdint>
#include <vector>

#include "core/address.h"

namespace lvsd::vip {

using Mac = std::array<uint8_t, 6>;

// A whole Ethernet frame: a gratuitous ARP request (RFC 5227 §2.3 ARP
// Announcement: sender and target protocol address both the VIP, target
// hardware address zero), to the broadcast address.
std::array<uint8_t, 42> buildGarp(const Mac& mac, const IpAddress& vip);

// ICMPv6 body of an unsolicited Neighbor Advertisement (RFC 4861 §7.2.6):
// Override set, Solicited clear, Router as given, the VIP as target and our
// link-layer address as option. The checksum is left 0: the kernel fills it
// for raw ICMPv6 sockets.
std::vector<uint8_t> buildUnsolicitedNa(const Mac& mac, const IpAddress& vip, bool router);

}  // namespace lvsd::vip
