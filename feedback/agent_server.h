#pragma once
// lvs-agent's I/O shell: a sampling timer that feeds AgentCore from /proc
// (and re-reads the operator's state file), and a TCP server that answers
// each connection once, in the dialect the client chose, then closes.
// Bounded: requests of at most 256 bytes, at most `maxConnections` at once,
// each closed after `connectionTimeout` whatever it did.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <memory>
#include <string>

#include "core/clock.h"
#include "core/result.h"
#include "feedback/agent_core.h"
#include "feedback/procfs.h"

namespace lvsd::feedback {

struct AgentServerOptions {
  std::string listen = "::";  // "::" = every IPv4 and IPv6 address
  uint16_t port = 7411;
  Duration greetingWait = std::chrono::milliseconds(300);  // then a silent client gets text
  Duration connectionTimeout = std::chrono::seconds(2);
  size_t maxConnections = 64;
  std::string stateFile;  // empty = always ready
};

struct AgentServerCounters {
  uint64_t connections = 0;
  uint64_t binaryAnswers = 0;
  uint64_t textAnswers = 0;
  uint64_t malformed = 0;
  uint64_t oversized = 0;
  uint64_t slow = 0;
  uint64_t rejected = 0;  // over maxConnections
  uint64_t readings = 0;
  uint64_t readingErrors = 0;
  uint64_t stateFileErrors = 0;
};

class AgentServer {
 public:
  AgentServer(boost::asio::io_context& io, const Clock& clock, AgentCore& core,
              const ProcReader& proc, AgentServerOptions opts);
  ~AgentServer();

  // Binds the listening socket (before privileges are dropped).
  Status listen();
  uint16_t port() const;  // the bound port (useful with port 0)
  // Starts sampling (a reading now, then every intervalMs) and accepting.
  void start();
  void stop();

  const AgentServerCounters& counters() const { return counters_; }

  class Session;

 private:
  void sample();
  void readStateFile();
  void accept();

  boost::asio::io_context& io_;
  const Clock& clock_;
  AgentCore& core_;
  const ProcReader& proc_;
  AgentServerOptions opts_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer sampleTimer_;
  boost::asio::steady_timer acceptRetry_;
  AgentServerCounters counters_;
  size_t active_ = 0;
  std::string lastStateError_;
  std::string lastReadingError_;
  bool stopped_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace lvsd::feedback
