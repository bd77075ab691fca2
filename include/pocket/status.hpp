// Status and Result<T>: the error type for anything a user's input can cause.
// Internal invariants use POCKET_CHECK (always on, aborts with a message).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <variant>

namespace pocket {

// An error a user can act on: the message says what went wrong and, where possible, what to do.
struct Error {
  std::string message;
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error e) : error_(std::move(e.message)), failed_(true) {}  // NOLINT: implicit on purpose
  static Status ok() { return {}; }
  bool is_ok() const { return !failed_; }
  explicit operator bool() const { return !failed_; }
  const std::string& message() const { return error_; }

 private:
  std::string error_;
  bool failed_ = false;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit on purpose
  Result(Error e) : v_(std::move(e)) {}      // NOLINT
  Result(const Status& s) : v_(Error{s.message()}) {}  // only for a failed Status
  bool is_ok() const { return v_.index() == 0; }
  explicit operator bool() const { return is_ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const std::string& message() const { return std::get<1>(v_).message; }
  Status status() const { return is_ok() ? Status{} : Status{std::get<1>(v_)}; }

 private:
  std::variant<T, Error> v_;
};

[[noreturn]] inline void check_failed(const char* expr, const char* file, int line, const std::string& msg) {
  std::fprintf(stderr, "pocket: internal error: %s (%s) at %s:%d\n", msg.c_str(), expr, file, line);
  std::abort();
}

}  // namespace pocket

// Always-on check of an internal invariant (never of user input: that returns an Error).
#define POCKET_CHECK(cond, msg)                                             \
  do {                                                                      \
    if (!(cond)) ::pocket::check_failed(#cond, __FILE__, __LINE__, (msg)); \
  } while (0)

#define POCKET_CONCAT_INNER(a, b) a##b
#define POCKET_CONCAT(a, b) POCKET_CONCAT_INNER(a, b)

// Return the error of a Status-returning expression.
#define POCKET_TRY(expr)                              \
  do {                                                \
    ::pocket::Status _pocket_st = (expr);             \
    if (!_pocket_st.is_ok()) return _pocket_st;       \
  } while (0)

// `POCKET_ASSIGN_OR_RETURN(auto x, f());` declares x from a Result or returns its error.
#define POCKET_ASSIGN_OR_RETURN(lhs, expr) \
  POCKET_ASSIGN_OR_RETURN_IMPL(POCKET_CONCAT(_pocket_res_, __LINE__), lhs, expr)
#define POCKET_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.is_ok()) return ::pocket::Error{tmp.message()}; \
  lhs = std::move(tmp).value()
