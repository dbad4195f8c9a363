#include "core/framing.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>

namespace lvsd {

std::string encodeFrame(std::string_view payload) {
  std::string out(4, '\0');
  uint32_t n = static_cast<uint32_t>(payload.size());
  out[0] = static_cast<char>(n >> 24);
  out[1] = static_cast<char>(n >> 16);
  out[2] = static_cast<char>(n >> 8);
  out[3] = static_cast<char>(n);
  out.append(payload);
  return out;
}

Result<uint32_t> decodeFrameLength(const uint8_t h[4]) {
  uint32_t n = (uint32_t{h[0]} << 24) | (uint32_t{h[1]} << 16) | (uint32_t{h[2]} << 8) | h[3];
  if (n > kMaxFrame)
    return Error("frame of " + std::to_string(n) + " bytes exceeds limit of " +
                 std::to_string(kMaxFrame));
  return n;
}

Status writeFrame(int fd, std::string_view payload) {
  std::string buf = encodeFrame(payload);
  size_t off = 0;
  while (off < buf.size()) {
    ssize_t w = ::write(fd, buf.data() + off, buf.size() - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      return errnoError("write", errno);
    }
    off += static_cast<size_t>(w);
  }
  return okStatus();
}

namespace {
Status readExact(int fd, char* p, size_t n, int timeoutMs) {
  size_t off = 0;
  while (off < n) {
    if (timeoutMs >= 0) {
      pollfd pfd{fd, POLLIN, 0};
      int r = ::poll(&pfd, 1, timeoutMs);
      if (r == 0) return Error("timed out waiting for lvsd", ETIMEDOUT);
      if (r < 0) {
        if (errno == EINTR) continue;
        return errnoError("poll", errno);
      }
    }
    ssize_t got = ::read(fd, p + off, n - off);
    if (got == 0) return Error("connection closed by lvsd");
    if (got < 0) {
      if (errno == EINTR) continue;
      return errnoError("read", errno);
    }
    off += static_cast<size_t>(got);
  }
  return okStatus();
}
}  // namespace

Result<std::string> readFrame(int fd, int timeoutMs) {
  uint8_t h[4];
  if (auto s = readExact(fd, reinterpret_cast<char*>(h), 4, timeoutMs); !s) return Error(s.error());
  auto len = decodeFrameLength(h);
  if (!len) return Error(len.error());
  std::string payload(*len, '\0');
  if (auto s = readExact(fd, payload.data(), payload.size(), timeoutMs); !s) return Error(s.error());
  return payload;
}

}  // namespace lvsd
