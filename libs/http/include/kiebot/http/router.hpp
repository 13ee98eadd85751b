// Method + path routing with path parameters, free of I/O.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "kiebot/http/http.hpp"
#include "kiebot/runtime/net.hpp"

namespace kiebot::http {

using Handler = std::function<net::awaitable<Response>(Request)>;
using SyncHandler = std::function<Response(const Request&)>;
// Decides from the request line and headers alone whether a request may go
// on: nullopt lets it through, a Response refuses it. The server runs it
// before reading the body, so an unauthenticated caller cannot make us read
// (or buffer) one.
using Guard = std::function<std::optional<Response>(const Request&)>;

// Patterns are '/'-separated segments; a segment is a literal, `{name}`, or a
// literal prefix followed by `{name}` (e.g. `bot{token}` for Telegram URLs).
// Literal routes win over parameter routes for the same path.
class Router {
 public:
  void add(std::string method, std::string_view pattern, Handler handler, Guard guard = {});
  void add(std::string method, std::string_view pattern, SyncHandler handler, Guard guard = {});

  struct Match {
    const Handler* handler = nullptr;  // null: see status
    const Guard* guard = nullptr;      // null or empty: no guard
    int status = 404;                  // 404 no such path, 405 path exists with other methods
    std::string allow;                 // for 405
  };
  // Fills request.path and request.params on a match.
  Match match(Request& request) const;
  // The refusal of the matched route's guard, if it refuses; nullopt for an
  // unmatched request (dispatch answers 404/405 later).
  std::optional<Response> admit(Request& head) const;

 private:
  struct Segment {
    std::string literal;  // whole literal, or the prefix before {param}
    std::string param;    // empty: literal segment
  };
  struct Route {
    std::string method;
    std::vector<Segment> segments;
    int literal_count = 0;
    Handler handler;
    Guard guard;
  };
  std::vector<Route> routes_;
};

// A guard that admits a request whose `header` carries `secret` (compared in
// constant time; `prefix` such as "Bearer " is stripped first) and answers
// `status` {"error":"unauthorized"|"forbidden"} otherwise. `on_refused` (may
// be empty) runs on each refusal, for a metric.
Guard secret_header_guard(std::string header, std::string prefix, std::string secret, int status = 401,
                          std::function<void()> on_refused = {});

// Runs the router on one request: 404/405/400/500 answers in the house error
// shape, BadRequest thrown by a handler turned into its status. No I/O.
net::awaitable<Response> dispatch(const Router& router, Request request);

}  // namespace kiebot::http
