#pragma once
// Private to ipvs/: the thin I/O shell over a generic-netlink socket.
//
// Why a raw AF_NETLINK socket rather than libnl-genl-3: the messages are
// encoded by netlink_codec (byte-exact, unit-tested), and pipelining needs
// control libnl's request/ack model does not give — many requests in one
// sendmsg, an ack requested only on the last one, errors matched to requests
// by sequence number, and a resynchronisation after a receive-buffer overrun.
// With libnl we would be wrapping our own bytes in nl_msg only to unwrap them.
// The transport is an interface so the batching logic is unit-tested
// against a scripted fake.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/result.h"
#include "ipvs/ipvs.h"
#include "ipvs/netlink_codec.h"

namespace lvsd::ipvs {

class NetlinkTransport {
 public:
  virtual ~NetlinkTransport() = default;
  // Sends one buffer (one or more netlink messages) to the kernel.
  virtual Status send(std::span<const uint8_t> data) = 0;
  // Receives one datagram from the kernel into `buf`; returns its length.
  // Error code ENOBUFS means the kernel dropped messages (buffer overrun).
  virtual Result<size_t> receive(std::span<uint8_t> buf) = 0;
};

// AF_NETLINK/NETLINK_GENERIC socket with NETLINK_CAP_ACK, a large receive
// buffer and a receive timeout (a kernel that never answers is an error,
// not a hang).
Result<std::unique_ptr<NetlinkTransport>> openNetlinkSocket(int receiveBuffer);

class GenlClient {
 public:
  GenlClient(std::unique_ptr<NetlinkTransport> transport, NetlinkOptions opts,
             uint32_t firstSeq = 1);

  // Looks up a generic-netlink family id through nlctrl.
  Result<uint16_t> resolveFamily(const std::string& name);
  void setFamily(uint16_t id) { family_ = id; }
  uint16_t family() const { return family_; }
  uint32_t nextSeq() { return seq_++; }

  // A request that asks for an ack: returns the genetlink attributes of every
  // reply message before the ack. A kernel error becomes Error(strerror, errno).
  Result<std::vector<nl::Bytes>> transact(const nl::Bytes& request, uint32_t seq);
  // A dump request: the attributes of every message up to NLMSG_DONE.
  Result<std::vector<nl::Bytes>> dump(const nl::Bytes& request, uint32_t seq);
  // Pipelined batch (see NetlinkOptions).
  BatchResult batch(std::span<const Op> ops);

 private:
  enum class Until { kAck, kDone };
  Result<std::vector<nl::Bytes>> collect(uint32_t seq, Until until);
  // After an overrun: sends a request with a fresh seq and drops everything
  // until its answer, so later replies are matched correctly again.
  Status resync();

  std::unique_ptr<NetlinkTransport> transport_;
  NetlinkOptions opts_;
  uint16_t family_ = 0;
  uint32_t seq_;
  std::vector<uint8_t> rx_;
};

}  // namespace lvsd::ipvs
