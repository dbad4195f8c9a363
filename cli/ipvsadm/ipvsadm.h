#pragma once
// cli/ipvsadm: an ipvsadm 1.31-compatible front end over lvsd's IPVS
// backend — the same syntax, the same messages, byte-identical output, and
// the same exit codes (0 ok, 1 listing failure, 2 bad input, 255 kernel or
// option error). `lvsctl ipvsadm ARGS...` and an `ipvsadm` symlink to
// lvsctl call runIpvsadm. Differences from ipvsadm are listed in
// docs/ipvs.md (e.g. `-R` applies consecutive changes as one pipelined
// batch, with the same per-line error messages).

#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "ipvs/ipvs.h"

namespace lvsd::ipvsadm {

// argv[0] is the program name used in messages ("ipvsadm").
int runIpvsadm(int argc, char** argv, std::ostream& out, std::ostream& err);

class NameResolver;

// What runIpvsadm talks to; tests replace every part.
struct Environment {
  // Default: ipvs::makeNetlinkBackend().
  std::function<Result<std::unique_ptr<ipvs::IpvsBackend>>()> openBackend;
  // ipvsadm runs "/sbin/modprobe -- ip_vs" when IPVS is missing. Default: the same.
  std::function<void()> loadModule;
  std::istream* in = nullptr;                  // -R input; default std::cin
  std::string connFile = ipvs::kConnProcFile;  // -c input
  const NameResolver* resolver = nullptr;      // default: libc
};

int runIpvsadm(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
               Environment& env);

}  // namespace lvsd::ipvsadm
