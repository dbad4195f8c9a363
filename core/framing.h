#pragma once
// Length-prefixed frames for stream sockets (the control socket): a 4-byte
// big-endian length followed by that many bytes. Bounded: a peer cannot make
// us allocate more than kMaxFrame.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace lvsd {

inline constexpr uint32_t kMaxFrame = 16u << 20;

std::string encodeFrame(std::string_view payload);
// Parses the 4-byte header; an error when the announced length exceeds kMaxFrame.
Result<uint32_t> decodeFrameLength(const uint8_t header[4]);

// Blocking helpers for simple clients (lvsctl): write one frame / read one
// frame from a connected fd, with a timeout in milliseconds (-1 = none).
Status writeFrame(int fd, std::string_view payload);
Result<std::string> readFrame(int fd, int timeoutMs);

}  // namespace lvsd
