#include "cli/import/command.h"

#include <unistd.h>

#include <iostream>
#include <iterator>
#include <sstream>

#include "cli/import/import.h"
#include "config/config.h"

namespace lvsd::import {

namespace {

std::string hostName() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') return "director1";
  std::string h = host;
  // lvsd --name defaults to the host name; a dotted FQDN stays as is.
  return h;
}

}  // namespace

void importUsage(std::ostream& out) {
  out << "usage: lvsctl import keepalived [--name NAME] FILE [FILE...]\n"
         "       lvsctl import ipvsadm [--name NAME] FILE|-\n"
         "  keepalived: one keepalived.conf per director (e.g. the MASTER's and the BACKUP's);\n"
         "              a single file's unicast peers become directors with inferred priorities\n"
         "  ipvsadm:    `ipvsadm -S -n` output or a script of ipvsadm commands (- = stdin)\n"
         "  --name NAME this director's name (single file; default: router_id, else the host name)\n"
         "The lvsd config goes to stdout, problems (FILE:LINE:COL) to stderr.\n"
         "Exit: 0 converted completely and valid; 1 printed but something needs attention;\n"
         "      2 bad arguments or unreadable input (nothing printed).\n";
}

int runImport(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.empty() || (args[0] != "keepalived" && args[0] != "ipvsadm")) {
    importUsage(err);
    return kImportUsage;
  }
  const std::string& kind = args[0];
  std::string name;
  std::vector<std::string> files;
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--name" || args[i] == "-n") {
      if (i + 1 >= args.size()) {
        err << "lvsctl import: " << args[i] << " needs a value\n";
        return kImportUsage;
      }
      name = args[++i];
    } else if (args[i] == "-h" || args[i] == "--help") {
      importUsage(out);
      return kImportComplete;
    } else if (args[i].size() > 1 && args[i][0] == '-' && args[i] != "-") {
      err << "lvsctl import: unknown option " << args[i] << "\n";
      importUsage(err);
      return kImportUsage;
    } else {
      files.push_back(args[i]);
    }
  }
  if (files.empty() || (kind == "ipvsadm" && files.size() != 1)) {
    importUsage(err);
    return kImportUsage;
  }
  if (kind == "keepalived" && files.size() > 1 && !name.empty()) {
    err << "lvsctl import: --name applies to a single file; with several, each file's router_id "
           "names its director\n";
    return kImportUsage;
  }

  auto reader = fileSystemReader();
  ImportResult result;
  if (kind == "keepalived") {
    for (const auto& f : files) {
      if (f == "-") {
        err << "lvsctl import keepalived: read from a file (includes are relative to it)\n";
        return kImportUsage;
      }
      // An unreadable top-level file is a usage error, not a partial import.
      if (auto t = reader->read(f); !t) {
        err << "lvsctl import: " << t.error().message << "\n";
        return kImportUsage;
      }
    }
    KeepalivedOptions opts;
    opts.name = name;
    opts.fallbackName = hostName();
    result = importKeepalived(files, opts, *reader);
  } else {
    std::string text;
    std::string label = files[0];
    if (label == "-") {
      text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
      label = "<stdin>";
    } else {
      auto t = reader->read(label);
      if (!t) {
        err << "lvsctl import: " << t.error().message << "\n";
        return kImportUsage;
      }
      text = std::move(*t);
    }
    IpvsadmOptions opts;
    opts.name = name.empty() ? hostName() : name;
    result = importIpvsadm(text, label, opts);
  }

  for (const auto& p : result.problems) err << p.toString() << "\n";
  std::string text = render(result);
  out << text;

  // The result must stand on its own: run lvsd's own validation on it.
  auto check = config::loadString(text, "<converted>");
  if (!check.ok()) {
    err << "lvsctl import: the converted config does not pass lvsd's validation yet ("
        << check.errors.size() << " error(s), lines of the printed config):\n";
    for (const auto& d : check.errors) err << "  " << d.toString() << "\n";
  }
  size_t notes = result.count(Problem::kNote);
  size_t unsupported = result.count(Problem::kUnsupported);
  size_t errors = result.count(Problem::kError);
  err << "lvsctl import: " << notes << " note(s), " << unsupported << " not converted, " << errors
      << " input error(s); " << (check.ok() ? "result is valid" : "result is NOT valid") << "\n";
  return result.complete() && check.ok() ? kImportComplete : kImportPartial;
}

}  // namespace lvsd::import
