#pragma once
// Private to cli/import: keepalived.conf syntax. A file is a tree of
// statements; a statement is the words of one line (a keyword and its
// arguments), optionally followed by a { } block of child statements.
// Includes are spliced in where they appear, as keepalived does.

#include <string>
#include <vector>

#include "cli/import/import.h"

namespace lvsd::import::keepalived {

// Includes nest at most this deep (keepalived has no limit; a loop would
// recurse forever there, here it is an error).
inline constexpr int kMaxIncludeDepth = 8;

struct Token {
  std::string text;  // quotes removed, escapes applied
  std::string file;
  int line = 0;
  int column = 0;
  bool quoted = false;  // any part of it was quoted
};

struct Stmt {
  std::vector<Token> words;  // never empty
  bool block = false;        // followed by { ... }
  std::vector<Stmt> children;

  const Token& kw() const { return words.front(); }
  const std::string& keyword() const { return words.front().text; }
  size_t argc() const { return words.size() - 1; }
  const Token& arg(size_t i) const { return words[i + 1]; }
};

// Reads `path` and everything it includes. Syntax problems (unbalanced
// braces, unterminated quotes, include loops, unreadable files) are
// appended to `problems`; the tree holds whatever could be parsed.
std::vector<Stmt> parseFile(const std::string& path, SourceReader& reader,
                            std::vector<Problem>& problems);

// Splits a script line the way keepalived does for notify/track/misc
// scripts: whitespace separates words, single quotes keep spaces, a
// backslash escapes the next character.
std::vector<std::string> splitCommand(const std::string& line);

}  // namespace lvsd::import::keepalived
