#include "feedback/agent_server.h"

#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/write.hpp>

#include <array>

#include "core/log.h"
#include "feedback/agent_protocol.h"

namespace lvsd::feedback {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {
auto agentLog() { return logger("agent"); }
}  // namespace

// One client connection: read until the request is complete (or the client
// goes quiet), answer once, close. Every path ends in finish().
class AgentServer::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(AgentServer& server, tcp::socket socket)
      : server_(server),
        alive_(server.alive_),
        socket_(std::move(socket)),
        greeting_(socket_.get_executor()),
        deadline_(socket_.get_executor()) {}

  void start() {
    auto self = shared_from_this();
    deadline_.expires_after(server_.opts_.connectionTimeout);
    deadline_.async_wait([self](const boost::system::error_code& ec) {
      if (!ec) self->onDeadline();
    });
    greeting_.expires_after(server_.opts_.greetingWait);
    greeting_.async_wait([self](const boost::system::error_code& ec) {
      if (!ec && !self->done_ && !self->answering_) self->handle(self->parser_.quiet());
    });
    read();
  }

 private:
  void read() {
    auto self = shared_from_this();
    socket_.async_read_some(asio::buffer(buf_),
                            [self](const boost::system::error_code& ec, size_t n) {
                              if (self->done_ || self->answering_) return;
                              if (ec == asio::error::eof) {
                                self->handle(self->parser_.eof());
                              } else if (ec) {
                                self->finish();
                              } else {
                                self->handle(self->parser_.feed(std::string_view(self->buf_.data(), n)));
                              }
                            });
  }

  void handle(RequestParser::State st) {
    if (!*alive_) return finish();
    switch (st) {
      case RequestParser::State::kNeedMore:
        return read();
      case RequestParser::State::kError: {
        auto& c = server_.counters_;
        switch (parser_.error()) {
          case ProtocolError::kOversized: ++c.oversized; break;
          case ProtocolError::kSlow: ++c.slow; break;
          default: ++c.malformed; break;
        }
        agentLog()->debug("client {}: {}: {}", peer(), protocolErrorName(parser_.error()), parser_.detail());
        return finish();
      }
      case RequestParser::State::kBinary: {
        ++server_.counters_.binaryAnswers;
        auto report = server_.core_.report(&parser_.request(), server_.clock_.now());
        return answer(encodeReport(report));
      }
      case RequestParser::State::kText: {
        ++server_.counters_.textAnswers;
        auto report = server_.core_.report(nullptr, server_.clock_.now());
        return answer(formatTextAnswer(report));
      }
    }
  }

  void answer(std::string bytes) {
    answering_ = true;
    greeting_.cancel();
    out_ = std::move(bytes);
    auto self = shared_from_this();
    asio::async_write(socket_, asio::buffer(out_),
                      [self](const boost::system::error_code&, size_t) { self->finish(); });
  }

  void onDeadline() {
    if (done_) return;
    if (*alive_ && !answering_) ++server_.counters_.slow;
    finish();
  }

  void finish() {
    if (done_) return;
    done_ = true;
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    greeting_.cancel();
    deadline_.cancel();
    if (*alive_) --server_.active_;
  }

  std::string peer() const {
    boost::system::error_code ec;
    auto ep = socket_.remote_endpoint(ec);
    return ec ? "?" : ep.address().to_string() + ":" + std::to_string(ep.port());
  }

  AgentServer& server_;
  std::shared_ptr<bool> alive_;
  tcp::socket socket_;
  asio::steady_timer greeting_;
  asio::steady_timer deadline_;
  RequestParser parser_;
  std::array<char, 512> buf_{};
  std::string out_;
  bool answering_ = false;
  bool done_ = false;
};

AgentServer::AgentServer(asio::io_context& io, const Clock& clock, AgentCore& core,
                         const ProcReader& proc, AgentServerOptions opts)
    : io_(io),
      clock_(clock),
      core_(core),
      proc_(proc),
      opts_(std::move(opts)),
      acceptor_(io),
      sampleTimer_(io),
      acceptRetry_(io) {}

AgentServer::~AgentServer() {
  *alive_ = false;
  stop();
}

Status AgentServer::listen() {
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(opts_.listen, ec);
  if (ec) return Error("listen address '" + opts_.listen + "': " + ec.message());
  tcp::endpoint ep(addr, opts_.port);
  std::string where = "listen " + (addr.is_v6() ? "[" + opts_.listen + "]" : opts_.listen) + ":" +
                      std::to_string(opts_.port);
  acceptor_.open(ep.protocol(), ec);
  if (ec) return Error(where + ": " + ec.message(), ec.value());
  acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (addr.is_v6()) acceptor_.set_option(asio::ip::v6_only(false), ec);
  acceptor_.bind(ep, ec);
  if (ec) return Error(where + ": " + ec.message(), ec.value());
  acceptor_.listen(64, ec);
  if (ec) return Error(where + ": " + ec.message(), ec.value());
  return okStatus();
}

uint16_t AgentServer::port() const {
  boost::system::error_code ec;
  auto ep = acceptor_.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void AgentServer::start() {
  sample();
  accept();
}

void AgentServer::stop() {
  if (stopped_) return;
  stopped_ = true;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  sampleTimer_.cancel();
  acceptRetry_.cancel();
}

void AgentServer::readStateFile() {
  if (opts_.stateFile.empty()) return;
  auto text = readSmallFile(opts_.stateFile, 4096);
  Result<AdminState> st = text ? parseStateFile(*text) : Result<AdminState>(text.error());
  if (!text && text.error().code == ENOENT) st = AdminState{};  // no file: ready
  if (!st) {
    // Keep the last good state: a half-written file must not flap the server.
    ++counters_.stateFileErrors;
    if (st.error().message != lastStateError_) agentLog()->warn("{}", st.error().message);
    lastStateError_ = st.error().message;
    return;
  }
  lastStateError_.clear();
  core_.setAdmin(*st);
}

void AgentServer::sample() {
  if (stopped_) return;
  auto r = proc_.read(clock_.now());
  if (r) {
    ++counters_.readings;
    core_.addReading(*r);
    core_.readingOk();
    if (!lastReadingError_.empty()) agentLog()->info("sampler: reading /proc again");
    lastReadingError_.clear();
  } else {
    ++counters_.readingErrors;
    if (r.error().message != lastReadingError_) agentLog()->error("sampler: {}", r.error().message);
    lastReadingError_ = r.error().message;
    core_.readingFailed(r.error().message);
  }
  readStateFile();
  sampleTimer_.expires_after(std::chrono::milliseconds(core_.options().intervalMs));
  sampleTimer_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (!ec && *alive) sample();
  });
}

void AgentServer::accept() {
  acceptor_.async_accept([this, alive = alive_](const boost::system::error_code& ec, tcp::socket s) {
    if (!*alive || stopped_) return;
    if (!ec) {
      ++counters_.connections;
      if (active_ >= opts_.maxConnections) {
        ++counters_.rejected;
        boost::system::error_code ignored;
        s.close(ignored);
      } else {
        ++active_;
        std::make_shared<Session>(*this, std::move(s))->start();
      }
    } else if (ec == asio::error::operation_aborted) {
      return;
    } else {
      // Out of descriptors or similar: back off instead of spinning.
      agentLog()->warn("accept: {}", ec.message());
      acceptRetry_.expires_after(std::chrono::milliseconds(100));
      acceptRetry_.async_wait([this, alive](const boost::system::error_code& e) {
        if (!e && *alive && !stopped_) accept();
      });
      return;
    }
    accept();
  });
}

}  // namespace lvsd::feedback
