// Error kinds: each library's exceptions classified, reports counted by
// kind, and a bug failing the test that meets it (tests/support/bug_guard).
#include <gtest/gtest.h>

#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>
#include <nlohmann/json.hpp>

#include <stdexcept>

#include "bug_guard.hpp"
#include "kiebot/base/errors.hpp"
#include "kiebot/base/metrics.hpp"
#include "kiebot/http/client.hpp"
#include "kiebot/http/http.hpp"
#include "kiebot/kafka/kafka.hpp"
#include "kiebot/redis/redis.hpp"
#include "kiebot/runtime/lifecycle.hpp"

using namespace kiebot;

namespace {

template <typename E>
ErrorKind kind_of(E e) {
  return error_kind(std::make_exception_ptr(std::move(e)));
}

double count(const char* kind) {
  return metrics::registry().counter("errors_total", "", {{"kind", kind}}).value();
}

std::exception_ptr json_type_error() {
  try {
    nlohmann::json j = "text";
    auto number = j.get<int>();
    (void)number;
  } catch (...) {
    return std::current_exception();
  }
  return nullptr;
}

std::exception_ptr json_parse_error() {
  try {
    auto parsed = nlohmann::json::parse("{");
    (void)parsed;
  } catch (...) {
    return std::current_exception();
  }
  return nullptr;
}

}  // namespace

TEST(ErrorKind, Transient) {
  EXPECT_EQ(kind_of(TransientError("KIE answered 503")), ErrorKind::transient);
  EXPECT_EQ(kind_of(redis::Error(redis::Error::Kind::unavailable, "redis down")), ErrorKind::transient);
  EXPECT_EQ(kind_of(redis::Error(redis::Error::Kind::timeout, "slow")), ErrorKind::transient);
  EXPECT_EQ(kind_of(redis::Error(redis::Error::Kind::protocol, "redis error: LOADING Redis is loading")),
            ErrorKind::transient);
  EXPECT_EQ(kind_of(redis::Error(redis::Error::Kind::protocol, "job claim: READONLY You can't write")),
            ErrorKind::transient);
  EXPECT_EQ(kind_of(redis::Error(redis::Error::Kind::protocol, "x: OOM command not allowed")), ErrorKind::transient);
  EXPECT_EQ(kind_of(kafka::Error(-185, "timed out")), ErrorKind::transient);
  EXPECT_EQ(kind_of(http::ClientError(http::ClientError::Kind::connect, false, "refused")), ErrorKind::transient);
  EXPECT_EQ(kind_of(http::ClientError(http::ClientError::Kind::timeout, true, "slow")), ErrorKind::transient);
  EXPECT_EQ(kind_of(boost::system::system_error(boost::asio::error::connection_reset)), ErrorKind::transient);
  for (int status : {408, 425, 429, 500, 502, 503, 504}) EXPECT_EQ(status_kind(status), ErrorKind::transient) << status;
}

TEST(ErrorKind, Permanent) {
  EXPECT_EQ(kind_of(PermanentError("bad input")), ErrorKind::permanent);
  EXPECT_EQ(kind_of(http::BadRequest{400, "invalid_amount", "amount must be positive"}), ErrorKind::permanent);
  EXPECT_EQ(kind_of(http::ClientError(http::ClientError::Kind::invalid_url, false, "no")), ErrorKind::permanent);
  EXPECT_EQ(kind_of(http::ClientError(http::ClientError::Kind::refused, false, "private")), ErrorKind::permanent);
  EXPECT_EQ(kind_of(redis::Error(redis::Error::Kind::invalid_url, "REDIS_URL")), ErrorKind::permanent);
  EXPECT_EQ(kind_of(ExitError(2, "token refused")), ErrorKind::permanent);
  EXPECT_EQ(error_kind(json_parse_error()), ErrorKind::permanent);
  for (int status : {400, 401, 403, 404, 409, 422}) EXPECT_EQ(status_kind(status), ErrorKind::permanent) << status;
}

TEST(ErrorKind, EverythingElseIsABug) {
  EXPECT_EQ(kind_of(std::logic_error("unhandled route")), ErrorKind::bug);
  EXPECT_EQ(kind_of(std::out_of_range("at")), ErrorKind::bug);
  EXPECT_EQ(kind_of(std::invalid_argument("stoll")), ErrorKind::bug);
  EXPECT_EQ(kind_of(std::runtime_error("something")), ErrorKind::bug);
  EXPECT_EQ(kind_of(42), ErrorKind::bug);
  EXPECT_EQ(error_kind(json_type_error()), ErrorKind::bug);
  EXPECT_EQ(kind_of(redis::Error(redis::Error::Kind::protocol, "accounts: ERR user_script:3: attempt to compare nil")),
            ErrorKind::bug);
  EXPECT_EQ(kind_of(redis::Error(redis::Error::Kind::protocol, "redis reply is not an integer")), ErrorKind::bug);
  EXPECT_EQ(error_kind(nullptr), ErrorKind::bug);
}

TEST(ErrorKind, CancellationIsNoError) {
  EXPECT_EQ(kind_of(boost::system::system_error(boost::asio::error::operation_aborted)), ErrorKind::cancelled);
  auto bugs = count("bug");
  auto transient = count("transient");
  EXPECT_EQ(report_error("cancelled",
                         std::make_exception_ptr(boost::system::system_error(boost::asio::error::operation_aborted))),
            ErrorKind::cancelled);
  EXPECT_EQ(count("bug"), bugs);
  EXPECT_EQ(count("transient"), transient);
}

TEST(ErrorKind, ReportsAreCountedByKind) {
  register_error_metrics();
  EXPECT_NE(metrics::registry().render().find("errors_total{kind=\"bug\"}"), std::string::npos);
  auto transient = count("transient");
  auto permanent = count("permanent");
  report_error("test_transient", std::make_exception_ptr(TransientError("503")), {{"job_id", "j-1"}});
  report_error("test_permanent", std::make_exception_ptr(PermanentError("400")));
  EXPECT_EQ(count("transient"), transient + 1);
  EXPECT_EQ(count("permanent"), permanent + 1);
  EXPECT_EQ(error_message(std::make_exception_ptr(http::BadRequest{400, "bad", "why"})), "bad: why");
  EXPECT_EQ(error_message(std::make_exception_ptr(42)), "unknown exception");
}

TEST(ErrorKind, ABugIsCountedAndExpectedHere) {
  // Without expect_bugs(1) the bug guard fails this test (checked by hand
  // while writing it: remove the line and it fails naming the count).
  test::expect_bugs(1);
  auto before = bugs_reported();
  EXPECT_EQ(report_error("test_bug", std::make_exception_ptr(std::logic_error("unreachable")), {{"where", "test"}}),
            ErrorKind::bug);
  EXPECT_EQ(bugs_reported(), before + 1);
}
