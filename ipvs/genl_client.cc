#include "ipvs/genl_client.h"

#include <linux/netlink.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>

namespace lvsd::ipvs {
namespace {

constexpr size_t kReceiveBufferSize = 128 * 1024;  // > any dump skb (32 KiB)

Error kernelError(int err) { return Error(std::strerror(err), err); }

class SocketTransport final : public NetlinkTransport {
 public:
  explicit SocketTransport(int fd) : fd_(fd) {}
  ~SocketTransport() override { ::close(fd_); }

  Status send(std::span<const uint8_t> data) override {
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    for (;;) {
      ssize_t n = ::sendto(fd_, data.data(), data.size(), 0, reinterpret_cast<sockaddr*>(&kernel),
                           sizeof kernel);
      if (n >= 0) {
        if (static_cast<size_t>(n) != data.size()) return Error("netlink: short send", EIO);
        return okStatus();
      }
      if (errno == EINTR) continue;
      return errnoError("netlink sendto", errno);
    }
  }

  Result<size_t> receive(std::span<uint8_t> buf) override {
    for (;;) {
      sockaddr_nl from{};
      iovec iov{buf.data(), buf.size()};
      msghdr msg{};
      msg.msg_name = &from;
      msg.msg_namelen = sizeof from;
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      ssize_t n = ::recvmsg(fd_, &msg, 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          return Error("netlink: no answer from the kernel", ETIMEDOUT);
        }
        return errnoError("netlink recvmsg", errno);
      }
      if (from.nl_pid != 0) continue;  // only the kernel talks to us
      if (msg.msg_flags & MSG_TRUNC) return Error("netlink: truncated datagram", EMSGSIZE);
      return static_cast<size_t>(n);
    }
  }

 private:
  int fd_;
};

}  // namespace

Result<std::unique_ptr<NetlinkTransport>> openNetlinkSocket(int receiveBuffer) {
  int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
  if (fd < 0) return errnoError("netlink socket", errno);
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) < 0) {
    int err = errno;
    ::close(fd);
    return errnoError("netlink bind", err);
  }
  int one = 1;
  // Error acks without a copy of the request: smaller, so more fit.
  (void)::setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &receiveBuffer, sizeof receiveBuffer) < 0) {
    (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receiveBuffer, sizeof receiveBuffer);
  }
  timeval tv{10, 0};
  (void)::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return std::unique_ptr<NetlinkTransport>(new SocketTransport(fd));
}

GenlClient::GenlClient(std::unique_ptr<NetlinkTransport> transport, NetlinkOptions opts,
                       uint32_t firstSeq)
    : transport_(std::move(transport)), opts_(opts), seq_(firstSeq), rx_(kReceiveBufferSize) {
  if (opts_.batchMessages == 0) opts_.batchMessages = 1;
}

Result<uint16_t> GenlClient::resolveFamily(const std::string& name) {
  uint32_t seq = nextSeq();
  auto replies = transact(nl::encodeGetFamily(seq, name), seq);
  if (!replies) return std::move(replies).takeError();
  if (replies->empty()) return Error("nlctrl: no reply for family " + name, EPROTO);
  auto id = nl::decodeFamilyId(replies->front());
  if (!id) return std::move(id).takeError();
  family_ = *id;
  return *id;
}

Result<std::vector<nl::Bytes>> GenlClient::collect(uint32_t seq, Until until) {
  std::vector<nl::Bytes> out;
  for (;;) {
    auto n = transport_->receive(rx_);
    if (!n) {
      if (n.error().code == ENOBUFS) (void)resync();
      return std::move(n).takeError();
    }
    auto msgs = nl::splitMessages(std::span<const uint8_t>(rx_.data(), *n));
    if (!msgs) return std::move(msgs).takeError();
    for (const auto& m : *msgs) {
      if (m.seq != seq) continue;  // a late answer to an abandoned request
      if (m.type == nl::kNlmsgError) {
        auto code = nl::parseErrorCode(m);
        if (!code) return std::move(code).takeError();
        if (*code != 0) return kernelError(-*code);
        if (until == Until::kAck) return out;
        continue;
      }
      if (m.type == nl::kNlmsgDone) {
        if (m.payload.size() >= 4) {
          int32_t err;
          std::memcpy(&err, m.payload.data(), 4);
          if (err < 0) return kernelError(-err);
        }
        return out;
      }
      auto g = nl::genlPayload(m);
      if (!g) return std::move(g).takeError();
      out.emplace_back(g->attrs.begin(), g->attrs.end());
    }
  }
}

Result<std::vector<nl::Bytes>> GenlClient::transact(const nl::Bytes& request, uint32_t seq) {
  if (auto s = transport_->send(request); !s) return std::move(s).takeError();
  return collect(seq, Until::kAck);
}

Result<std::vector<nl::Bytes>> GenlClient::dump(const nl::Bytes& request, uint32_t seq) {
  if (auto s = transport_->send(request); !s) return std::move(s).takeError();
  return collect(seq, Until::kDone);
}

Status GenlClient::resync() {
  uint32_t seq = nextSeq();
  nl::Bytes req;
  nl::encodeGetInfo(req, family_, seq);
  if (auto s = transport_->send(req); !s) return s;
  for (;;) {
    auto n = transport_->receive(rx_);
    if (!n) {
      if (n.error().code == ENOBUFS) continue;
      return std::move(n).takeError();
    }
    auto msgs = nl::splitMessages(std::span<const uint8_t>(rx_.data(), *n));
    if (!msgs) continue;
    for (const auto& m : *msgs) {
      if (m.seq == seq && m.type == nl::kNlmsgError) return okStatus();
    }
  }
}

BatchResult GenlClient::batch(std::span<const Op> ops) {
  BatchResult result;
  std::vector<bool> failed(ops.size(), false);
  auto record = [&](size_t k, const std::string& why, int code) {
    failed[k] = true;
    result.errors.push_back({k, Error(ops[k].objectName() + ": " + why, code)});
  };
  auto finish = [&] {
    std::stable_sort(result.errors.begin(), result.errors.end(),
                     [](const OpError& a, const OpError& b) { return a.index < b.index; });
    return result;
  };

  nl::Bytes buf;
  size_t i = 0;
  while (i < ops.size()) {
    buf.clear();
    const uint32_t base = seq_;
    size_t j = i;
    size_t lastOffset = 0;
    while (j < ops.size() && j - i < opts_.batchMessages && buf.size() < opts_.batchBytes) {
      lastOffset = buf.size();
      nl::encodeServiceOp(buf, family_, base + static_cast<uint32_t>(j - i), nl::kFlagRequest,
                          ops[j]);
      ++j;
    }
    seq_ = base + static_cast<uint32_t>(j - i);
    // Only the chunk's last request asks for an ack: the kernel answers
    // failures anyway and handles the requests in order, so that ack means
    // every earlier answer is already queued.
    uint16_t ackFlags = nl::kFlagRequest | nl::kFlagAck;
    std::memcpy(buf.data() + lastOffset + 6, &ackFlags, 2);
    const uint32_t lastSeq = seq_ - 1;

    if (auto s = transport_->send(buf); !s) {
      for (size_t k = i; k < ops.size(); ++k) record(k, s.error().what(), s.error().code);
      return finish();
    }
    result.sent += j - i;

    bool done = false;
    while (!done) {
      auto n = transport_->receive(rx_);
      if (!n) {
        // Answers may have been dropped: the outcome of the chunk's ops that
        // did not fail visibly is unknown, and nothing after them is sent.
        const Error& e = n.error();
        std::string why = e.code == ENOBUFS
                              ? std::string("outcome unknown (netlink receive buffer overrun)")
                              : "outcome unknown (" + e.what() + ")";
        for (size_t k = i; k < j; ++k) {
          if (!failed[k]) record(k, why, e.code);
        }
        if (e.code == ENOBUFS) (void)resync();
        for (size_t k = j; k < ops.size(); ++k) {
          record(k, "not sent after an earlier netlink failure", e.code);
        }
        return finish();
      }
      auto msgs = nl::splitMessages(std::span<const uint8_t>(rx_.data(), *n));
      if (!msgs) continue;
      for (const auto& m : *msgs) {
        if (m.type != nl::kNlmsgError) continue;
        uint32_t rel = m.seq - base;
        if (rel >= j - i) continue;  // a stale answer to an earlier request
        auto code = nl::parseErrorCode(m);
        if (!code) continue;
        if (*code != 0) record(i + rel, std::strerror(-*code), -*code);
        if (m.seq == lastSeq) done = true;
      }
    }
    i = j;
  }
  return finish();
}

}  // namespace lvsd::ipvs
