// The accounts HTTP API (docs/accounts-api.md) declared once: each route's
// method, path pattern and caller scope, and the request and answer bodies,
// for the server (services/accounts) and its clients (the generator and the
// dialog) alike.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "kiebot/base/ids.hpp"
#include "kiebot/base/money.hpp"

namespace kiebot::accounts_api {

struct Route {
  std::string_view method;
  std::string_view pattern;  // as http::Router takes it; at most one {parameter}
  // The caller scope the route needs whatever its body says. "credit:" and
  // "debit:" stand for "credit:<reason>" and "debit:<reason>", checked once
  // the body is read.
  std::string_view scope;
};

inline constexpr Route kGetUser{"GET", "/v1/users/{id}", "read"};
inline constexpr Route kCreateHold{"POST", "/v1/users/{id}/holds", "hold"};
inline constexpr Route kGetHold{"GET", "/v1/holds/{hold_id}", "read"};
inline constexpr Route kCommitHold{"POST", "/v1/holds/{hold_id}/commit", "settle"};
inline constexpr Route kReleaseHold{"POST", "/v1/holds/{hold_id}/release", "settle"};
inline constexpr Route kCredit{"POST", "/v1/users/{id}/credits", "credit:"};
inline constexpr Route kDebit{"POST", "/v1/users/{id}/debits", "debit:"};
inline constexpr Route kGift{"POST", "/v1/users/{id}/gift", "user"};
inline constexpr Route kLanguage{"PUT", "/v1/users/{id}/language", "user"};
inline constexpr Route kReferral{"POST", "/v1/users/{id}/referral", "user"};
inline constexpr Route kSetAdmin{"PUT", "/v1/admins/{id}", "admin"};
inline constexpr Route kRemoveAdmin{"DELETE", "/v1/admins/{id}", "admin"};
inline constexpr Route kListAdmins{"GET", "/v1/admins", "read"};
inline constexpr Route kLedger{"GET", "/v1/users/{id}/ledger", "read"};
inline constexpr Route kStats{"GET", "/v1/stats", "read"};

inline constexpr std::array kRoutes{kGetUser,  kCreateHold,  kGetHold,    kCommitHold, kReleaseHold,
                                    kCredit,   kDebit,       kGift,       kLanguage,   kReferral,
                                    kSetAdmin, kRemoveAdmin, kListAdmins, kLedger,     kStats};

// The route's path with its parameter filled in, percent-encoded.
std::string path(const Route& route);
std::string path(const Route& route, UserId user);
std::string path(const Route& route, const HoldId& hold);

// POST /v1/users/{id}/holds
struct HoldRequest {
  Kopecks amount;
  std::string kind;  // paid, free or admin
  std::string idempotency_key;
  std::optional<std::int64_t> ttl_s;
};

// POST /v1/users/{id}/credits and /debits
struct MoneyRequest {
  Kopecks amount;
  std::string reason;
  std::string idempotency_key;
  std::string ref;                 // empty: none
  std::optional<UserId> admin_id;  // the admin of an admin_grant or admin_debit
};

// PUT /v1/admins/{id}
struct AdminRequest {
  Kopecks limit;
};

nlohmann::json to_json(const HoldRequest& request);
nlohmann::json to_json(const MoneyRequest& request);
nlohmann::json to_json(const AdminRequest& request);
nlohmann::json language_body(std::string_view language);  // PUT /v1/users/{id}/language
nlohmann::json referral_body(UserId referrer);            // POST /v1/users/{id}/referral

// GET /v1/holds/{hold_id}
struct HoldView {
  std::string state;  // held, committed, released, expired
  std::string kind;   // paid, free, admin
  UserId user_id;
  Kopecks amount;
  std::int64_t expires_ms = 0;
  std::string key;  // the idempotency key it was made with (the generator's: the job id)
};

// Reads an answer's body; a field absent or of another type reads as empty or zero.
HoldView read_hold_view(const nlohmann::json& body);

}  // namespace kiebot::accounts_api
