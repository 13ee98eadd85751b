// Error kinds (see errors.hpp): the classifier, the log line and the counter.
#include "kiebot/common/errors.hpp"

#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>
#include <nlohmann/json.hpp>

#include <cxxabi.h>

#include <array>
#include <cstdlib>
#include <memory>
#include <system_error>
#include <typeinfo>

#include "kiebot/common/http.hpp"
#include "kiebot/common/http_client.hpp"
#include "kiebot/common/kafka.hpp"
#include "kiebot/common/lifecycle.hpp"
#include "kiebot/common/log.hpp"
#include "kiebot/common/metrics.hpp"
#include "kiebot/common/redis.hpp"

namespace kiebot {

namespace {

metrics::Counter& counter(ErrorKind kind) {
  static const std::array<metrics::Counter*, 3> counters = [] {
    auto& r = metrics::registry();
    const char* help = "Failures by kind: transient (retried), permanent (reported), bug (a defect)";
    return std::array<metrics::Counter*, 3>{&r.counter("errors_total", help, {{"kind", "transient"}}),
                                            &r.counter("errors_total", help, {{"kind", "permanent"}}),
                                            &r.counter("errors_total", help, {{"kind", "bug"}})};
  }();
  return *counters[static_cast<std::size_t>(kind)];
}

ErrorKind redis_kind(const redis::Error& e) {
  if (e.kind() == redis::Error::Kind::invalid_url) return ErrorKind::permanent;
  if (e.kind() != redis::Error::Kind::protocol) return ErrorKind::transient;
  // An error reply: Redis's own state passes; anything else (a script's
  // error, a reply of the wrong type) is ours.
  return redis::transient_error_reply(e.what()) ? ErrorKind::transient : ErrorKind::bug;
}

ErrorKind client_kind(const http::ClientError& e) {
  switch (e.kind()) {
    case http::ClientError::Kind::invalid_url:
    case http::ClientError::Kind::refused:
    case http::ClientError::Kind::too_large:
      return ErrorKind::permanent;
    default:
      return ErrorKind::transient;
  }
}

}  // namespace

std::string_view to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::transient: return "transient";
    case ErrorKind::permanent: return "permanent";
    case ErrorKind::bug: return "bug";
    case ErrorKind::cancelled: return "cancelled";
  }
  return "bug";
}

ErrorKind error_kind(const std::exception_ptr& error) {
  if (!error) return ErrorKind::bug;
  try {
    std::rethrow_exception(error);
  } catch (const TransientError&) {
    return ErrorKind::transient;
  } catch (const PermanentError&) {
    return ErrorKind::permanent;
  } catch (const redis::Error& e) {
    return redis_kind(e);
  } catch (const kafka::Error&) {
    return ErrorKind::transient;
  } catch (const http::ClientError& e) {
    return client_kind(e);
  } catch (const http::BadRequest&) {
    return ErrorKind::permanent;
  } catch (const ExitError&) {
    return ErrorKind::permanent;
  } catch (const nlohmann::json::parse_error&) {
    return ErrorKind::permanent;
  } catch (const boost::system::system_error& e) {
    return e.code() == boost::asio::error::operation_aborted ? ErrorKind::cancelled : ErrorKind::transient;
  } catch (const std::system_error& e) {
    return e.code() == std::errc::operation_canceled ? ErrorKind::cancelled : ErrorKind::transient;
  } catch (...) {
    return ErrorKind::bug;
  }
}

std::string error_message(const std::exception_ptr& error) {
  try {
    if (error) std::rethrow_exception(error);
  } catch (const http::BadRequest& e) {
    return e.code + ": " + e.message;
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
  }
  return "unknown exception";
}

std::string error_type(const std::exception_ptr& error) {
  try {
    if (error) std::rethrow_exception(error);
  } catch (const std::exception& e) {
    const char* mangled = typeid(e).name();
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> readable(abi::__cxa_demangle(mangled, nullptr, nullptr, &status), std::free);
    return status == 0 && readable ? readable.get() : mangled;
  } catch (const http::BadRequest&) {
    return "kiebot::http::BadRequest";
  } catch (...) {
  }
  return "unknown";
}

ErrorKind report_error(std::string_view event, const std::exception_ptr& error, const nlohmann::json& context) {
  auto kind = error_kind(error);
  if (kind == ErrorKind::cancelled) return kind;
  counter(kind).inc();
  nlohmann::json fields = context.is_object() ? context : nlohmann::json::object();
  fields["error"] = error_message(error);
  fields["error_kind"] = to_string(kind);
  if (kind == ErrorKind::bug) {
    fields["error_type"] = error_type(error);
    log::error(event, fields);
  } else {
    log::warn(event, fields);
  }
  return kind;
}

ErrorKind report_error(std::string_view event, const std::exception_ptr& error) {
  return report_error(event, error, nlohmann::json::object());
}

double bugs_reported() { return counter(ErrorKind::bug).value(); }

void register_error_metrics() { counter(ErrorKind::transient); }

}  // namespace kiebot
