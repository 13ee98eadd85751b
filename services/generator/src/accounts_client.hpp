// Settling a job's hold at accounts: commit once on success, release once
// on failure (both idempotent there).
#pragma once

#include <string>

#include "kiebot/accounts_client/routes.hpp"
#include "kiebot/base/ids.hpp"
#include "kiebot/runtime/net.hpp"

namespace kiebot::http {
class Client;
}

namespace kiebot::generator {

struct Settled {
  enum class Kind { done, conflict, not_found, retry };
  Kind kind = Kind::retry;
  int status = 0;
  std::string body;
};

using HoldInfo = accounts_api::HoldView;

struct HoldLookup {
  enum class Kind { found, not_found, retry };
  Kind kind = Kind::retry;
  int status = 0;
  std::string error;
};

class AccountsClient {
 public:
  AccountsClient(http::Client& client, std::string base, std::string token);
  // action: "commit" or "release".
  net::awaitable<Settled> settle(HoldId hold_id, std::string action);
  // Fills `out` when found.
  net::awaitable<HoldLookup> hold(HoldId hold_id, HoldInfo& out);

 private:
  http::Client& client_;
  std::string base_;
  std::string token_;
};

}  // namespace kiebot::generator
