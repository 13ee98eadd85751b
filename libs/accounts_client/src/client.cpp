// The accounts client (see client.hpp).
#include "kiebot/accounts_client/client.hpp"

#include "kiebot/base/json.hpp"
#include "kiebot/http/client.hpp"

namespace kiebot::accounts_api {

using nlohmann::json;

std::string Reply::error() const {
  if (!body.is_object()) return {};
  auto it = body.find("error");
  return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Client::Client(http::Client& http, std::string base, std::string token, std::chrono::milliseconds timeout)
    : http_(http), base_(std::move(base)), token_(std::move(token)), timeout_(timeout) {
  while (!base_.empty() && base_.back() == '/') base_.pop_back();
}

http::ClientRequest Client::request(const Route& route, std::string path, const json& body) const {
  http::ClientRequest request;
  request.method = std::string(route.method);
  request.url = base_ + path;
  request.headers = {{"Authorization", "Bearer " + token_}};
  if (!body.is_null()) {
    request.headers.emplace_back("Content-Type", "application/json");
    request.body = body.dump();
  }
  request.timeout = timeout_;
  return request;
}

// The public calls below are plain functions that build the request and
// hand it to this coroutine by value: nothing temporary lives across a co_await.
net::awaitable<Reply> Client::send(http::ClientRequest request) {
  auto what = request.method + " " + request.url.substr(base_.size());
  http::Response response;
  try {
    response = co_await http_.send(std::move(request));
  } catch (const http::ClientError& e) {
    throw Unavailable("accounts: " + what + ": " + e.what());
  }
  if (response.status >= 500 || response.status == 401) {
    throw Unavailable("accounts answered " + std::to_string(response.status) + " to " + what, response.status);
  }
  Reply reply{response.status, parse_untrusted(response.body)};
  co_return reply;
}

net::awaitable<Reply> Client::user(UserId user) {
  return send(request(kGetUser, path(kGetUser, user), nullptr));
}

net::awaitable<Reply> Client::set_language(UserId user, std::string language) {
  return send(request(kLanguage, path(kLanguage, user), language_body(language)));
}

net::awaitable<Reply> Client::gift(UserId user) {
  return send(request(kGift, path(kGift, user), json::object()));
}

net::awaitable<Reply> Client::referral(UserId user, UserId referrer) {
  return send(request(kReferral, path(kReferral, user), referral_body(referrer)));
}

net::awaitable<Reply> Client::ledger(UserId user, int limit) {
  return send(request(kLedger, path(kLedger, user) + "?limit=" + std::to_string(limit), nullptr));
}

net::awaitable<Reply> Client::create_hold(UserId user, HoldRequest body) {
  return send(request(kCreateHold, path(kCreateHold, user), to_json(body)));
}

net::awaitable<Reply> Client::hold(HoldId hold) {
  return send(request(kGetHold, path(kGetHold, hold), nullptr));
}

net::awaitable<Reply> Client::commit(HoldId hold) {
  return send(request(kCommitHold, path(kCommitHold, hold), json::object()));
}

net::awaitable<Reply> Client::release(HoldId hold) {
  return send(request(kReleaseHold, path(kReleaseHold, hold), json::object()));
}

net::awaitable<Reply> Client::credit(UserId user, MoneyRequest body) {
  return send(request(kCredit, path(kCredit, user), to_json(body)));
}

net::awaitable<Reply> Client::debit(UserId user, MoneyRequest body) {
  return send(request(kDebit, path(kDebit, user), to_json(body)));
}

net::awaitable<Reply> Client::set_admin(UserId admin, Kopecks limit) {
  return send(request(kSetAdmin, path(kSetAdmin, admin), to_json(AdminRequest{limit})));
}

net::awaitable<Reply> Client::remove_admin(UserId admin) {
  return send(request(kRemoveAdmin, path(kRemoveAdmin, admin), nullptr));
}

net::awaitable<Reply> Client::admins() {
  return send(request(kListAdmins, path(kListAdmins), nullptr));
}

net::awaitable<Reply> Client::stats() {
  return send(request(kStats, path(kStats), nullptr));
}

}  // namespace kiebot::accounts_api
