#pragma once
// Private to ipvs/: byte-level encoding and decoding of generic-netlink
// messages for the "IPVS" family (include/uapi/linux/ip_vs.h) and the
// nlctrl family lookup. Pure: no sockets. Every encoder appends one complete
// netlink message to a buffer, so a batch is just several calls on one
// buffer. Integers are in host order except where the uAPI says __be16/__be32.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/result.h"
#include "ipvs/ipvs.h"

namespace lvsd::ipvs::nl {

using Bytes = std::vector<uint8_t>;

// <linux/netlink.h> and <linux/genetlink.h> constants we rely on.
inline constexpr uint16_t kNlmsgError = 2;
inline constexpr uint16_t kNlmsgDone = 3;
inline constexpr uint16_t kFlagRequest = 0x01;
inline constexpr uint16_t kFlagMulti = 0x02;
inline constexpr uint16_t kFlagAck = 0x04;
inline constexpr uint16_t kFlagDump = 0x300;
inline constexpr uint16_t kAttrNested = 0x8000;
inline constexpr uint16_t kAttrTypeMask = 0x3fff;
inline constexpr uint16_t kGenlIdCtrl = 0x10;
inline constexpr size_t kNlmsgHdrLen = 16;
inline constexpr size_t kGenlHdrLen = 4;
inline constexpr uint8_t kIpvsGenlVersion = 1;

// IPVS_CMD_* (ip_vs.h).
enum Cmd : uint8_t {
  kCmdNewService = 1,
  kCmdSetService = 2,
  kCmdDelService = 3,
  kCmdGetService = 4,
  kCmdNewDest = 5,
  kCmdSetDest = 6,
  kCmdDelDest = 7,
  kCmdGetDest = 8,
  kCmdNewDaemon = 9,
  kCmdDelDaemon = 10,
  kCmdGetDaemon = 11,
  kCmdSetConfig = 12,
  kCmdGetConfig = 13,
  kCmdSetInfo = 14,
  kCmdGetInfo = 15,
  kCmdZero = 16,
  kCmdFlush = 17,
};

// Appends attributes and nests to one message in a byte buffer.
class MessageBuilder {
 public:
  // Starts a message at the end of `out`: nlmsghdr + genlmsghdr.
  MessageBuilder(Bytes& out, uint16_t type, uint16_t flags, uint32_t seq, uint8_t cmd,
                 uint8_t version);
  void putU8(uint16_t type, uint8_t v);
  void putU16(uint16_t type, uint16_t v);
  void putU32(uint16_t type, uint32_t v);
  void putBe16(uint16_t type, uint16_t hostValue);
  void putBe32(uint16_t type, uint32_t hostValue);
  void putBytes(uint16_t type, const void* data, size_t len);
  void putString(uint16_t type, const std::string& s);  // with its NUL
  // Nests: beginNest returns a token for endNest. Sets NLA_F_NESTED.
  size_t beginNest(uint16_t type);
  void endNest(size_t token);
  // Writes nlmsg_len; the message is complete.
  void finish();

 private:
  void header(uint16_t type, size_t payloadLen);
  void pad();
  Bytes& out_;
  size_t start_;
};

// One netlink message inside a received buffer.
struct Message {
  uint16_t type = 0;
  uint16_t flags = 0;
  uint32_t seq = 0;
  uint32_t pid = 0;
  std::span<const uint8_t> payload;  // after nlmsghdr
};

// Splits a datagram into messages. Errors on truncated or inconsistent lengths.
Result<std::vector<Message>> splitMessages(std::span<const uint8_t> data);

// NLMSG_ERROR payload: the (negative) errno, 0 for an ack.
Result<int> parseErrorCode(const Message& m);

// Attributes of one level, indexed by type (types above maxType are ignored,
// as the kernel's deprecated parser does). Borrows the parsed bytes.
class Attrs {
 public:
  static Result<Attrs> parse(std::span<const uint8_t> data, uint16_t maxType);
  bool has(uint16_t type) const;
  std::span<const uint8_t> raw(uint16_t type) const;
  std::optional<uint8_t> u8(uint16_t type) const;
  std::optional<uint16_t> u16(uint16_t type) const;
  std::optional<uint32_t> u32(uint16_t type) const;
  std::optional<uint64_t> u64(uint16_t type) const;
  std::optional<uint16_t> be16(uint16_t type) const;
  std::optional<uint32_t> be32(uint16_t type) const;
  std::optional<std::string> str(uint16_t type) const;  // up to the first NUL

 private:
  std::vector<std::span<const uint8_t>> attrs_;
  std::vector<bool> present_;
};

// The genetlink payload of a message (after genlmsghdr), with the command.
struct GenlPayload {
  uint8_t cmd = 0;
  std::span<const uint8_t> attrs;
};
Result<GenlPayload> genlPayload(const Message& m);

// ---- nlctrl

Bytes encodeGetFamily(uint32_t seq, const std::string& name);
// Family id from the attributes of a CTRL_CMD_NEWFAMILY reply.
Result<uint16_t> decodeFamilyId(std::span<const uint8_t> attrs);

// ---- IPVS requests. `family` is the resolved generic-netlink id.

// NEW_SERVICE / SET_SERVICE carry the whole service; DEL_SERVICE and the
// destination commands only the key (all the kernel reads).
void encodeServiceOp(Bytes& out, uint16_t family, uint32_t seq, uint16_t flags, const Op& op);
void encodeGetService(Bytes& out, uint16_t family, uint32_t seq, const ServiceKey& key);
void encodeDumpServices(Bytes& out, uint16_t family, uint32_t seq);
void encodeDumpDestinations(Bytes& out, uint16_t family, uint32_t seq, const ServiceKey& key);
void encodeGetInfo(Bytes& out, uint16_t family, uint32_t seq);
void encodeGetConfig(Bytes& out, uint16_t family, uint32_t seq);
void encodeSetConfig(Bytes& out, uint16_t family, uint32_t seq, const Timeouts& t);
void encodeFlush(Bytes& out, uint16_t family, uint32_t seq);
void encodeZero(Bytes& out, uint16_t family, uint32_t seq, const ServiceKey* key);
void encodeNewDaemon(Bytes& out, uint16_t family, uint32_t seq, const SyncDaemon& d);
void encodeDelDaemon(Bytes& out, uint16_t family, uint32_t seq, SyncState state);
void encodeDumpDaemons(Bytes& out, uint16_t family, uint32_t seq);

// ---- IPVS replies (the genetlink attributes of one message).

Result<ServiceEntry> decodeService(std::span<const uint8_t> attrs);
// `serviceFamily` fills in the destination's family on kernels that do not
// send IPVS_DEST_ATTR_ADDR_FAMILY.
Result<DestinationEntry> decodeDestination(std::span<const uint8_t> attrs, Family serviceFamily);
Result<Info> decodeInfo(std::span<const uint8_t> attrs);
Result<Timeouts> decodeTimeouts(std::span<const uint8_t> attrs);
Result<SyncDaemon> decodeDaemon(std::span<const uint8_t> attrs);

}  // namespace lvsd::ipvs::nl
