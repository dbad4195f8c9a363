// keepalived.conf lexer and block structure (see keepalived.conf(5),
// "DESCRIPTION" and "Quoted strings").
#include "cli/import/keepalived_parse.h"

#include <cctype>
#include <filesystem>
#include <list>

namespace lvsd::import::keepalived {

namespace {

using Line = std::vector<Token>;

bool isIncludeKeyword(const std::string& w) {
  return w == "include" || w == "includer" || w == "includem" || w == "includew" ||
         w == "includeb" || w == "includea";
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class Lexer {
 public:
  Lexer(SourceReader& reader, std::vector<Problem>& problems)
      : reader_(reader), problems_(problems) {}

  // Appends the lines of `path` (and its includes) to `out`.
  void file(const std::string& path, const Token* from, std::vector<Line>& out) {
    std::string id = reader_.identity(path);
    for (const auto& open : stack_) {
      if (open == id) {
        std::string chain;
        for (const auto& s : stack_) chain += s + " -> ";
        error(from, path, "include loop: " + chain + id);
        return;
      }
    }
    if (static_cast<int>(stack_.size()) > kMaxIncludeDepth) {
      error(from, path,
            "includes nested deeper than " + std::to_string(kMaxIncludeDepth) + " levels");
      return;
    }
    auto text = reader_.read(path);
    if (!text) {
      error(from, path, text.error().message);
      return;
    }
    stack_.push_back(id);
    int lineNo = 0;
    size_t pos = 0;
    const std::string& t = *text;
    while (pos < t.size()) {
      size_t end = t.find('\n', pos);
      if (end == std::string::npos) end = t.size();
      std::string_view raw(t.data() + pos, end - pos);
      if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
      ++lineNo;
      line(path, lineNo, raw, out);
      pos = end + 1;
    }
    stack_.pop_back();
  }

 private:
  void error(const Token* at, const std::string& path, const std::string& msg) {
    Problem p;
    p.severity = Problem::kError;
    if (at) {
      p.file = at->file;
      p.line = at->line;
      p.column = at->column;
    } else {
      p.file = path;
    }
    p.message = msg;
    problems_.push_back(std::move(p));
  }
  void report(Problem::Severity sev, const std::string& file, int line, int col, std::string msg) {
    problems_.push_back({sev, file, line, col, std::move(msg)});
  }

  void line(const std::string& path, int lineNo, std::string_view raw, std::vector<Line>& out) {
    size_t first = raw.find_first_not_of(" \t");
    if (first == std::string_view::npos) return;
    // Conditional configuration ("@id ...") and parameter definitions
    // ("$NAME=...") depend on the host keepalived runs on.
    if (raw[first] == '@') {
      report(Problem::kUnsupported, path, lineNo, static_cast<int>(first) + 1,
             "conditional configuration ('@') is not converted; line skipped "
             "(expand it for each director first)");
      return;
    }
    if (raw[first] == '$') {
      report(Problem::kUnsupported, path, lineNo, static_cast<int>(first) + 1,
             "parameter definition ('$') is not converted; line skipped "
             "(substitute the parameters first)");
      return;
    }
    if (raw.compare(first, 4, "~SEQ") == 0 || raw.compare(first, 3, "~LST") == 0) {
      report(Problem::kUnsupported, path, lineNo, static_cast<int>(first) + 1,
             "sequence/list blocks ('~SEQ', '~LST') are not converted; line skipped");
      return;
    }
    Line toks;
    size_t i = 0;
    const size_t n = raw.size();
    while (i < n) {
      char c = raw[i];
      if (c == ' ' || c == '\t') {
        ++i;
        continue;
      }
      if (c == '#' || c == '!') break;
      Token tok;
      tok.file = path;
      tok.line = lineNo;
      tok.column = static_cast<int>(i) + 1;
      if (c == '{' || c == '}') {
        tok.text = std::string(1, c);
        toks.push_back(std::move(tok));
        ++i;
        continue;
      }
      bool bad = false;
      while (i < n) {
        c = raw[i];
        if (c == ' ' || c == '\t' || c == '{' || c == '}' || c == '#' || c == '!') break;
        if (c == '"' || c == '\'') {
          char q = c;
          size_t open = i++;
          tok.quoted = true;
          bool closed = false;
          while (i < n) {
            char d = raw[i];
            if (d == q) {
              closed = true;
              ++i;
              break;
            }
            if (d == '\\' && i + 1 < n) {
              i = escape(raw, i + 1, tok.text);
              continue;
            }
            tok.text += d;
            ++i;
          }
          if (!closed) {
            report(Problem::kError, path, lineNo, static_cast<int>(open) + 1,
                   std::string("unterminated ") + (q == '"' ? "double" : "single") +
                       " quote; line skipped");
            bad = true;
            break;
          }
          continue;
        }
        tok.text += c;
        ++i;
      }
      if (bad) return;
      if (!tok.quoted && !tok.text.empty() && tok.text[0] == '$')
        report(Problem::kUnsupported, path, lineNo, tok.column,
               "parameter substitution " + tok.text + " is not expanded");
      toks.push_back(std::move(tok));
    }
    if (toks.empty()) return;
    if (!toks[0].quoted && isIncludeKeyword(toks[0].text)) {
      include(toks, out);
      return;
    }
    out.push_back(std::move(toks));
  }

  // Applies the escape at raw[i] (after the backslash); returns the index
  // after it.
  static size_t escape(std::string_view raw, size_t i, std::string& out) {
    char e = raw[i];
    switch (e) {
      case 'a': out += '\a'; return i + 1;
      case 'b': out += '\b'; return i + 1;
      case 'E': out += '\x1b'; return i + 1;
      case 'f': out += '\f'; return i + 1;
      case 'n': out += '\n'; return i + 1;
      case 'r': out += '\r'; return i + 1;
      case 't': out += '\t'; return i + 1;
      case 'v': out += '\v'; return i + 1;
      case 'x': {
        size_t j = i + 1;
        int v = 0;
        while (j < raw.size() && hexValue(raw[j]) >= 0) v = (v * 16 + hexValue(raw[j++])) & 0xff;
        if (j == i + 1) {
          out += 'x';
          return i + 1;
        }
        out += static_cast<char>(v);
        return j;
      }
      case 'c':
        if (i + 1 < raw.size()) {
          out += static_cast<char>(std::toupper(static_cast<unsigned char>(raw[i + 1])) ^ 0x40);
          return i + 2;
        }
        out += 'c';
        return i + 1;
      default:
        if (e >= '0' && e <= '7') {
          size_t j = i;
          int v = 0;
          while (j < raw.size() && j < i + 3 && raw[j] >= '0' && raw[j] <= '7') v = v * 8 + (raw[j++] - '0');
          out += static_cast<char>(v & 0xff);
          return j;
        }
        out += e;
        return i + 1;
    }
  }

  void include(const Line& toks, std::vector<Line>& out) {
    const Token& kw = toks[0];
    if (toks.size() != 2) {
      report(Problem::kError, kw.file, kw.line, kw.column,
             kw.text + " takes exactly one file name (pattern)");
      return;
    }
    std::string pattern = toks[1].text;
    // Relative names are relative to the including file's directory.
    if (!pattern.empty() && pattern[0] != '/') {
      auto dir = std::filesystem::path(kw.file).parent_path();
      pattern = (dir / pattern).string();
    }
    auto files = reader_.glob(pattern);
    if (!files) {
      report(Problem::kError, kw.file, kw.line, toks[1].column, files.error().message);
      return;
    }
    if (files->empty()) {
      // Plain `include` ignores a missing file, as keepalived does; the
      // checking variants make it an error there too.
      bool strict = kw.text == "includem" || kw.text == "includea";
      report(strict ? Problem::kError : Problem::kNote, kw.file, kw.line, toks[1].column,
             "include " + toks[1].text + " matches no file" +
                 (strict ? "" : " (ignored, as keepalived does)"));
      return;
    }
    for (const auto& f : *files) file(f, &toks[1], out);
  }

  SourceReader& reader_;
  std::vector<Problem>& problems_;
  std::vector<std::string> stack_;
};

void addError(std::vector<Problem>& problems, const Token& at, std::string msg) {
  problems.push_back({Problem::kError, at.file, at.line, at.column, std::move(msg)});
}

}  // namespace

std::vector<Stmt> parseFile(const std::string& path, SourceReader& reader,
                            std::vector<Problem>& problems) {
  std::vector<Line> lines;
  Lexer(reader, problems).file(path, nullptr, lines);

  std::vector<Stmt> root;
  // Open blocks: the list statements are added to, and the token that opened it.
  std::vector<std::vector<Stmt>*> stack{&root};
  std::vector<Token> openers;
  std::list<std::vector<Stmt>> discarded;  // children of stray '{'s (reported, not converted)
  for (const Line& line : lines) {
    std::vector<Token> words;
    auto flush = [&](bool block) {
      if (words.empty()) return;
      Stmt s;
      s.words = std::move(words);
      s.block = block;
      words.clear();
      stack.back()->push_back(std::move(s));
    };
    bool lastWasClose = false;
    for (const Token& t : line) {
      if (!t.quoted && t.text == "{") {
        if (!words.empty()) {
          flush(true);
          stack.push_back(&stack.back()->back().children);
        } else if (!lastWasClose && !stack.back()->empty() && !stack.back()->back().block &&
                   stack.back()->back().kw().line != t.line) {
          // '{' on the line after its keyword.
          stack.back()->back().block = true;
          stack.push_back(&stack.back()->back().children);
        } else {
          addError(problems, t, "'{' without a keyword before it; block ignored");
          stack.push_back(&discarded.emplace_back());
        }
        openers.push_back(t);
        lastWasClose = false;
        continue;
      }
      if (!t.quoted && t.text == "}") {
        flush(false);
        if (stack.size() == 1)
          addError(problems, t, "'}' without a matching '{'");
        else {
          stack.pop_back();
          openers.pop_back();
        }
        lastWasClose = true;
        continue;
      }
      lastWasClose = false;
      words.push_back(t);
    }
    flush(false);
  }
  for (const Token& t : openers) addError(problems, t, "'{' is never closed");
  return root;
}

std::vector<std::string> splitCommand(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  bool have = false, inQuote = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (inQuote) {
      if (c == '\'')
        inQuote = false;
      else
        cur += c;
      continue;
    }
    if (c == '\'') {
      inQuote = have = true;
    } else if (c == '\\' && i + 1 < line.size()) {
      cur += line[++i];
      have = true;
    } else if (c == ' ' || c == '\t') {
      if (have) out.push_back(std::move(cur));
      cur.clear();
      have = false;
    } else {
      cur += c;
      have = true;
    }
  }
  if (have) out.push_back(std::move(cur));
  return out;
}

}  // namespace lvsd::import::keepalived
