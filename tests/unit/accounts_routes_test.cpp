// The accounts API declared once (kiebot/accounts_client/routes.hpp): paths
// filled from typed ids, bodies as docs/accounts-api.md shows them, and a
// hold read from an answer. The server routes these same declarations
// (services/accounts api.cpp); the integration tests call them over HTTP.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <set>

#include "kiebot/accounts_client/routes.hpp"
#include "kiebot/http/router.hpp"

using namespace kiebot;
namespace api = kiebot::accounts_api;
using nlohmann::json;

TEST(AccountsRoutes, PathsFromTypedIds) {
  EXPECT_EQ(api::path(api::kGetUser, UserId(42)), "/v1/users/42");
  EXPECT_EQ(api::path(api::kCreateHold, UserId(42)), "/v1/users/42/holds");
  EXPECT_EQ(api::path(api::kCommitHold, HoldId("42-0123456789abcdef")), "/v1/holds/42-0123456789abcdef/commit");
  EXPECT_EQ(api::path(api::kReleaseHold, HoldId("a/b?c")), "/v1/holds/a%2Fb%3Fc/release");
  EXPECT_EQ(api::path(api::kStats), "/v1/stats");
  EXPECT_EQ(api::kCredit.scope, "credit:");
}

TEST(AccountsRoutes, EveryRouteOnceAndRoutable) {
  std::set<std::pair<std::string_view, std::string_view>> seen;
  http::Router router;
  for (const auto& route : api::kRoutes) {
    EXPECT_TRUE(seen.emplace(route.method, route.pattern).second) << route.method << " " << route.pattern;
    EXPECT_FALSE(route.scope.empty());
    router.add(std::string(route.method), route.pattern,
               http::SyncHandler([](const http::Request&) { return http::Response::text(200, "ok"); }));
  }
  for (const auto& route : api::kRoutes) {
    http::Request request;
    request.method = std::string(route.method);
    request.target = route.pattern.find("{hold_id}") != std::string_view::npos ? api::path(route, HoldId("7-00"))
                                                                               : api::path(route, UserId(7));
    EXPECT_NE(router.match(request).handler, nullptr) << request.method << " " << request.target;
  }
}

TEST(AccountsRoutes, Bodies) {
  api::HoldRequest hold{Kopecks(15'050), "paid", "dlg-1", 900};
  EXPECT_EQ(api::to_json(hold), json::parse(R"({"amount":15050,"kind":"paid","idempotency_key":"dlg-1","ttl_s":900})"));
  hold.ttl_s.reset();
  EXPECT_FALSE(api::to_json(hold).contains("ttl_s"));
  api::MoneyRequest grant{Kopecks(500), "admin_grant", "k", "", UserId(9)};
  EXPECT_EQ(api::to_json(grant),
            json::parse(R"({"amount":500,"reason":"admin_grant","idempotency_key":"k","admin_id":9})"));
  api::MoneyRequest stars{Kopecks(500), "stars", "charge", "charge", std::nullopt};
  EXPECT_EQ(api::to_json(stars).at("ref"), "charge");
  EXPECT_FALSE(api::to_json(stars).contains("admin_id"));
  EXPECT_EQ(api::to_json(api::AdminRequest{Kopecks(10'000)}), json::parse(R"({"limit":10000})"));
  EXPECT_EQ(api::referral_body(UserId(5)), json::parse(R"({"referrer_id":5})"));
  EXPECT_EQ(api::language_body("en"), json::parse(R"({"language":"en"})"));
}

TEST(AccountsRoutes, HoldView) {
  auto view = api::read_hold_view(
      json::parse(R"({"state":"held","kind":"paid","user_id":42,"amount":314,"expires_ms":1000,"key":"dlg-42-abc"})"));
  EXPECT_EQ(view.state, "held");
  EXPECT_EQ(view.user_id, UserId(42));
  EXPECT_EQ(view.amount, Kopecks(314));
  EXPECT_EQ(view.expires_ms, 1000);
  EXPECT_EQ(view.key, "dlg-42-abc");
  auto odd = api::read_hold_view(json::parse(R"({"state":1,"amount":3.5,"user_id":"42"})"));
  EXPECT_EQ(odd.state, "");
  EXPECT_EQ(odd.amount, Kopecks());
  EXPECT_EQ(odd.user_id, UserId());
  EXPECT_EQ(api::read_hold_view(json::array()).state, "");
}
