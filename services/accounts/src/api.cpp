// The accounts HTTP JSON API: authentication, validation, store calls.
#include "api.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <memory>

#include "callers.hpp"
#include "kiebot/accounts_client/routes.hpp"
#include "kiebot/base/errors.hpp"
#include "kiebot/base/log.hpp"
#include "kiebot/redis/redis.hpp"
#include "store.hpp"
#include "validate.hpp"

namespace kiebot::accounts {

namespace {

enum class Route {
  get_user,
  create_hold,
  get_hold,
  commit_hold,
  release_hold,
  credit,
  debit,
  gift,
  language,
  referral,
  set_admin,
  remove_admin,
  list_admins,
  ledger,
  stats,
};

struct Api {
  Store* store;
  Callers callers;
};

bool may_route(const Caller& caller, std::string_view scope) {
  if (!scope.ends_with(':')) return caller.may(scope);
  return std::any_of(caller.scopes.begin(), caller.scopes.end(),
                     [&](const std::string& s) { return s == "*" || s.starts_with(scope); });
}

Outcome forbidden(const Caller& caller, std::string_view scope, std::string_view path) {
  log::warn("accounts_forbidden", {{"caller", caller.name}, {"scope", scope}, {"path", path}});
  return Outcome{403,
                 {{"error", "forbidden"}, {"message", "caller " + caller.name + " lacks scope " + std::string(scope)}}};
}

// Runs on the headers alone (before the body is read): who calls, and may
// they use this route at all.
std::optional<http::Response> admit(const Api& api, std::string_view scope, const http::Request& head) {
  const auto* caller = api.callers.authenticate(head.header("authorization"));
  if (caller == nullptr) return http::Response::error(401, "unauthorized", "missing or invalid bearer token");
  if (!may_route(*caller, scope)) {
    auto out = forbidden(*caller, scope, std::string_view(head.target).substr(0, head.target.find('?')));
    return http::Response::json(out.status, out.body);
  }
  return std::nullopt;
}

UserId user_param(const http::Request& request) {
  auto id = parse_user_id(request.params.at("id"));
  if (!id) throw http::BadRequest{400, "invalid_user_id", "user id must be a positive integer"};
  return UserId(*id);
}

std::optional<std::int64_t> admin_field(const nlohmann::json& body) {
  auto id = optional_int_field(body, "admin_id", 1, (std::int64_t{1} << 53) - 1);
  return id;
}

http::Response respond(Outcome out) {
  return http::Response::json(out.status, out.body);
}

// The routes of a user's account: profile, gift, language, referral.
net::awaitable<Outcome> user_route(Store* store, Route which, http::Request request) {
  switch (which) {
    case Route::get_user:
      co_return co_await store->user(user_param(request));
    case Route::gift:
      co_return co_await store->gift(user_param(request));
    case Route::language: {
      auto uid = user_param(request);
      auto body = object_body(request.body);
      auto language = enum_field(body, "language", {"ru", "en"});
      co_return co_await store->language(uid, language);
    }
    case Route::referral: {
      auto uid = user_param(request);
      auto body = object_body(request.body);
      auto field = body.find("referrer_id");
      if (field == body.end() || !field->is_number_integer()) {
        throw http::BadRequest{400, "invalid_user_id", "referrer_id must be a positive integer"};
      }
      auto referrer = parse_user_id(std::to_string(field->get<std::int64_t>()));
      if (!referrer) throw http::BadRequest{400, "invalid_user_id", "referrer_id must be a positive integer"};
      if (UserId(*referrer) == uid) throw http::BadRequest{400, "self_referral", "a user cannot refer themselves"};
      co_return co_await store->referral(uid, UserId(*referrer));
    }
    default:
      break;
  }
  throw std::logic_error("not a user route");
}

net::awaitable<Outcome> hold_route(Store* store, Route which, http::Request request) {
  switch (which) {
    case Route::create_hold: {
      auto uid = user_param(request);
      auto body = object_body(request.body);
      // Read in this order (a braced list is evaluated left to right): the
      // first bad field is the one answered.
      accounts_api::HoldRequest hold{amount_field(body, "amount"), enum_field(body, "kind", {"paid", "free", "admin"}),
                                     key_field(body, "idempotency_key"),
                                     optional_int_field(body, "ttl_s", 1, 7 * 86400)};
      co_return co_await store->hold(uid, hold.kind, hold.amount, hold.idempotency_key, hold.ttl_s);
    }
    case Route::get_hold:
      co_return co_await store->hold_info(HoldId(request.params.at("hold_id")));
    case Route::commit_hold:
      co_return co_await store->settle(HoldId(request.params.at("hold_id")), "commit");
    case Route::release_hold:
      co_return co_await store->settle(HoldId(request.params.at("hold_id")), "release");
    default:
      break;
  }
  throw std::logic_error("not a hold route");
}

net::awaitable<Outcome> credit_route(Store* store, http::Request request, const Caller* caller) {
  auto uid = user_param(request);
  auto body = object_body(request.body);
  auto amount = amount_field(body, "amount");
  auto reason = enum_field(body, "reason", {"topup", "admin_grant", "refund", "referral", "stars"});
  if (!caller->may("credit:" + reason)) co_return forbidden(*caller, "credit:" + reason, request.path);
  auto key = key_field(body, "idempotency_key");
  auto ref = optional_string_field(body, "ref", 200);
  auto admin = admin_field(body);
  if (reason == "admin_grant" && !admin) {
    throw http::BadRequest{400, "missing_field", "admin_id is required for an admin_grant"};
  }
  if (reason != "admin_grant") admin.reset();
  co_return co_await store->credit(uid, amount, reason, key, ref, admin);
}

net::awaitable<Outcome> debit_route(Store* store, http::Request request, const Caller* caller) {
  auto uid = user_param(request);
  auto body = object_body(request.body);
  auto amount = amount_field(body, "amount");
  auto reason = enum_field(body, "reason", {"stars_refund", "admin_debit"});
  if (!caller->may("debit:" + reason)) co_return forbidden(*caller, "debit:" + reason, request.path);
  auto key = key_field(body, "idempotency_key");
  auto ref = optional_string_field(body, "ref", 200);
  auto admin = admin_field(body);
  if (reason == "admin_debit") {
    // A correction of someone's balance is the owner's alone.
    if (!admin) throw http::BadRequest{400, "missing_field", "admin_id is required for an admin_debit"};
    if (store->settings().owner_id != *admin) {
      co_return Outcome{403, {{"error", "not_owner"}, {"message", "only the owner may debit a balance"}}};
    }
  }
  co_return co_await store->debit(uid, amount, reason, key, ref, admin);
}

net::awaitable<Outcome> admin_route(Store* store, Route which, http::Request request) {
  switch (which) {
    case Route::set_admin: {
      auto uid = user_param(request);
      auto body = object_body(request.body);
      auto limit = optional_int_field(body, "limit", 0, kMaxAmount.count());
      if (!limit) throw http::BadRequest{400, "missing_field", "limit is required (kopecks)"};
      co_return co_await store->admin(uid, "set", Kopecks(*limit));
    }
    case Route::remove_admin:
      co_return co_await store->admin(user_param(request), "remove", Kopecks());
    case Route::list_admins:
      co_return co_await store->admins();
    default:
      break;
  }
  throw std::logic_error("not an admin route");
}

// The read-only reports: a user's ledger, the totals.
net::awaitable<Outcome> stats_route(Store* store, Route which, http::Request request) {
  switch (which) {
    case Route::ledger: {
      auto uid = user_param(request);
      std::int64_t limit = 50;
      if (auto text = request.query("limit")) {
        auto parsed = parse_user_id(*text);
        if (!parsed || *parsed > 1000) throw http::BadRequest{400, "invalid_limit", "limit must be 1-1000"};
        limit = *parsed;
      }
      co_return co_await store->ledger(uid, limit);
    }
    case Route::stats:
      co_return co_await store->stats();
    default:
      break;
  }
  throw std::logic_error("not a stats route");
}

net::awaitable<Outcome> route(std::shared_ptr<Api> api, Route which, http::Request request, const Caller* caller) {
  auto* store = api->store;
  switch (which) {
    case Route::get_user:
    case Route::gift:
    case Route::language:
    case Route::referral:
      co_return co_await user_route(store, which, std::move(request));
    case Route::create_hold:
    case Route::get_hold:
    case Route::commit_hold:
    case Route::release_hold:
      co_return co_await hold_route(store, which, std::move(request));
    case Route::credit:
      co_return co_await credit_route(store, std::move(request), caller);
    case Route::debit:
      co_return co_await debit_route(store, std::move(request), caller);
    case Route::set_admin:
    case Route::remove_admin:
    case Route::list_admins:
      co_return co_await admin_route(store, which, std::move(request));
    case Route::ledger:
    case Route::stats:
      co_return co_await stats_route(store, which, std::move(request));
  }
  throw std::logic_error("unhandled accounts route");
}

net::awaitable<http::Response> handle(std::shared_ptr<Api> api, Route which, http::Request request) {
  // The router's guard (admit) has let this caller through.
  const auto* caller = api->callers.authenticate(request.header("authorization"));
  auto path = request.path;
  std::exception_ptr failure;
  try {
    co_return respond(co_await route(api, which, std::move(request), caller));
  } catch (const NotReplicated& e) {
    report_error("accounts_not_replicated", std::current_exception(), {{"path", path}});
    co_return http::Response::error(503, "not_replicated",
                                    "the change is not on enough replicas yet: retry with the same idempotency key");
  } catch (...) {
    failure = std::current_exception();
  }
  // Storage away: the caller retries with the same key. Anything else (a
  // refused request, or a bug such as a script's error) goes to the router,
  // which answers 4xx, or 500 and reports the bug.
  if (error_kind(failure) != ErrorKind::transient) std::rethrow_exception(failure);
  report_error("accounts_unavailable", failure, {{"path", path}});
  co_return http::Response::error(503, "unavailable", "storage is unavailable, retry later");
}

}  // namespace

http::Router make_router(Store& store, Callers callers, ReadinessChecks readiness) {
  auto api = std::make_shared<Api>(Api{&store, std::move(callers)});
  http::Router router;
  add_health_routes(router, std::move(readiness));
  // Method, pattern and scope as accounts_routes.hpp declares them for the clients too.
  auto add = [&](const accounts_api::Route& declared, Route which) {
    std::string_view scope = declared.scope;
    router.add(std::string(declared.method), declared.pattern,
               http::Handler([api, which](http::Request r) { return handle(api, which, std::move(r)); }),
               http::Guard([api, scope](const http::Request& head) { return admit(*api, scope, head); }));
  };
  add(accounts_api::kGetUser, Route::get_user);
  add(accounts_api::kCreateHold, Route::create_hold);
  add(accounts_api::kGetHold, Route::get_hold);
  add(accounts_api::kCommitHold, Route::commit_hold);
  add(accounts_api::kReleaseHold, Route::release_hold);
  add(accounts_api::kCredit, Route::credit);
  add(accounts_api::kDebit, Route::debit);
  add(accounts_api::kGift, Route::gift);
  add(accounts_api::kLanguage, Route::language);
  add(accounts_api::kReferral, Route::referral);
  add(accounts_api::kSetAdmin, Route::set_admin);
  add(accounts_api::kRemoveAdmin, Route::remove_admin);
  add(accounts_api::kListAdmins, Route::list_admins);
  add(accounts_api::kLedger, Route::ledger);
  add(accounts_api::kStats, Route::stats);
  return router;
}

}  // namespace kiebot::accounts
