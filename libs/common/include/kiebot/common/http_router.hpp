// Method + path routing with path parameters, free of I/O.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "kiebot/common/http.hpp"
#include "kiebot/common/net.hpp"

namespace kiebot::http {

using Handler = std::function<net::awaitable<Response>(Request)>;
using SyncHandler = std::function<Response(const Request&)>;

// Patterns are '/'-separated segments; a segment is a literal, `{name}`, or a
// literal prefix followed by `{name}` (e.g. `bot{token}` for Telegram URLs).
// Literal routes win over parameter routes for the same path.
class Router {
 public:
  void add(std::string method, std::string_view pattern, Handler handler);
  void add(std::string method, std::string_view pattern, SyncHandler handler);

  struct Match {
    const Handler* handler = nullptr;  // null: see status
    int status = 404;                  // 404 no such path, 405 path exists with other methods
    std::string allow;                 // for 405
  };
  // Fills request.path and request.params on a match.
  Match match(Request& request) const;

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
  };
  std::vector<Route> routes_;
};

// Runs the router on one request: 404/405/400/500 answers in the house error
// shape, BadRequest thrown by a handler turned into its status. No I/O.
net::awaitable<Response> dispatch(const Router& router, Request request);

}  // namespace kiebot::http
