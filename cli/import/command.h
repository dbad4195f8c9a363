#pragma once
// `lvsctl import keepalived|ipvsadm ...`: the command-line shell around the
// converters (argument parsing, host name default, validation of the result).

#include <iosfwd>
#include <string>
#include <vector>

namespace lvsd::import {

// Exit codes of `lvsctl import` (documented in docs/migrating.md).
inline constexpr int kImportComplete = 0;  // everything converted, result valid
inline constexpr int kImportPartial = 1;   // printed, but something needs the operator
inline constexpr int kImportUsage = 2;     // bad arguments or unreadable input; nothing printed

// args: what follows "import" ("keepalived", "--name", "x", "a.conf", ...).
// The converted config goes to `out`; every problem, with its location, and
// a summary go to `err`.
int runImport(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

void importUsage(std::ostream& out);

}  // namespace lvsd::import
