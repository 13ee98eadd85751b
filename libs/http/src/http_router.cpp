// Method + path routing.
#include "kiebot/http/router.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "kiebot/base/errors.hpp"
#include "kiebot/base/log.hpp"
#include "kiebot/base/secrets.hpp"

namespace kiebot::http {

namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t start = 1;  // skip the leading '/'
  while (start <= path.size()) {
    auto slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    out.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

net::awaitable<Response> run_sync(SyncHandler handler, Request request) {
  co_return handler(request);
}

}  // namespace

void Router::add(std::string method, std::string_view pattern, Handler handler, Guard guard) {
  Route route{std::move(method), {}, 0, std::move(handler), std::move(guard)};
  for (auto part : split_path(pattern)) {
    auto open = part.find('{');
    if (open != std::string_view::npos && part.back() == '}') {
      route.segments.push_back(
          {std::string(part.substr(0, open)), std::string(part.substr(open + 1, part.size() - open - 2))});
    } else {
      route.segments.push_back({std::string(part), {}});
      ++route.literal_count;
    }
  }
  routes_.push_back(std::move(route));
  std::stable_sort(routes_.begin(), routes_.end(),
                   [](const Route& a, const Route& b) { return a.literal_count > b.literal_count; });
}

void Router::add(std::string method, std::string_view pattern, SyncHandler handler, Guard guard) {
  add(std::move(method), pattern,
      Handler([handler = std::move(handler)](Request request) { return run_sync(handler, std::move(request)); }),
      std::move(guard));
}

Router::Match Router::match(Request& request) const {
  auto query = request.target.find('?');
  auto raw_path = std::string_view(request.target).substr(0, query);
  if (raw_path.empty() || raw_path.front() != '/') return Match{nullptr, nullptr, 404, {}};
  auto parts = split_path(raw_path);
  Match result;
  for (const auto& route : routes_) {
    if (route.segments.size() != parts.size()) continue;
    std::map<std::string, std::string, std::less<>> params;
    bool ok = true;
    for (std::size_t i = 0; i < parts.size() && ok; ++i) {
      const auto& seg = route.segments[i];
      if (seg.param.empty()) {
        ok = parts[i] == seg.literal;
      } else {
        ok = parts[i].size() > seg.literal.size() && parts[i].starts_with(seg.literal);
        if (ok) params[seg.param] = percent_decode(parts[i].substr(seg.literal.size()), false);
      }
    }
    if (!ok) continue;
    if (route.method != request.method && !(request.method == "HEAD" && route.method == "GET")) {
      result.status = 405;
      if (result.allow.find(route.method) == std::string::npos) {
        result.allow += result.allow.empty() ? route.method : ", " + route.method;
      }
      continue;
    }
    request.path = std::string(raw_path);
    request.params = std::move(params);
    return Match{&route.handler, &route.guard, 200, {}};
  }
  return result;
}

std::optional<Response> Router::admit(Request& head) const {
  auto match = this->match(head);
  if (match.guard == nullptr || !*match.guard) return std::nullopt;
  return (*match.guard)(head);
}

Guard secret_header_guard(std::string header, std::string prefix, std::string secret, int status,
                          std::function<void()> on_refused) {
  return [header = std::move(header), prefix = std::move(prefix), secret = std::move(secret), status,
          on_refused = std::move(on_refused)](const Request& head) -> std::optional<Response> {
    auto given = head.header(header);
    if (given && given->starts_with(prefix) && same_secret(given->substr(prefix.size()), secret)) return std::nullopt;
    if (on_refused) on_refused();
    return Response::error(status, status == 401 ? "unauthorized" : "forbidden", "missing or wrong " + header);
  };
}

net::awaitable<Response> dispatch(const Router& router, Request request) {
  auto match = router.match(request);
  if (match.handler == nullptr) {
    if (match.status == 405) {
      auto response = Response::error(405, "method_not_allowed", "method not allowed for this path");
      response.headers.emplace_back("Allow", match.allow);
      co_return response;
    }
    co_return Response::error(404, "not_found", "no such endpoint");
  }
  if (match.guard != nullptr && *match.guard) {
    if (auto refused = (*match.guard)(request)) co_return std::move(*refused);
  }
  std::string method = request.method;
  std::string path = request.path;
  std::exception_ptr failure;
  try {
    co_return co_await (*match.handler)(std::move(request));
  } catch (const BadRequest& e) {
    co_return Response::error(e.status, e.code, e.message);
  } catch (const nlohmann::json::exception& e) {
    // A handler reading the request's JSON (at(), get<>()) met what the
    // caller sent: the caller's mistake, answered, not ours.
    co_return Response::error(400, "bad_request", e.what());
  } catch (...) {
    failure = std::current_exception();
  }
  // A transient failure (storage away) may be retried by the caller, a
  // permanent one is the request's; any other is a bug, logged with the
  // request and counted.
  auto kind = report_error("http_handler_failed", failure, {{"method", method}, {"path", path}});
  if (kind == ErrorKind::transient)
    co_return Response::error(503, "unavailable", "temporarily unavailable, retry later");
  if (kind == ErrorKind::permanent) co_return Response::error(400, "refused", error_message(failure));
  co_return Response::error(500, "internal", "internal error");
}

}  // namespace kiebot::http
