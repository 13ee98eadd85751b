// accounts client for the dialog (see accounts_api.hpp), on the routes and
// bodies declared in kiebot/accounts_client/routes.hpp.
#include "accounts_api.hpp"

#include "kiebot/accounts_client/routes.hpp"
#include "kiebot/base/json.hpp"
#include "kiebot/http/client.hpp"

namespace kiebot::dialog {

using nlohmann::json;
namespace api = accounts_api;

namespace {

std::optional<UserId> admin_of(std::int64_t admin_id) {
  if (admin_id <= 0) return std::nullopt;
  return UserId(admin_id);
}

}  // namespace

AccountsApi::AccountsApi(http::Client& client, std::string base, std::string token)
    : client_(client), base_(std::move(base)), token_(std::move(token)) {
  while (!base_.empty() && base_.back() == '/') base_.pop_back();
}

http::ClientRequest AccountsApi::request(const char* method, std::string path, const json& body) const {
  http::ClientRequest request;
  request.method = method;
  request.url = base_ + path;
  request.headers = {{"Authorization", "Bearer " + token_}};
  if (!body.is_null()) {
    request.headers.emplace_back("Content-Type", "application/json");
    request.body = body.dump();
  }
  request.timeout = std::chrono::seconds(5);
  return request;
}

// The public calls below are plain functions that build the request and
// hand it to this coroutine by value: nothing temporary lives across a co_await.
net::awaitable<AccountsReply> AccountsApi::send(http::ClientRequest request) {
  auto path = request.url.substr(base_.size());
  http::Response response;
  try {
    response = co_await client_.send(std::move(request));
  } catch (const http::ClientError& e) {
    throw AccountsUnavailable(std::string("accounts: ") + e.what());
  }
  if (response.status >= 500 || response.status == 401) {
    // 401 is our configuration (ACCOUNTS_TOKEN), not the user's doing.
    throw AccountsUnavailable("accounts answered " + std::to_string(response.status) + " to " + path);
  }
  AccountsReply reply{response.status, parse_untrusted(response.body)};
  co_return reply;
}

namespace {

// The method as the request takes it (route methods are string literals).
const char* method(const api::Route& route) {
  return route.method.data();
}

}  // namespace

net::awaitable<AccountsReply> AccountsApi::user(std::int64_t user_id) {
  return send(request(method(api::kGetUser), api::path(api::kGetUser, UserId(user_id)), nullptr));
}

net::awaitable<AccountsReply> AccountsApi::set_language(std::int64_t user_id, std::string language) {
  return send(
      request(method(api::kLanguage), api::path(api::kLanguage, UserId(user_id)), api::language_body(language)));
}

net::awaitable<AccountsReply> AccountsApi::hold(std::int64_t user_id, std::int64_t amount, std::string kind,
                                                std::string key, std::int64_t ttl_s) {
  api::HoldRequest body{Kopecks(amount), std::move(kind), std::move(key), ttl_s};
  return send(request(method(api::kCreateHold), api::path(api::kCreateHold, UserId(user_id)), api::to_json(body)));
}

net::awaitable<AccountsReply> AccountsApi::release(std::string hold_id) {
  return send(
      request(method(api::kReleaseHold), api::path(api::kReleaseHold, HoldId(std::move(hold_id))), json::object()));
}

net::awaitable<AccountsReply> AccountsApi::credit(std::int64_t user_id, std::int64_t amount, std::string reason,
                                                  std::string key, std::string ref, std::int64_t admin_id) {
  api::MoneyRequest body{Kopecks(amount), std::move(reason), std::move(key), std::move(ref), admin_of(admin_id)};
  return send(request(method(api::kCredit), api::path(api::kCredit, UserId(user_id)), api::to_json(body)));
}

net::awaitable<AccountsReply> AccountsApi::debit(std::int64_t user_id, std::int64_t amount, std::string reason,
                                                 std::string key, std::string ref, std::int64_t admin_id) {
  api::MoneyRequest body{Kopecks(amount), std::move(reason), std::move(key), std::move(ref), admin_of(admin_id)};
  return send(request(method(api::kDebit), api::path(api::kDebit, UserId(user_id)), api::to_json(body)));
}

net::awaitable<AccountsReply> AccountsApi::gift(std::int64_t user_id) {
  return send(request(method(api::kGift), api::path(api::kGift, UserId(user_id)), json::object()));
}

net::awaitable<AccountsReply> AccountsApi::referral(std::int64_t user_id, std::int64_t referrer_id) {
  return send(request(method(api::kReferral), api::path(api::kReferral, UserId(user_id)),
                      api::referral_body(UserId(referrer_id))));
}

net::awaitable<AccountsReply> AccountsApi::set_admin(std::int64_t user_id, std::int64_t limit) {
  return send(request(method(api::kSetAdmin), api::path(api::kSetAdmin, UserId(user_id)),
                      api::to_json(api::AdminRequest{Kopecks(limit)})));
}

net::awaitable<AccountsReply> AccountsApi::ledger(std::int64_t user_id, int limit) {
  return send(request(method(api::kLedger),
                      api::path(api::kLedger, UserId(user_id)) + "?limit=" + std::to_string(limit), nullptr));
}

net::awaitable<AccountsReply> AccountsApi::stats() {
  return send(request(method(api::kStats), api::path(api::kStats), nullptr));
}

}  // namespace kiebot::dialog
