// Accounts hold settlement (docs/accounts-api.md).
#include "accounts_client.hpp"

#include "kiebot/common/http_client.hpp"

namespace kiebot::generator {

AccountsClient::AccountsClient(http::Client& client, std::string base, std::string token)
    : client_(client), base_(std::move(base)), token_(std::move(token)) {
  while (!base_.empty() && base_.back() == '/') base_.pop_back();
}

net::awaitable<Settled> AccountsClient::settle(std::string hold_id, std::string action) {
  http::ClientRequest request;
  request.method = "POST";
  request.url = base_ + "/v1/holds/" + http::percent_encode(hold_id) + "/" + action;
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

}  // namespace kiebot::generator
