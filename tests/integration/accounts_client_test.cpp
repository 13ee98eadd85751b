// The one accounts client (kiebot/accounts_client/client.hpp) against the
// real accounts binary and a real redis-server: every route it declares is
// reachable through it, with the scopes the dialog and the generator are
// deployed with; refusals come back as answers, an absent or misconfigured
// accounts as accounts_api::Unavailable.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <csignal>
#include <set>
#include <thread>

#include "kiebot/accounts_client/client.hpp"
#include "kiebot/http/client.hpp"
#include "process.hpp"
#include "redis_server.hpp"
#include "run.hpp"

using namespace kiebot;
using namespace std::chrono_literals;
namespace api = kiebot::accounts_api;

namespace {

constexpr const char* kDialogToken = "dialog-token-0123456789";
constexpr const char* kGeneratorToken = "generator-token-0123456789";
constexpr const char* kDialogScopes =
    "read,hold,settle,user,admin,credit:stars,credit:referral,credit:admin_grant,debit:stars_refund,debit:admin_debit";

struct AccountsClient : testing::Test {
  test::RedisServer redis{std::vector<std::string>{"--appendonly", "yes", "--appendfsync", "always"}};
  std::unique_ptr<test::Process> service;
  std::uint16_t port = 0;
  net::io_context io;
  http::Client http{io.get_executor()};

  void SetUp() override {
    std::string callers = std::string("dialog:") + kDialogToken + ":" + kDialogScopes + ";generator:" +
                          kGeneratorToken + ":read,settle";
    std::map<std::string, std::string> env{{"ACCOUNTS_TOKENS", callers}, {"REDIS_URL", redis.url()},
                                           {"HTTP_PORT", "0"},           {"OWNER_ID", "1"},
                                           {"ADMIN_IDS", "2"},           {"ADMIN_DEFAULT_LIMIT", "5000"}};
    service = std::make_unique<test::Process>(std::vector<std::string>{std::string(KIEBOT_BIN_DIR) + "/accounts"}, env);
    port = service->listening_port(10s);
    for (int i = 0; i < 200; ++i) {
      http::ClientRequest ready{"GET", "http://127.0.0.1:" + std::to_string(port) + "/readyz", {}, {}, 2s};
      try {
        if (test::run(io, http.send(std::move(ready))).status == 200) return;
      } catch (const http::ClientError&) {
      }
      std::this_thread::sleep_for(50ms);
    }
    FAIL() << "accounts never became ready: " << service->stderr_text();
  }

  api::Client client(const std::string& token) {
    return api::Client(http, "http://127.0.0.1:" + std::to_string(port) + "/", token, 5s);
  }

  template <class T>
  T run(net::awaitable<T> task) {
    return test::run(io, std::move(task));
  }
};

api::MoneyRequest money(std::int64_t kopecks, std::string reason, std::string key,
                        std::optional<UserId> admin = std::nullopt) {
  return api::MoneyRequest{Kopecks(kopecks), std::move(reason), std::move(key), "", admin};
}

}  // namespace

TEST_F(AccountsClient, EveryRouteAnswersTheDialogAndTheGeneratorWithTheirScopes) {
  auto dialog = client(kDialogToken);
  auto generator = client(kGeneratorToken);
  std::set<std::string> reached;  // route patterns answered 200
  auto ok = [&](const api::Route& route, const api::Reply& reply) {
    EXPECT_EQ(reply.status, 200) << route.method << " " << route.pattern << ": " << reply.body.dump();
    if (reply.ok()) reached.insert(std::string(route.method) + " " + std::string(route.pattern));
  };
  UserId user(500), referrer(501), admin(2);

  ok(api::kGetUser, run(dialog.user(user)));
  ok(api::kLanguage, run(dialog.set_language(user, "en")));
  EXPECT_EQ(run(dialog.user(user)).body.value("language", ""), "en");
  ok(api::kCredit, run(dialog.credit(user, money(10'000, "stars", "charge-1"))));
  ok(api::kDebit, run(dialog.debit(user, money(1'000, "stars_refund", "refund-1", UserId(1)))));
  ok(api::kGift, run(dialog.gift(user)));
  ok(api::kReferral, run(dialog.referral(user, referrer)));

  auto held = run(dialog.create_hold(user, api::HoldRequest{Kopecks(2'500), "paid", "job-1", 600}));
  ok(api::kCreateHold, held);
  HoldId first(held.body.value("hold_id", ""));
  auto seen = run(generator.hold(first));
  ok(api::kGetHold, seen);
  auto view = api::read_hold_view(seen.body);
  EXPECT_EQ(view.state, "held");
  EXPECT_EQ(view.user_id, user);
  EXPECT_EQ(view.amount, Kopecks(2'500));
  EXPECT_EQ(view.key, "job-1");
  ok(api::kCommitHold, run(generator.commit(first)));
  ok(api::kCommitHold, run(generator.commit(first)));  // idempotent

  auto second = run(dialog.create_hold(user, api::HoldRequest{Kopecks(500), "paid", "job-2", 600}));
  HoldId other(second.body.value("hold_id", ""));
  ok(api::kReleaseHold, run(generator.release(other)));
  EXPECT_EQ(run(generator.commit(other)).status, 409);  // released, then committed: a conflict, not an exception

  ok(api::kSetAdmin, run(dialog.set_admin(UserId(3), Kopecks(7'000))));
  auto admins = run(dialog.admins());
  ok(api::kListAdmins, admins);
  EXPECT_NE(admins.body.dump().find("7000"), std::string::npos) << admins.body.dump();
  ok(api::kCredit, run(dialog.credit(UserId(600), money(1'000, "admin_grant", "grant-1", admin))));
  ok(api::kRemoveAdmin, run(dialog.remove_admin(UserId(3))));

  auto ledger = run(dialog.ledger(user, 100));
  ok(api::kLedger, ledger);
  // stars credit, stars refund debit, the commit (a release leaves no entry);
  // gift and referral only when they pay out.
  EXPECT_GE(ledger.body["entries"].size(), 3u) << ledger.body.dump();
  auto balance = run(dialog.user(user)).body.value("balance", std::int64_t{-1});
  std::int64_t sum = 0;
  for (const auto& e : ledger.body["entries"]) sum += e.value("delta", std::int64_t{0});
  EXPECT_EQ(balance, sum);
  ok(api::kStats, run(generator.stats()));

  for (const auto& route : api::kRoutes) {
    EXPECT_TRUE(reached.count(std::string(route.method) + " " + std::string(route.pattern)))
        << "the client never reached " << route.method << " " << route.pattern;
  }
}

TEST_F(AccountsClient, ARefusalIsAnAnswerNotAnException) {
  auto generator = client(kGeneratorToken);
  // The generator's token cannot mint money: accounts says 403, and the
  // caller sees it as an answer it must not retry.
  auto refused = run(generator.credit(UserId(500), money(100, "stars", "mint-1")));
  EXPECT_EQ(refused.status, 403);
  EXPECT_FALSE(refused.error().empty()) << refused.body.dump();
  auto missing = run(generator.hold(HoldId("no-such-hold")));
  EXPECT_EQ(missing.status, 404);
  auto dialog = client(kDialogToken);
  auto poor = run(dialog.create_hold(UserId(501), api::HoldRequest{Kopecks(100), "paid", "job-poor", 600}));
  EXPECT_EQ(poor.status, 402) << poor.body.dump();
}

TEST_F(AccountsClient, AWrongTokenOrNoAccountsIsUnavailableAndTransient) {
  auto stranger = client("wrong-token-0123456789");
  try {
    run(stranger.user(UserId(1)));
    FAIL() << "a 401 came back as an answer";
  } catch (const api::Unavailable& e) {
    EXPECT_EQ(e.status(), 401);
    EXPECT_EQ(e.error_kind(), ErrorKind::transient);
  }
  service->stop(SIGTERM, 10s);
  auto dialog = client(kDialogToken);
  try {
    run(dialog.user(UserId(1)));
    FAIL() << "a stopped accounts answered";
  } catch (const api::Unavailable& e) {
    EXPECT_EQ(e.status(), 0);
    EXPECT_NE(std::string(e.what()).find("GET /v1/users/1"), std::string::npos) << e.what();
  }
}
