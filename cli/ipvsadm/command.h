#pragma once
// Private to cli/ipvsadm: one ipvsadm command line → a Command, with every
// check ipvsadm 1.31 makes and the same messages. A failure prints its
// message through the Context and throws Exit (ipvsadm's exit()).

#include <array>
#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "cli/ipvsadm/resolver.h"

namespace lvsd::ipvsadm {

// ipvsadm's exit(): unwinds to runIpvsadm, which returns the code.
struct Exit {
  int code;
};

// Where output goes. Both streams first let pending batched work finish
// (see runIpvsadm's -R), so messages keep their order.
class Context {
 public:
  Context(std::ostream& out, std::ostream& err, const NameResolver& resolver, std::string program)
      : resolver(resolver), program(std::move(program)), out_(out), err_(err) {}
  std::ostream& out() {
    settle();
    return out_;
  }
  std::ostream& err() {
    settle();
    return err_;
  }
  [[noreturn]] void fail(int code, const std::string& message) {
    err() << message << '\n';
    throw Exit{code};
  }
  // "Try `ipvsadm -h' or 'ipvsadm --help' for more information." and exit.
  [[noreturn]] void tryHelp(int code);
  [[noreturn]] void usage(int code);
  [[noreturn]] void version(int code);

  const NameResolver& resolver;
  std::string program;
  std::function<void()> beforeOutput;

 private:
  void settle() {
    if (beforeOutput) {
      auto f = std::move(beforeOutput);
      beforeOutput = nullptr;
      f();
    }
  }
  std::ostream& out_;
  std::ostream& err_;
};

enum CommandId {
  kCmdNone = 0,
  kCmdAdd,
  kCmdEdit,
  kCmdDel,
  kCmdFlush,
  kCmdList,
  kCmdAddDest,
  kCmdDelDest,
  kCmdEditDest,
  kCmdTimeout,
  kCmdStartDaemon,
  kCmdStopDaemon,
  kCmdRestore,
  kCmdSave,
  kCmdZero,
};

// Option bits (ipvsadm's OPT_*, bit = OPTC_* index).
enum OptionIndex {
  kOptNumeric = 0,
  kOptConnection,
  kOptService,
  kOptScheduler,
  kOptPersistent,
  kOptNetmask,
  kOptServer,
  kOptForward,
  kOptWeight,
  kOptUThreshold,
  kOptLThreshold,
  kOptMcast,
  kOptTimeout,
  kOptDaemon,
  kOptStats,
  kOptRate,
  kOptThresholds,
  kOptPersistentConn,
  kOptNoSort,
  kOptSyncId,
  kOptExact,
  kOptOnePacket,
  kOptPe,
  kOptSchedFlags,
  kOptMcastGroup,
  kOptMcastPort,
  kOptMcastTtl,
  kOptSyncMaxlen,
  kOptTunInfo,
  kOptTunType,
  kOptTunPort,
  kOptTunNoCsum,
  kOptTunCsum,
  kOptTunRemCsum,
  kNumOptions,
};
inline constexpr uint64_t bit(int optc) { return uint64_t{1} << optc; }

// Listing format flags (ipvsadm's FMT_*).
enum : unsigned {
  kFmtNumeric = 0x0001,
  kFmtRule = 0x0002,
  kFmtStats = 0x0004,
  kFmtRate = 0x0008,
  kFmtThresholds = 0x0010,
  kFmtPersistentConn = 0x0020,
  kFmtNoSort = 0x0040,
  kFmtExact = 0x0080,
  kFmtTunInfo = 0x0100,
};

inline constexpr uint16_t kAfInet = 2;
inline constexpr uint16_t kAfInet6 = 10;

// The kernel-facing parts, as ipvsadm fills them (ipvs_service_t & co).
struct ServiceSpec {
  uint16_t af = 0;
  uint16_t protocol = 0;
  std::array<uint8_t, 16> addr{};
  uint16_t port = 0;  // host order
  uint32_t fwmark = 0;
  std::string sched;
  uint32_t flags = 0;
  uint32_t timeout = 0;
  // IPv4: the mask's in_addr.s_addr (network order in memory); IPv6: prefix length.
  uint32_t netmask = 0xffffffff;
  std::string pe;
};

struct DestSpec {
  uint16_t af = 0;
  std::array<uint8_t, 16> addr{};
  uint16_t port = 0;
  uint32_t connFlags = 3;  // IP_VS_CONN_F_DROUTE
  int weight = 1;
  uint32_t upperThreshold = 0;
  uint32_t lowerThreshold = 0;
  uint8_t tunType = 0;
  uint16_t tunPort = 0;  // host order
  uint16_t tunFlags = 0;
};

struct TimeoutSpec {
  int tcp = 0, tcpFin = 0, udp = 0;
};

struct DaemonSpec {
  int state = 0;
  std::string interface;
  int syncId = 0;
  int maxLen = 0;
  uint16_t groupAf = 0;
  std::array<uint8_t, 16> group{};
  int port = 0;
  int ttl = 0;
};

struct Command {
  int cmd = kCmdNone;
  ServiceSpec svc;
  DestSpec dest;
  TimeoutSpec timeout;
  DaemonSpec daemon;
  uint64_t options = 0;
  unsigned format = 0;
};

// Parses and checks one command line (argv[0] is the program name) the way
// ipvsadm's parse_options + process_options do, up to the point where the
// kernel is called. Returns false for a popt error that ipvsadm reports and
// returns -1 for (without exiting); throws Exit where ipvsadm exits.
bool parseCommand(const std::vector<std::string>& argv, Context& ctx, Command& out);

// ipvsadm's restore tokenizer (config_stream_read): one line of words from
// `in`, "ipvsadm" words dropped, argv[0] = `program`. nullopt at the end.
class LineSource {
 public:
  virtual ~LineSource() = default;
  virtual int get() = 0;  // next char or EOF
  virtual void unget(int c) = 0;
};
std::optional<std::vector<std::string>> readRestoreLine(LineSource& in, const std::string& program);

}  // namespace lvsd::ipvsadm
