// Error kinds (see errors.hpp): the classifier, the log line and the counter.
#include "kiebot/base/errors.hpp"

#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>
#include <nlohmann/json.hpp>

#include <cxxabi.h>

#include <array>
#include <cstdlib>
#include <memory>
#include <system_error>
#include <typeinfo>

#include "kiebot/base/log.hpp"
#include "kiebot/base/metrics.hpp"

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

std::string demangled(const std::type_info& type) {
  const char* mangled = type.name();
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> readable(abi::__cxa_demangle(mangled, nullptr, nullptr, &status), std::free);
  return status == 0 && readable ? readable.get() : mangled;
}

}  // namespace

std::string_view to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::transient:
      return "transient";
    case ErrorKind::permanent:
      return "permanent";
    case ErrorKind::bug:
      return "bug";
    case ErrorKind::cancelled:
      return "cancelled";
  }
  return "bug";
}

ErrorKind error_kind(const std::exception_ptr& error) {
  if (!error) return ErrorKind::bug;
  try {
    std::rethrow_exception(error);
  } catch (const ClassifiedError& e) {
    return e.error_kind();
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
  } catch (const ClassifiedError& e) {
    auto text = e.error_text();
    if (!text.empty()) return text;
    if (const auto* ex = dynamic_cast<const std::exception*>(&e)) return ex->what();
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
    return demangled(typeid(e));
  } catch (const ClassifiedError& e) {
    return demangled(typeid(e));
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

double bugs_reported() {
  return counter(ErrorKind::bug).value();
}

void register_error_metrics() {
  counter(ErrorKind::transient);
}

}  // namespace kiebot
