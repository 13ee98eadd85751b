// A job's hold at accounts (see settlement.hpp).
#include "settlement.hpp"

#include "kiebot/accounts_client/client.hpp"

namespace kiebot::generator {

std::string_view to_string(Settlement action) {
  return action == Settlement::commit ? "commit" : "release";
}

net::awaitable<Settled> settle(accounts_api::Client& accounts, HoldId hold, Settlement action) {
  Settled s;
  try {
    accounts_api::Reply reply;
    if (action == Settlement::commit) {
      reply = co_await accounts.commit(std::move(hold));
    } else {
      reply = co_await accounts.release(std::move(hold));
    }
    s.status = reply.status;
    s.body = reply.body.dump();
    s.kind = reply.status == 200   ? Settled::Kind::done
             : reply.status == 409 ? Settled::Kind::conflict
             : reply.status == 404 ? Settled::Kind::not_found
                                   : Settled::Kind::retry;
  } catch (const accounts_api::Unavailable& e) {
    s.status = e.status();
    s.body = e.what();
  }
  co_return s;
}

net::awaitable<HoldLookup> look_up_hold(accounts_api::Client& accounts, HoldId hold) {
  HoldLookup lookup;
  accounts_api::Reply reply;
  try {
    reply = co_await accounts.hold(std::move(hold));
  } catch (const accounts_api::Unavailable& e) {
    lookup.status = e.status();
    lookup.error = e.what();
    co_return lookup;
  }
  lookup.status = reply.status;
  if (reply.status == 404) {
    lookup.kind = HoldLookup::Kind::not_found;
  } else if (reply.status != 200 || !reply.body.is_object()) {
    lookup.error = "accounts answered " + std::to_string(reply.status);
  } else {
    lookup.hold = accounts_api::read_hold_view(reply.body);
    lookup.kind = HoldLookup::Kind::found;
  }
  co_return lookup;
}

}  // namespace kiebot::generator
