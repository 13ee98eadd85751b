// Accounts callers: ACCOUNTS_TOKENS parsing, authentication and scopes.
#include <gtest/gtest.h>

#include <stdexcept>

#include "callers.hpp"

using namespace kiebot::accounts;

namespace {
constexpr const char* kSpec =
    "generator:generator-token-0001:read,settle; ingress : ingress-token-000001 : read,hold,settle,credit:stars\n"
    "ops:ops-token-00000000001:*";
}

TEST(AccountsCallers, ParsesEntriesAndScopes) {
  auto callers = Callers::parse(kSpec);
  ASSERT_EQ(callers.all().size(), 3u);
  const auto* gen = callers.authenticate("Bearer generator-token-0001");
  ASSERT_NE(gen, nullptr);
  EXPECT_EQ(gen->name, "generator");
  EXPECT_TRUE(gen->may("settle"));
  EXPECT_TRUE(gen->may("read"));
  EXPECT_FALSE(gen->may("credit:stars"));
  EXPECT_FALSE(gen->may("hold"));
  EXPECT_FALSE(gen->may("admin"));
  const auto* ingress = callers.authenticate("Bearer ingress-token-000001");
  ASSERT_NE(ingress, nullptr);
  EXPECT_EQ(ingress->name, "ingress");
  EXPECT_TRUE(ingress->may("credit:stars"));
  EXPECT_FALSE(ingress->may("credit:admin_grant"));
  const auto* ops = callers.authenticate("Bearer ops-token-00000000001");
  ASSERT_NE(ops, nullptr);
  EXPECT_TRUE(ops->may("admin"));
  EXPECT_TRUE(ops->may("debit:admin_debit"));
}

TEST(AccountsCallers, AuthenticatesOnlyExactBearerTokens) {
  auto callers = Callers::parse(kSpec);
  EXPECT_EQ(callers.authenticate(std::nullopt), nullptr);
  EXPECT_EQ(callers.authenticate(""), nullptr);
  EXPECT_EQ(callers.authenticate("Bearer "), nullptr);
  EXPECT_EQ(callers.authenticate("generator-token-0001"), nullptr);
  EXPECT_EQ(callers.authenticate("Bearer generator-token-000"), nullptr);
  EXPECT_EQ(callers.authenticate("Bearer generator-token-00011"), nullptr);
  EXPECT_EQ(callers.authenticate("Basic generator-token-0001"), nullptr);
}

TEST(AccountsCallers, RefusesBadSpecsWithoutShowingTokens) {
  for (const char* bad : {"", " ; ", "generator", "generator:generator-token-0001",
                          "generator:generator-token-0001:", "generator:short:read",
                          "generator:generator token 0001:read", "gen erator:generator-token-0001:read",
                          "generator:generator-token-0001:read,mint", "generator:generator-token-0001:credit:*",
                          "a:generator-token-0001:read;a:generator-token-0002:read",
                          "a:generator-token-0001:read;b:generator-token-0001:read"}) {
    try {
      Callers::parse(bad);
      ADD_FAILURE() << "accepted: " << bad;
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(std::string(e.what()).find("generator-token"), std::string::npos) << e.what();
    }
  }
}

TEST(AccountsCallers, KnownScopes) {
  for (const char* scope : {"read", "hold", "settle", "user", "admin", "credit:stars", "credit:referral",
                            "credit:admin_grant", "credit:topup", "credit:refund", "debit:stars_refund",
                            "debit:admin_debit", "*"}) {
    EXPECT_TRUE(known_scope(scope)) << scope;
  }
  EXPECT_FALSE(known_scope("credit:"));
  EXPECT_FALSE(known_scope("write"));
}
