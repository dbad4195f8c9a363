#include "cli/ipvsadm/popt.h"

namespace lvsd::ipvsadm {

const char* poptStrerror(int code) {
  switch (code) {
    case kPoptErrNoArg:
      return "missing argument";
    case kPoptErrUnwantedArg:
      return "option does not take an argument";
    case kPoptErrBadOpt:
      return "unknown option";
    default:
      return "unknown error";
  }
}

Popt::Popt(const std::vector<std::string>& argv, std::span<const PoptOption> table)
    : argv_(argv), table_(table) {}

const PoptOption* Popt::findLong(std::string_view name) const {
  for (const auto& o : table_) {
    if (o.longName && name == o.longName) return &o;
  }
  return nullptr;
}

const PoptOption* Popt::findShort(char c) const {
  if (c == '\0') return nullptr;
  for (const auto& o : table_) {
    if (o.shortName == c) return &o;
  }
  return nullptr;
}

std::string Popt::badOption() const { return next_ >= 1 && next_ - 1 < argv_.size() ? argv_[next_ - 1] : ""; }

std::optional<std::string> Popt::leftover() {
  if (nextLeftover_ < leftovers_.size()) return leftovers_[nextLeftover_++];
  return std::nullopt;
}

int Popt::next() {
  arg_.reset();
  for (;;) {
    const PoptOption* opt = nullptr;
    std::optional<std::string> longArg;
    if (!inCluster_) {
      if (next_ >= argv_.size()) return -1;
      const std::string& word = argv_[next_++];
      if (restLeftover_ || word.empty() || word[0] != '-' || word == "-") {
        leftovers_.push_back(word);
        continue;
      }
      if (word == "--") {
        restLeftover_ = true;
        continue;
      }
      bool oneDash = word[1] != '-';
      std::string_view name(word);
      name.remove_prefix(oneDash ? 1 : 2);
      if (auto eq = name.find('='); eq != std::string_view::npos) {
        longArg = std::string(name.substr(eq + 1));
        name = name.substr(0, eq);
      }
      // No ipvsadm option accepts a single dash before its long name, so a
      // single-dash word is a cluster of short options.
      if (!oneDash) {
        opt = findLong(name);
        if (!opt) return kPoptErrBadOpt;
      } else {
        cluster_ = word.substr(1);
        inCluster_ = true;
        longArg.reset();
      }
    }
    if (inCluster_) {
      char c = cluster_[0];
      opt = findShort(c);
      if (!opt) return kPoptErrBadOpt;
      cluster_.erase(0, 1);
      if (cluster_.empty()) inCluster_ = false;
    }

    if (opt->arg == PoptOption::kNone) {
      if (longArg || (inCluster_ && cluster_[0] == '=')) return kPoptErrUnwantedArg;
    } else if (longArg) {
      arg_ = *longArg;
    } else if (inCluster_) {
      arg_ = cluster_[0] == '=' ? cluster_.substr(1) : cluster_;
      cluster_.clear();
      inCluster_ = false;
    } else if (next_ >= argv_.size()) {
      if (opt->arg != PoptOption::kOptional) return kPoptErrNoArg;
    } else if (opt->arg == PoptOption::kOptional && !argv_[next_].empty() && argv_[next_][0] == '-') {
      // optional argument absent
    } else {
      arg_ = argv_[next_++];
    }
    return opt->val;
  }
}

}  // namespace lvsd::ipvsadm
