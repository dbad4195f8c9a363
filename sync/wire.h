#pragma once
// Private to sync/: the IPVS connection-sync protocol, version 1, as the
// kernel's backup sync daemon parses it (net/netfilter/ipvs/ip_vs_sync.c).
// Pure: no sockets, no clock. Every multi-byte field is big-endian.
//
// A datagram ("message") is an 8-byte header followed by entries:
//
//   0        1        2        3
//   reserved syncid   size (whole datagram, bytes)
//   nr_conns version  spare (0)
//
// reserved must be 0 (a version-0 receiver reads it as nr_conns and so drops
// the datagram), version 1. Each entry ("sync_conn") is
//
//   type(1) protocol(1) ver_size(2: version<<12 | size) flags(4) state(2)
//   cport(2) vport(2) dport(2) fwmark(4) timeout(4, seconds)
//   caddr vaddr daddr (4 bytes each for IPv4, 16 for IPv6)
//   options: type(1) len(1) data, ...
//
// size covers the fixed part and the options, not the padding. An entry
// that is followed by another is padded with zeros to a 4-byte boundary;
// the datagram's size counts that padding. type bit 0 set = IPv6.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/address.h"
#include "core/result.h"

namespace lvsd::sync::wire {

inline constexpr uint8_t kVersion = 1;  // SYNC_PROTO_VER
inline constexpr size_t kHeaderLen = 8;
inline constexpr size_t kEntryV4Len = 36;  // struct ip_vs_sync_v4
inline constexpr size_t kEntryV6Len = 72;  // struct ip_vs_sync_v6
inline constexpr uint8_t kTypeInet6 = 0x01;
inline constexpr uint16_t kEntrySizeMask = 0x0fff;
inline constexpr int kEntryVersionShift = 12;
inline constexpr size_t kMaxConnsPerMessage = 255;  // nr_conns is one byte
inline constexpr size_t kMaxMessageLen = 65535;     // size is 16 bits

// Connection flags (IP_VS_CONN_F_*, include/uapi/linux/ip_vs.h).
inline constexpr uint32_t kFwdMask = 0x0007;
inline constexpr uint32_t kFwdMasq = 0x0000;
inline constexpr uint32_t kFwdLocalNode = 0x0001;
inline constexpr uint32_t kFwdTunnel = 0x0002;
inline constexpr uint32_t kFwdRoute = 0x0003;
inline constexpr uint32_t kFwdBypass = 0x0004;
inline constexpr uint32_t kFlagSync = 0x0020;
inline constexpr uint32_t kFlagHashed = 0x0040;  // kernel-internal; never sent
inline constexpr uint32_t kFlagNoOutput = 0x0080;
inline constexpr uint32_t kFlagInactive = 0x0100;
inline constexpr uint32_t kFlagOutSeq = 0x0200;
inline constexpr uint32_t kFlagInSeq = 0x0400;
inline constexpr uint32_t kFlagSeqMask = 0x0600;
inline constexpr uint32_t kFlagNoCport = 0x0800;
inline constexpr uint32_t kFlagTemplate = 0x1000;
inline constexpr uint32_t kFlagOnePacket = 0x2000;
// The bits a backup takes from a new entry (IP_VS_CONN_F_BACKUP_MASK).
inline constexpr uint32_t kBackupMask =
    kFwdMask | kFlagNoOutput | kFlagInactive | kFlagSeqMask | kFlagNoCport | kFlagTemplate;

// Option types. A type with kOptOptional set may be skipped by a receiver
// that does not know it; any other unknown type makes the kernel drop the
// entry.
inline constexpr uint8_t kOptSeqData = 1;
inline constexpr uint8_t kOptPeData = 2;
inline constexpr uint8_t kOptPeName = 3;
inline constexpr uint8_t kOptOptional = 0x40;  // IPVS_OPT_F_PARAM
inline constexpr size_t kSeqDataLen = 24;      // struct ip_vs_sync_conn_options
inline constexpr size_t kPeDataMax = 255;      // IP_VS_PEDATA_MAXLEN
inline constexpr size_t kPeNameMax = 16;       // IP_VS_PENAME_MAXLEN

// IPPROTO_* numbers IPVS synchronises. 0 (IPPROTO_IP) appears only on the
// persistence templates of firewall-mark services.
inline constexpr uint8_t kProtoIp = 0;
inline constexpr uint8_t kProtoTcp = 6;
inline constexpr uint8_t kProtoUdp = 17;
inline constexpr uint8_t kProtoSctp = 132;

// struct ip_vs_seq: TCP sequence adjustment of NAT application helpers.
struct SeqAdjust {
  uint32_t initSeq = 0;
  uint32_t delta = 0;
  uint32_t previousDelta = 0;
  bool operator==(const SeqAdjust&) const = default;
};

// One connection or persistence template.
struct SyncConn {
  uint8_t protocol = kProtoTcp;
  uint32_t flags = 0;   // kFwd* | kFlag*; kFlagHashed is never encoded
  uint16_t state = 0;   // protocol state (templates: 0 NONE, 1 ASSURED)
  IpAddress caddr;      // the three addresses share one family
  IpAddress vaddr;
  IpAddress daddr;
  uint16_t cport = 0;   // host order
  uint16_t vport = 0;
  uint16_t dport = 0;
  uint32_t fwmark = 0;
  uint32_t timeout = 0;  // seconds; 0 makes the receiver use its state default
  // Present when flags has kFlagSeqMask bits (NAT helpers such as FTP).
  std::optional<SeqAdjust> inSeq;
  std::optional<SeqAdjust> outSeq;
  // Persistence-engine data of a template, with the engine's name ("sip").
  std::string peData;
  std::string peName;

  Family family() const { return caddr.family(); }
  bool isTemplate() const { return flags & kFlagTemplate; }
  bool operator==(const SyncConn&) const = default;
};

// Checks what the kernel would refuse or what cannot be encoded: mixed
// address families, PE data without a name (or the reverse), oversize PE
// fields, sequence data present without the flags (or the reverse).
Status validate(const SyncConn& c);

// Bytes of the entry without trailing padding (what ver_size carries).
size_t entrySize(const SyncConn& c);

// The exact datagram length of `conns` packed into one message.
size_t messageSize(std::span<const SyncConn> conns);

// One datagram. Errors: more than 255 entries, more than 65535 bytes, or an
// entry that fails validate().
Result<std::vector<uint8_t>> encodeMessage(uint8_t syncId, std::span<const SyncConn> conns);

struct Message {
  uint8_t syncId = 0;
  std::vector<SyncConn> conns;
  size_t skippedOptional = 0;  // unknown options with kOptOptional set
};

// Parses a datagram with the kernel's checks (size field = datagram length,
// version 1 with zero reserved/spare, entries inside the datagram, entry
// version 0, option lengths in bounds, no option twice) and a few stricter
// ones (known type, consistent family, PE data and name together, no
// unknown mandatory option). Anything the kernel would drop is an error
// naming the offset.
Result<Message> decodeMessage(std::span<const uint8_t> datagram);

}  // namespace lvsd::sync::wire
