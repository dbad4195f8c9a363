#pragma once
// Private to heartbeat/: watches the trackers off the heartbeat thread and
// reports changes: interfaces through rtnetlink link notifications (plus a
// slow re-check), files by polling, scripts on their own threads with
// interval, timeout and rise/fall. Quorum trackers are fed by the daemon.

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "heartbeat/model.h"

namespace lvsd::heartbeat {

class TrackerMonitor {
 public:
  using Report = std::function<void(size_t tracker, TrackerStatus status)>;
  using Log = std::function<void(bool warning, const std::string& line)>;

  TrackerMonitor(const Model& model, Report report, Log log);
  ~TrackerMonitor();

  // Interface and file trackers read now, so the first election starts from
  // real state (scripts and quorum report later).
  std::vector<std::optional<TrackerStatus>> initial();
  Status start();
  void stop();

  // One file's value; an unreadable or non-integer file is a failure.
  static TrackerStatus readFile(const std::string& path);
  static TrackerStatus interfaceUp(const std::string& name);

 private:
  void checkInterfaces();
  void checkFiles();
  void armNetlink();
  void armPoll();
  void scriptLoop(size_t tracker);
  void emit(size_t tracker, TrackerStatus s);

  const Model& model_;
  Report report_;
  Log log_;
  std::vector<std::optional<TrackerStatus>> last_;
  std::mutex lastMu_;
  boost::asio::io_context io_;
  std::unique_ptr<boost::asio::posix::stream_descriptor> netlink_;
  boost::asio::steady_timer poll_;
  std::thread aux_;
  std::vector<std::thread> scripts_;
  std::mutex stopMu_;
  std::condition_variable stopCv_;
  bool stopping_ = false;
};

}  // namespace lvsd::heartbeat
