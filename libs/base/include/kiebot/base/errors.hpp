// What kind of failure an exception is, and what follows from it:
//   transient  network, timeouts, 5xx, 429, an unavailable Redis or Kafka:
//              retried with backoff;
//   permanent  4xx, refused input, a bad configuration: not retried,
//              reported to whoever asked;
//   bug        anything else (std::logic_error, nlohmann type_error,
//              out_of_range, an unknown exception): not retried, logged with
//              its context as {"error_kind":"bug"}, and failing any test that
//              meets one (tests/support);
//   cancelled  not a failure: the operation was cancelled (shutdown).
// Every report counts in errors_total{kind=...}.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>

namespace kiebot {

enum class ErrorKind { transient, permanent, bug, cancelled };

std::string_view to_string(ErrorKind kind);

// An error type that knows its own kind: each library's error types
// (redis::Error, kafka::Error, http::ClientError, http::BadRequest,
// ExitError) implement it, so that this classifier depends on none of them.
class ClassifiedError {
 public:
  virtual ErrorKind error_kind() const noexcept = 0;
  // What the log line says; by default the std::exception's what().
  virtual std::string error_text() const { return {}; }

 protected:
  ClassifiedError() = default;
  ClassifiedError(const ClassifiedError&) = default;
  ClassifiedError& operator=(const ClassifiedError&) = default;
  ~ClassifiedError() = default;
};

// Throw these for failures the library types do not describe.
class TransientError : public std::runtime_error, public ClassifiedError {
 public:
  using std::runtime_error::runtime_error;
  ErrorKind error_kind() const noexcept override { return ErrorKind::transient; }
};

class PermanentError : public std::runtime_error, public ClassifiedError {
 public:
  using std::runtime_error::runtime_error;
  ErrorKind error_kind() const noexcept override { return ErrorKind::permanent; }
};

// By type: a ClassifiedError says its own kind; nlohmann parse_error is
// permanent; boost and std system errors are transient, but
// operation_aborted and operation_canceled are cancelled; everything else
// (std::logic_error, nlohmann type_error, out_of_range...) is a bug.
ErrorKind error_kind(const std::exception_ptr& error);

// An HTTP answer's status: 408, 425, 429 and 5xx are transient, other 4xx
// permanent. Only for statuses >= 400.
constexpr ErrorKind status_kind(int status) {
  return status == 408 || status == 425 || status == 429 || status >= 500 ? ErrorKind::transient : ErrorKind::permanent;
}

// The exception's message ("unknown exception" when it has none) and its type.
std::string error_message(const std::exception_ptr& error);
std::string error_type(const std::exception_ptr& error);

// Classifies, counts in errors_total{kind}, and logs as `event` with
// `context` (a JSON object) and the error's message, type and kind: a
// transient error at warn, a permanent one at warn, a bug at error level
// with "error_kind":"bug". Nothing for cancellation. Returns the kind.
ErrorKind report_error(std::string_view event, const std::exception_ptr& error, const nlohmann::json& context);
ErrorKind report_error(std::string_view event, const std::exception_ptr& error);

// errors_total{kind="bug"} so far in this process (tests compare it).
double bugs_reported();
// Registers errors_total for every kind at 0, so /metrics shows them before any.
void register_error_metrics();

}  // namespace kiebot
