// What accounts says about a job's hold, read the generator's way: the
// hold's terms before the job runs, and its settlement (commit once on
// success, release once on failure; both idempotent at accounts). Both go
// through the shared accounts client (kiebot/accounts_client/client.hpp).
#pragma once

#include <string>

#include "kiebot/accounts_client/routes.hpp"
#include "kiebot/base/ids.hpp"
#include "kiebot/runtime/net.hpp"

namespace kiebot::accounts_api {
class Client;
}

namespace kiebot::generator {

struct Settled {
  enum class Kind { done, conflict, not_found, retry };
  Kind kind = Kind::retry;
  int status = 0;    // accounts' answer, 0 when none came
  std::string body;  // its body, or why none came
};

enum class Settlement { commit, release };

std::string_view to_string(Settlement action);

// Commit and release take effect once; repeating them is safe, so any
// answer short of a definite one reads as retry.
net::awaitable<Settled> settle(accounts_api::Client& accounts, HoldId hold, Settlement action);

using HoldInfo = accounts_api::HoldView;

struct HoldLookup {
  enum class Kind { found, not_found, retry };
  Kind kind = Kind::retry;
  int status = 0;
  std::string error;
  HoldInfo hold;  // when found
};

net::awaitable<HoldLookup> look_up_hold(accounts_api::Client& accounts, HoldId hold);

}  // namespace kiebot::generator
