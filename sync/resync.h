#pragma once
// Private to sync/: the I/O of a full-table resync. prepareResync() runs on
// the worker thread (it reads the proc table, which can be megabytes);
// ResyncSender paces the datagrams out on the event loop.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/address.h"
#include "core/clock.h"
#include "core/result.h"
#include "ipvs/ipvs.h"
#include "sync/convert.h"
#include "sync/pacing.h"

namespace lvsd::sync {

// Where resync datagrams go: the backup daemons' multicast group and port,
// out of the sync interface.
struct ResyncTarget {
  std::string interface;
  IpAddress group = IpAddress::v4(0xe0000051);  // 224.0.0.81, the kernel's default
  uint16_t port = 8848;
  uint8_t ttl = 1;
  uint8_t syncId = 0;
  uint32_t maxlen = 0;  // KernelSync.maxlen (0 = kernel default)
};

struct PreparedResync {
  std::vector<std::vector<uint8_t>> datagrams;
  uint64_t entries = 0;
  uint64_t connections = 0;
  uint64_t templates = 0;
  uint64_t skipped = 0;     // not synchronisable (see convert.h) or not encodable
  uint64_t unresolved = 0;  // sent without a known destination
  uint64_t malformed = 0;   // proc lines that did not parse
  size_t datagramLimit = 0;
  std::string skipDetail;   // "protocol=2 state=1" when skipped > 0
  Duration readTime{0};     // reading the proc table (entries were aged by it)
};

// Reads the table at `procPath`, resolves entries against `services` and
// packs them for `target`. The interface MTU is read from the kernel (in
// the caller's network namespace). Blocking.
Result<PreparedResync> prepareResync(const std::string& procPath, const ipvs::Table& services,
                                     const ResyncTarget& target);

// The interface's MTU, or an error (no such interface).
Result<uint32_t> interfaceMtu(const std::string& ifname);

struct ResyncResult {
  uint64_t datagrams = 0;  // sent
  uint64_t bytes = 0;
  uint64_t waits = 0;      // times the socket buffer was full and sending paused
  Duration elapsed{0};
  std::string error;       // empty on success; set when aborted
};

class ResyncSender {
 public:
  using Done = std::function<void(const ResyncResult&)>;
  ResyncSender(boost::asio::io_context& io, const Clock& clock);
  ~ResyncSender();

  // Sends every datagram to target, at most `rate` per second with bursts
  // of `burst`. A run in progress is cancelled first (its Done reports
  // "cancelled"). Errors: the socket cannot be set up for the interface or
  // group. `done` runs on the loop, once.
  lvsd::Status start(std::vector<std::vector<uint8_t>> datagrams, const ResyncTarget& target,
                     uint32_t rate, uint32_t burst, Done done);
  void cancel();
  bool running() const { return running_; }

 private:
  void pump();
  void finish(const std::string& error);

  boost::asio::io_context& io_;
  const Clock& clock_;
  boost::asio::steady_timer timer_;
  std::unique_ptr<boost::asio::ip::udp::socket> socket_;
  boost::asio::ip::udp::endpoint dest_;
  std::vector<std::vector<uint8_t>> datagrams_;
  size_t next_ = 0;
  std::optional<Pacer> pacer_;
  ResyncResult result_;
  TimePoint started_{};
  Done done_;
  bool running_ = false;
  bool waiting_ = false;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace lvsd::sync
