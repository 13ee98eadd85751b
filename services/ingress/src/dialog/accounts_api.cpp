// accounts client for the dialog (see accounts_api.hpp).
#include "kiebot/common/json.hpp"
#include "accounts_api.hpp"

#include "kiebot/common/http_client.hpp"

namespace kiebot::dialog {

using nlohmann::json;

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

net::awaitable<AccountsReply> AccountsApi::user(std::int64_t user_id) {
  return send(request("GET", "/v1/users/" + std::to_string(user_id), nullptr));
}

net::awaitable<AccountsReply> AccountsApi::set_language(std::int64_t user_id, std::string language) {
  return send(request("PUT", "/v1/users/" + std::to_string(user_id) + "/language", {{"language", language}}));
}

net::awaitable<AccountsReply> AccountsApi::hold(std::int64_t user_id, std::int64_t amount, std::string kind,
                                                std::string key, std::int64_t ttl_s) {
  json body = {{"amount", amount}, {"kind", kind}, {"idempotency_key", key}, {"ttl_s", ttl_s}};
  return send(request("POST", "/v1/users/" + std::to_string(user_id) + "/holds", body));
}

net::awaitable<AccountsReply> AccountsApi::release(std::string hold_id) {
  return send(request("POST", "/v1/holds/" + http::percent_encode(hold_id) + "/release", json::object()));
}

net::awaitable<AccountsReply> AccountsApi::credit(std::int64_t user_id, std::int64_t amount, std::string reason,
                                                  std::string key, std::string ref, std::int64_t admin_id) {
  json body = {{"amount", amount}, {"reason", reason}, {"idempotency_key", key}};
  if (!ref.empty()) body["ref"] = ref;
  if (admin_id > 0) body["admin_id"] = admin_id;
  return send(request("POST", "/v1/users/" + std::to_string(user_id) + "/credits", body));
}

net::awaitable<AccountsReply> AccountsApi::debit(std::int64_t user_id, std::int64_t amount, std::string reason,
                                                 std::string key, std::string ref, std::int64_t admin_id) {
  json body = {{"amount", amount}, {"reason", reason}, {"idempotency_key", key}};
  if (!ref.empty()) body["ref"] = ref;
  if (admin_id > 0) body["admin_id"] = admin_id;
  return send(request("POST", "/v1/users/" + std::to_string(user_id) + "/debits", body));
}

net::awaitable<AccountsReply> AccountsApi::gift(std::int64_t user_id) {
  return send(request("POST", "/v1/users/" + std::to_string(user_id) + "/gift", json::object()));
}

net::awaitable<AccountsReply> AccountsApi::referral(std::int64_t user_id, std::int64_t referrer_id) {
  return send(request("POST", "/v1/users/" + std::to_string(user_id) + "/referral", {{"referrer_id", referrer_id}}));
}

net::awaitable<AccountsReply> AccountsApi::set_admin(std::int64_t user_id, std::int64_t limit) {
  return send(request("PUT", "/v1/admins/" + std::to_string(user_id), {{"limit", limit}}));
}

net::awaitable<AccountsReply> AccountsApi::ledger(std::int64_t user_id, int limit) {
  return send(request("GET", "/v1/users/" + std::to_string(user_id) + "/ledger?limit=" + std::to_string(limit), nullptr));
}

net::awaitable<AccountsReply> AccountsApi::stats() {
  return send(request("GET", "/v1/stats", nullptr));
}

}  // namespace kiebot::dialog
