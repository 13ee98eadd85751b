// Accounts hold settlement (docs/accounts-api.md), on the routes and bodies
// declared in kiebot/accounts_client/routes.hpp.
#include "accounts_client.hpp"

#include <nlohmann/json.hpp>

#include "kiebot/accounts_client/routes.hpp"
#include "kiebot/base/json.hpp"
#include "kiebot/http/client.hpp"
#include "payment.hpp"

namespace kiebot::generator {

AccountsClient::AccountsClient(http::Client& client, std::string base, std::string token)
    : client_(client), base_(std::move(base)), token_(std::move(token)) {
  while (!base_.empty() && base_.back() == '/') base_.pop_back();
}

net::awaitable<Settled> AccountsClient::settle(HoldId hold_id, std::string action) {
  const auto& route = action == "commit" ? accounts_api::kCommitHold : accounts_api::kReleaseHold;
  http::ClientRequest request;
  request.method = std::string(route.method);
  request.url = base_ + accounts_api::path(route, hold_id);
  request.headers = {{"Authorization", "Bearer " + token_}, {"Content-Type", "application/json"}};
  request.body = "{}";
  request.timeout = std::chrono::seconds(10);
  Settled s;
  try {
    auto response = co_await client_.send(std::move(request));
    s.status = response.status;
    s.body = response.body;
    // Commit and release take effect once; repeating them is safe, so any
    // answer short of a definite one is retried.
    s.kind = response.status == 200   ? Settled::Kind::done
             : response.status == 409 ? Settled::Kind::conflict
             : response.status == 404 ? Settled::Kind::not_found
                                      : Settled::Kind::retry;
  } catch (const http::ClientError& e) {
    s.body = e.what();
  }
  co_return s;
}

net::awaitable<HoldLookup> AccountsClient::hold(HoldId hold_id, HoldInfo& out) {
  http::ClientRequest request;
  request.method = std::string(accounts_api::kGetHold.method);
  request.url = base_ + accounts_api::path(accounts_api::kGetHold, hold_id);
  request.headers = {{"Authorization", "Bearer " + token_}};
  request.timeout = std::chrono::seconds(10);
  HoldLookup lookup;
  http::Response response;
  try {
    response = co_await client_.send(std::move(request));
  } catch (const http::ClientError& e) {
    lookup.error = e.what();
    co_return lookup;
  }
  lookup.status = response.status;
  if (response.status == 404) {
    lookup.kind = HoldLookup::Kind::not_found;
    co_return lookup;
  }
  auto body = parse_untrusted(response.body);
  if (response.status != 200 || !body.is_object()) {
    lookup.error = "accounts answered " + std::to_string(response.status);
    co_return lookup;
  }
  out = accounts_api::read_hold_view(body);
  lookup.kind = HoldLookup::Kind::found;
  co_return lookup;
}

}  // namespace kiebot::generator
