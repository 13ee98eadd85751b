// The accounts calls the dialog makes (docs/accounts-api.md). A 4xx comes
// back as a value; no answer or a 5xx throws AccountsUnavailable, so the
// update is retried.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "kiebot/runtime/net.hpp"

namespace kiebot::http {
class Client;
struct ClientRequest;
}  // namespace kiebot::http

namespace kiebot::dialog {

struct AccountsReply {
  int status = 0;
  nlohmann::json body;
  bool ok() const { return status == 200; }
  std::string error() const { return body.is_object() ? body.value("error", "") : ""; }
};

class AccountsUnavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class AccountsApi {
 public:
  AccountsApi(http::Client& client, std::string base, std::string token);

  net::awaitable<AccountsReply> user(std::int64_t user_id);
  net::awaitable<AccountsReply> set_language(std::int64_t user_id, std::string language);
  // kind: paid, free or admin. The hold expires after ttl_s (it must outlive the job).
  net::awaitable<AccountsReply> hold(std::int64_t user_id, std::int64_t amount, std::string kind, std::string key,
                                     std::int64_t ttl_s);
  net::awaitable<AccountsReply> release(std::string hold_id);
  // admin_id: the granting admin of an admin_grant (0 otherwise).
  net::awaitable<AccountsReply> credit(std::int64_t user_id, std::int64_t amount, std::string reason, std::string key,
                                       std::string ref, std::int64_t admin_id = 0);
  net::awaitable<AccountsReply> debit(std::int64_t user_id, std::int64_t amount, std::string reason, std::string key,
                                      std::string ref, std::int64_t admin_id = 0);
  net::awaitable<AccountsReply> gift(std::int64_t user_id);
  net::awaitable<AccountsReply> referral(std::int64_t user_id, std::int64_t referrer_id);
  net::awaitable<AccountsReply> set_admin(std::int64_t user_id, std::int64_t limit);
  net::awaitable<AccountsReply> stats();
  net::awaitable<AccountsReply> ledger(std::int64_t user_id, int limit);

 private:
  http::ClientRequest request(const char* method, std::string path, const nlohmann::json& body) const;
  net::awaitable<AccountsReply> send(http::ClientRequest request);

  http::Client& client_;
  std::string base_;
  std::string token_;
};

}  // namespace kiebot::dialog
