#pragma once
// cli/import: converters from other tools' configuration into lvsd's config
// (proto/config.proto), used by `lvsctl import keepalived|ipvsadm`. The only
// public header of lvsd_import.
//
// Converters are pure: they read files only through a SourceReader, never
// consult the host (name, services, interfaces), and report every construct
// they cannot express in lvsd, with its FILE:LINE:COL, instead of guessing
// silently. A conversion always produces the config it could build, so an
// operator can review and finish a partial result.

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "proto/config.pb.h"

namespace lvsd::import {

struct Problem {
  enum Severity {
    // An assumption or a setting without effect in lvsd; the result still
    // behaves as the input did.
    kNote,
    // Something in the input that the result does not carry (or carries
    // differently); the operator must act.
    kUnsupported,
    // The input itself is malformed (syntax, bad number, unreadable include).
    kError,
  };
  Severity severity = kUnsupported;
  std::string file;
  int line = 0;    // 1-based; 0 = the file as a whole
  int column = 0;  // 1-based; 0 = unknown
  std::string message;
  // "FILE:LINE:COL: unsupported: MESSAGE"
  std::string toString() const;
};

struct ImportResult {
  config::Config config;
  std::vector<Problem> problems;
  // Where each top-level element came from ("keepalived.conf:17"), keyed by
  // (Config field number, element index); rendered as comments.
  std::map<std::pair<int, int>, std::string> origin;
  // Lines for the header comment of the rendered file.
  std::vector<std::string> header;

  // True when nothing was unsupported or malformed (notes are fine).
  bool complete() const;
  size_t count(Problem::Severity s) const;
};

// Protobuf text format of result.config, one top-level element per block
// with its origin as a comment, led by the header comment (which says
// INCOMPLETE when something was not converted).
std::string render(const ImportResult& result);

// File access for converters (tests substitute their own).
class SourceReader {
 public:
  virtual ~SourceReader() = default;
  virtual Result<std::string> read(const std::string& path) = 0;
  // Paths matching a glob(3) pattern (with csh braces), sorted; empty when
  // nothing matches.
  virtual Result<std::vector<std::string>> glob(const std::string& pattern) = 0;
  // A key identifying the file for include-loop detection (canonical path).
  virtual std::string identity(const std::string& path) = 0;
};

// The local file system.
std::unique_ptr<SourceReader> fileSystemReader();

struct KeepalivedOptions {
  // This director's name when a single file is imported; overrides the
  // file's router_id. Empty = router_id, else `fallbackName`.
  std::string name;
  // Used when neither `name` nor router_id is given (keepalived's own
  // default router_id is the host name; lvsctl passes it in).
  std::string fallbackName = "director1";
};

// Converts one keepalived.conf per director (usually one or two files: the
// MASTER's and the BACKUP's). Each file becomes one director; unicast_peer
// addresses that belong to no imported file become peer directors whose
// priorities are inferred and reported.
ImportResult importKeepalived(const std::vector<std::string>& files, const KeepalivedOptions& opts,
                              SourceReader& reader);

struct IpvsadmOptions {
  // The single director of the generated config.
  std::string name = "director1";
};

// Converts `ipvsadm -S` output (or a script of ipvsadm commands: lines may
// start with "ipvsadm", -A/-a/-E/-e/-D/-d/-C apply in order).
ImportResult importIpvsadm(std::string_view text, const std::string& file,
                           const IpvsadmOptions& opts);

}  // namespace lvsd::import
