#include "daemon/control_server.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <deque>

#include "core/framing.h"
#include "core/log.h"
#include "daemon/event_log.h"

namespace lvsd::daemon {

namespace asio = boost::asio;
using asio::local::stream_protocol;

class ControlServer::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(ControlServer& server, stream_protocol::socket sock)
      : server_(server), sock_(std::move(sock)) {}
  ~Session() {
    if (subId_) server_.events_.unsubscribe(subId_);
  }

  void start() { readHeader(); }
  void close() {
    boost::system::error_code ignored;
    sock_.close(ignored);
  }

 private:
  void readHeader() {
    auto self = shared_from_this();
    asio::async_read(sock_, asio::buffer(header_), [this, self](auto ec, size_t) {
      if (ec) return;
      auto len = decodeFrameLength(header_.data());
      if (!len) {
        ++server_.badFrames_;
        logger("control")->warn("dropping client: {}", len.error().message);
        return;
      }
      body_.resize(*len);
      asio::async_read(sock_, asio::buffer(body_), [this, self](auto ec2, size_t) {
        if (ec2) return;
        onRequest();
      });
    });
  }

  void onRequest() {
    control::Request req;
    if (!req.ParseFromString(body_)) {
      ++server_.badFrames_;
      control::Response r;
      r.set_ok(false);
      r.add_error("malformed request");
      send(r);
      return;  // close after the answer
    }
    if (req.cmd_case() == control::Request::kEvents) {
      // Streams until the client goes away; then the session ends.
      auto weak = weak_from_this();
      subId_ = server_.events_.subscribe(req.events().since_seq(), [weak](const control::Event& e) {
        if (auto s = weak.lock()) {
          control::Response r;
          r.set_ok(true);
          *r.mutable_event() = e;
          s->send(r);
        }
      });
      watchClose();
      return;
    }
    send(server_.dispatch(req));
    readHeader();
  }

  void watchClose() {
    auto self = shared_from_this();
    sock_.async_read_some(asio::buffer(sink_), [this, self](auto ec, size_t) {
      if (ec) {
        server_.events_.unsubscribe(subId_);
        subId_ = 0;
        boost::system::error_code ignored;
        sock_.close(ignored);
        return;
      }
      watchClose();
    });
  }

  void send(const control::Response& r) {
    bool idle = out_.empty();
    out_.push_back(encodeFrame(r.SerializeAsString()));
    if (idle) writeNext();
  }

  void writeNext() {
    auto self = shared_from_this();
    asio::async_write(sock_, asio::buffer(out_.front()), [this, self](auto ec, size_t) {
      if (ec) {
        out_.clear();
        return;
      }
      out_.pop_front();
      if (!out_.empty()) writeNext();
    });
  }

  ControlServer& server_;
  stream_protocol::socket sock_;
  std::array<uint8_t, 4> header_{};
  std::string body_;
  std::array<char, 64> sink_{};
  std::deque<std::string> out_;
  uint64_t subId_ = 0;
};

ControlServer::ControlServer(asio::io_context& io, EventLog& events) : io_(io), events_(events) {}

ControlServer::~ControlServer() { close(); }

Status ControlServer::listen(const std::string& path) {
  if (path.size() >= sizeof(sockaddr_un::sun_path))
    return Error("control socket path too long: " + path);
  // A leftover socket file from a crashed lvsd is replaced; a live one is not.
  if (::access(path.c_str(), F_OK) == 0) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path.c_str());
    bool live = ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
    ::close(fd);
    if (live) return Error("control socket " + path + ": another lvsd is running", EADDRINUSE);
    ::unlink(path.c_str());
  }
  auto dir = path.substr(0, path.rfind('/'));
  if (!dir.empty()) ::mkdir(dir.c_str(), 0755);  // e.g. /run/lvsd; ok if it exists
  boost::system::error_code ec;
  acceptor_ = std::make_unique<stream_protocol::acceptor>(io_);
  // umask so the socket is born 0600: no window where others could connect.
  mode_t old = ::umask(0177);
  acceptor_->open(stream_protocol(), ec);
  if (!ec) acceptor_->bind(stream_protocol::endpoint(path), ec);
  ::umask(old);
  if (!ec) acceptor_->listen(64, ec);
  if (ec) return Error("control socket " + path + ": " + ec.message(), ec.value());
  ::chmod(path.c_str(), 0600);
  path_ = path;
  accept();
  return okStatus();
}

void ControlServer::close() {
  // Closing sockets makes pending operations complete with operation_aborted,
  // so sessions end while this server (and the event log) still exist.
  for (auto& w : sessions_)
    if (auto s = w.lock()) s->close();
  sessions_.clear();
  if (acceptor_) {
    boost::system::error_code ec;
    acceptor_->close(ec);
    acceptor_.reset();
    ::unlink(path_.c_str());
  }
}

void ControlServer::handle(control::Request::CmdCase kind, Handler h) {
  handlers_[static_cast<int>(kind)] = std::move(h);
}

void ControlServer::accept() {
  acceptor_->async_accept([this](boost::system::error_code ec, stream_protocol::socket sock) {
    if (ec == asio::error::operation_aborted || !acceptor_) return;
    if (!ec) {
      // Only root (or our own uid) may drive lvsd, even if the mode were changed.
      ucred cred{};
      socklen_t len = sizeof cred;
      if (::getsockopt(sock.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 &&
          (cred.uid == 0 || cred.uid == ::geteuid())) {
        auto session = std::make_shared<Session>(*this, std::move(sock));
        sessions_.remove_if([](const auto& w) { return w.expired(); });
        sessions_.push_back(session);
        session->start();
      } else {
        logger("control")->warn("refused control client uid={}", cred.uid);
      }
    }
    accept();
  });
}

control::Response ControlServer::dispatch(const control::Request& req) {
  ++requests_;
  auto it = handlers_.find(static_cast<int>(req.cmd_case()));
  if (it == handlers_.end()) {
    control::Response r;
    r.set_ok(false);
    r.add_error(req.cmd_case() == control::Request::CMD_NOT_SET
                    ? "empty request"
                    : "request not supported by this lvsd (no module serves it)");
    return r;
  }
  return it->second(req);
}

}  // namespace lvsd::daemon
