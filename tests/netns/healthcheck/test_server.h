#pragma once
// A small controllable server for health-check tests and the
// healthcheck-scale benchmark: HTTP/HTTPS and UDP on Asio, on its own thread.
// Each request gets the next queued reply, else the default one.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace lvsd::testing {

enum class Reply {
  kOk,         // HTTP 200 with kOkBody; UDP "pong:" + request
  kStatus503,  // HTTP 503
  kWrongBody,  // HTTP 200 with another body; UDP "nope"
  kHang,       // accept / receive, never answer
  kClose,      // accept, then close without answering
  kOkThenClose,  // HTTP 200 as if keeping the connection, then close it (stale keep-alive)
};

inline constexpr const char* kOkBody = "lvsd test server: ok\n";

class TestServer {
 public:
  // ownThread: serve on a thread of its own (tests); else call runHere().
  explicit TestServer(bool ownThread = true);
  ~TestServer();
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  // Listens on ip:port (port 0 = any); returns the bound port. With TLS,
  // certFile/keyFile are PEM files.
  uint16_t listenHttp(const std::string& ip, uint16_t port, const std::string& certFile = "",
                      const std::string& keyFile = "");
  uint16_t listenUdp(const std::string& ip, uint16_t port);

  void setDefault(Reply r);
  void queue(Reply r);
  uint64_t requests() const;
  uint64_t connections() const;  // TCP connections accepted
  // What the last HTTP(S) request carried.
  std::string lastHost() const;
  std::string lastPath() const;
  std::string lastSni() const;

  // Runs the server on the calling thread until stop() (standalone binary).
  void runHere();
  void stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lvsd::testing
