#pragma once
// A PacketIo that records what would have been sent; tests deliver the
// packets themselves (with loss, delay or tampering as they like).
#include <cstdint>
#include <span>
#include <vector>

#include "heartbeat/engine.h"

namespace lvsd::testing {

class FakePacketIo final : public heartbeat::PacketIo {
 public:
  struct Sent {
    size_t link;
    IpAddress dst;
    std::vector<uint8_t> bytes;
  };
  Status send(size_t link, const IpAddress& dst, std::span<const uint8_t> bytes) override {
    if (fail) return Error("send failed (fake)", 105);
    sent.push_back({link, dst, std::vector<uint8_t>(bytes.begin(), bytes.end())});
    return okStatus();
  }
  std::vector<Sent> take() { return std::exchange(sent, {}); }

  std::vector<Sent> sent;
  bool fail = false;
};

}  // namespace lvsd::testing
