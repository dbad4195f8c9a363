#pragma once
// The control socket: a Unix stream socket (mode 0600) speaking
// length-prefixed control.proto Request/Response frames. Components register
// handlers for the request kinds they serve.

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include <functional>
#include <list>
#include <map>
#include <memory>
#include <string>

#include "core/result.h"
#include "proto/control.pb.h"

namespace lvsd::daemon {

class EventLog;

class ControlServer {
 public:
  // Handles one request; returns the response.
  using Handler = std::function<control::Response(const control::Request&)>;

  ControlServer(boost::asio::io_context& io, EventLog& events);
  ~ControlServer();

  // Binds (replacing a stale socket file; refusing if another lvsd answers on it).
  Status listen(const std::string& path);
  void close();
  const std::string& path() const { return path_; }

  void handle(control::Request::CmdCase kind, Handler h);

  uint64_t requests() const { return requests_; }
  uint64_t badFrames() const { return badFrames_; }

 private:
  class Session;
  void accept();
  control::Response dispatch(const control::Request& req);

  boost::asio::io_context& io_;
  EventLog& events_;
  std::unique_ptr<boost::asio::local::stream_protocol::acceptor> acceptor_;
  std::string path_;
  std::map<int, Handler> handlers_;
  std::list<std::weak_ptr<Session>> sessions_;
  uint64_t requests_ = 0;
  uint64_t badFrames_ = 0;
};

}  // namespace lvsd::daemon
