#pragma once
// Result<T>: the error type that crosses module boundaries (DESIGN.md style 5).
// An Error carries a message, an optional errno-style code, and the chain of
// context that led to it ("service tcp 192.0.2.1:80: destination ...: File exists").

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace lvsd {

struct Error {
  std::string message;
  int code = 0;  // errno when it came from the OS or the kernel, else 0

  Error() = default;
  explicit Error(std::string msg, int c = 0) : message(std::move(msg)), code(c) {}

  // Prefixes the message with where it happened: "outer: inner".
  Error&& context(const std::string& where) && {
    message = where + ": " + message;
    return std::move(*this);
  }
  const std::string& what() const { return message; }
};

// errno → "strerror text" error, prefixed with what was attempted.
Error errnoError(const std::string& what, int err);

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error error) : v_(std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { assert(!ok()); return std::get<1>(v_); }
  Error&& takeError() && { assert(!ok()); return std::get<1>(std::move(v_)); }

  T valueOr(T fallback) const { return ok() ? std::get<0>(v_) : std::move(fallback); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : err_(std::move(error)), ok_(false) {}

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { assert(!ok_); return err_; }
  Error&& takeError() && { assert(!ok_); return std::move(err_); }

 private:
  Error err_;
  bool ok_ = true;
};

using Status = Result<void>;

inline Status okStatus() { return Status(); }

}  // namespace lvsd
