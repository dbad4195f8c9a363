#pragma once
// Private to heartbeat/: the sockets. One per link, bound to the link's
// interface (SO_BINDTODEVICE) so a packet is only ever seen on the link it
// arrived on:
//  - NATIVE: UDP bound to the director's address and the heartbeat port;
//  - VRRP: a raw IP socket for protocol 112, joined to 224.0.0.18 /
//    ff02::12 unless unicast, TTL / hop limit 255, IPv6 from the
//    interface's link-local address (RFC 5798 §5.1.2.1).
// Reading is batched (up to kBatch packets per wake-up) so a flood of junk
// costs few loop iterations.

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <functional>
#include <memory>
#include <vector>

#include "heartbeat/engine.h"
#include "heartbeat/model.h"

namespace lvsd::heartbeat {

class Transport final : public PacketIo {
 public:
  using OnPacket = std::function<void(const ReceivedPacket&)>;
  static constexpr int kBatch = 256;

  // VRRP over IPv6 sends from the interface's link-local address; this
  // replaces the configured local address of such links with it.
  static Status resolveSources(Model& model);

  static Result<std::unique_ptr<Transport>> open(boost::asio::io_context& io, const Model& model,
                                                 OnPacket onPacket, std::function<void()> afterBatch);
  ~Transport() override;

  Status send(size_t link, const IpAddress& dst, std::span<const uint8_t> bytes) override;
  // Reads whatever is queued on every socket now (before a timer is acted
  // on, so advertisements that arrived in time are never overtaken by it).
  void drainAll();
  // Socket-level receive errors (not drops; those the engine counts).
  uint64_t receiveErrors() const { return receiveErrors_; }
  uint64_t truncated() const { return truncated_; }

 private:
  struct Socket {
    std::unique_ptr<boost::asio::posix::stream_descriptor> sd;
    int fd = -1;
    Family family = Family::kV4;
    unsigned ifindex = 0;
    IpAddress local;
  };
  Transport(const Model& model, OnPacket onPacket, std::function<void()> afterBatch)
      : model_(model), onPacket_(std::move(onPacket)), afterBatch_(std::move(afterBatch)) {}
  Status openLink(boost::asio::io_context& io, size_t link);
  void arm(size_t link);
  void drain(size_t link);

  const Model& model_;
  OnPacket onPacket_;
  std::function<void()> afterBatch_;
  std::vector<Socket> sockets_;
  std::vector<uint8_t> buf_;
  uint64_t receiveErrors_ = 0;
  uint64_t truncated_ = 0;
};

}  // namespace lvsd::heartbeat
