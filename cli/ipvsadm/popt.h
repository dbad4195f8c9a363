#pragma once
// Private to cli/ipvsadm: command-line scanning with the exact behaviour of
// libpopt 1.19 as ipvsadm 1.31 uses it (no aliases, no config files), so
// that odd command lines are accepted, rejected and reported the same way:
//  - short options cluster ("-Ln"), an argument may be attached ("-t1.2.3.4:80",
//    "-t=..."), or be the next word even if it starts with '-';
//  - an optional argument ("-p [timeout]") is taken from the next word only
//    when that word does not start with '-';
//  - long options match exactly, "--name=value" or "--name value";
//  - a single-dash word that is not a long option is a short-option cluster;
//  - words that are not options are collected as leftovers; "--" makes all
//    later words leftovers.

#include <optional>
#include <span>
#include <string>
#include <vector>

namespace lvsd::ipvsadm {

struct PoptOption {
  const char* longName;  // nullptr = none
  char shortName;        // '\0' = none
  enum Arg { kNone, kString, kOptional } arg;
  int val;
};

// popt's error codes (popt.h) and poptStrerror's texts.
inline constexpr int kPoptErrNoArg = -10;
inline constexpr int kPoptErrBadOpt = -11;
inline constexpr int kPoptErrUnwantedArg = -12;
const char* poptStrerror(int code);

class Popt {
 public:
  Popt(const std::vector<std::string>& argv, std::span<const PoptOption> table);

  // The next option's val; -1 at the end; a negative kPoptErr* on error.
  int next();
  // The argument of the option next() returned (nullopt: none given).
  const std::optional<std::string>& arg() const { return arg_; }
  // The word being processed when next() returned (poptBadOption).
  std::string badOption() const;
  // Leftover words, one at a time (poptGetArg).
  std::optional<std::string> leftover();

 private:
  const PoptOption* findLong(std::string_view name) const;
  const PoptOption* findShort(char c) const;

  const std::vector<std::string>& argv_;
  std::span<const PoptOption> table_;
  size_t next_ = 1;
  std::string cluster_;  // rest of a short-option cluster
  bool inCluster_ = false;
  bool restLeftover_ = false;
  std::vector<std::string> leftovers_;
  size_t nextLeftover_ = 0;
  std::optional<std::string> arg_;
};

}  // namespace lvsd::ipvsadm
