// The one client of the accounts HTTP API (docs/accounts-api.md), used by
// the dialog and the generator, on the routes and bodies declared in
// routes.hpp. An answer from accounts, 4xx included, comes back as a Reply;
// no answer, a 5xx or a 401 (our ACCOUNTS_TOKEN, not the caller's doing)
// throws Unavailable, a transient error: the caller retries or queues.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <stdexcept>
#include <string>

#include "kiebot/accounts_client/routes.hpp"
#include "kiebot/base/errors.hpp"
#include "kiebot/base/ids.hpp"
#include "kiebot/base/money.hpp"
#include "kiebot/runtime/net.hpp"

namespace kiebot::http {
class Client;
struct ClientRequest;
}  // namespace kiebot::http

namespace kiebot::accounts_api {

struct Reply {
  int status = 0;
  nlohmann::json body;  // null when the body is not JSON
  bool ok() const { return status == 200; }
  // The answer's "error" field, or "".
  std::string error() const;
};

class Unavailable : public std::runtime_error, public ClassifiedError {
 public:
  explicit Unavailable(const std::string& what, int status = 0) : std::runtime_error(what), status_(status) {}
  ErrorKind error_kind() const noexcept override { return ErrorKind::transient; }
  // accounts' answer (a 5xx or 401), or 0 when none came.
  int status() const noexcept { return status_; }

 private:
  int status_;
};

class Client {
 public:
  // base: accounts' URL ("http://accounts:8080"); token: the caller's bearer
  // token, whose scopes decide which of the calls below accounts allows;
  // timeout: per request.
  Client(http::Client& http, std::string base, std::string token, std::chrono::milliseconds timeout);

  net::awaitable<Reply> user(UserId user);
  net::awaitable<Reply> set_language(UserId user, std::string language);
  net::awaitable<Reply> gift(UserId user);
  net::awaitable<Reply> referral(UserId user, UserId referrer);
  net::awaitable<Reply> ledger(UserId user, int limit);

  net::awaitable<Reply> create_hold(UserId user, HoldRequest request);
  net::awaitable<Reply> hold(HoldId hold);
  net::awaitable<Reply> commit(HoldId hold);
  net::awaitable<Reply> release(HoldId hold);

  net::awaitable<Reply> credit(UserId user, MoneyRequest request);
  net::awaitable<Reply> debit(UserId user, MoneyRequest request);

  net::awaitable<Reply> set_admin(UserId admin, Kopecks limit);
  net::awaitable<Reply> remove_admin(UserId admin);
  net::awaitable<Reply> admins();
  net::awaitable<Reply> stats();

 private:
  http::ClientRequest request(const Route& route, std::string path, const nlohmann::json& body) const;
  net::awaitable<Reply> send(http::ClientRequest request);

  http::Client& http_;
  std::string base_;
  std::string token_;
  std::chrono::milliseconds timeout_;
};

}  // namespace kiebot::accounts_api
