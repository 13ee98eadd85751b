// accounts over HTTP against a real redis-server: money moves exactly once.
#include <gtest/gtest.h>

#include <signal.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include <thread>

#include "accounts_fixture.hpp"
#include "kiebot/http/client.hpp"
#include "process.hpp"
#include "redis_server.hpp"
#include "run.hpp"

using namespace kiebot;
using namespace std::chrono_literals;
using nlohmann::json;
using test::Accounts;
using test::kToken;

namespace {

std::map<int, int> by_status(const std::vector<http::Response>& answers) {
  std::map<int, int> out;
  for (const auto& a : answers) ++out[a.status];
  return out;
}

}  // namespace

TEST_F(Accounts, ThousandConcurrentHoldsNeverOverdraw) {
  credit(100, 10'000, "topup-1");  // 100 roubles
  std::vector<http::ClientRequest> holds;
  for (int i = 0; i < 1000; ++i) {
    json body = {{"amount", 100}, {"kind", "paid"}, {"idempotency_key", "job-" + std::to_string(i)}};
    holds.push_back(request("POST", "/v1/users/100/holds", body.dump()));
  }
  auto answers = concurrently(std::move(holds));
  auto statuses = by_status(answers);
  EXPECT_EQ(statuses[200], 100);
  EXPECT_EQ(statuses[402], 900);
  for (const auto& a : answers) {
    if (a.status == 402) {
      EXPECT_EQ(a.json()["error"], "insufficient_funds");
    } else {
      EXPECT_GE(a.json()["balance"].get<std::int64_t>(), 0);
    }
  }
  auto user = get("/v1/users/100");
  EXPECT_EQ(user["balance"], 0);
  EXPECT_EQ(user["held"], 10'000);
  EXPECT_EQ(ledger_sum(100), 0);  // +10000 credited, 100 holds of -100
  EXPECT_EQ(get("/v1/stats")["holds_open"], 100);
}

TEST_F(Accounts, SameIdempotencyKeyFiftyTimesCreditsOnce) {
  std::vector<http::ClientRequest> credits;
  for (int i = 0; i < 50; ++i) {
    json body = {{"amount", 15'000}, {"reason", "stars"}, {"idempotency_key", "tg-charge-abc123"}};
    credits.push_back(request("POST", "/v1/users/7/credits", body.dump()));
  }
  auto answers = concurrently(std::move(credits));
  EXPECT_EQ(by_status(answers)[200], 50);
  int credited = 0;
  for (const auto& a : answers) credited += a.json()["credited"].get<bool>() ? 1 : 0;
  EXPECT_EQ(credited, 1);
  EXPECT_EQ(get("/v1/users/7")["balance"], 15'000);
  EXPECT_EQ(ledger_sum(7), 15'000);
  // The same key with another amount is a client bug, not a second payment.
  auto reused =
      post("/v1/users/7/credits", {{"amount", 1}, {"reason", "stars"}, {"idempotency_key", "tg-charge-abc123"}});
  EXPECT_EQ(reused.status, 409);
  EXPECT_EQ(get("/v1/users/7")["balance"], 15'000);
}

TEST_F(Accounts, ConcurrentGiftClaimsPayOnce) {
  std::vector<http::ClientRequest> claims;
  for (int i = 0; i < 30; ++i) claims.push_back(request("POST", "/v1/users/9/gift", ""));
  auto answers = concurrently(std::move(claims));
  auto statuses = by_status(answers);
  EXPECT_EQ(statuses[200], 1);
  EXPECT_EQ(statuses[409], 29);
  auto user = get("/v1/users/9");
  EXPECT_TRUE(user["gift_claimed"].get<bool>());
  auto balance = user["balance"].get<std::int64_t>();
  EXPECT_GE(balance, 1'000);
  EXPECT_LE(balance, 3'000);
  EXPECT_EQ(ledger_sum(9), balance);
}

TEST_F(Accounts, HoldsCommitOnceReleaseOnceAndExpire) {
  credit(5, 1'000, "c1");
  auto hold = [&](const std::string& key, int ttl_s) {
    auto r = post("/v1/users/5/holds", {{"amount", 300}, {"kind", "paid"}, {"idempotency_key", key}, {"ttl_s", ttl_s}});
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json()["hold_id"].get<std::string>();
  };
  // Commit once; repeating returns the same answer; release afterwards is refused.
  auto a = hold("a", 3600);
  auto first = post("/v1/holds/" + a + "/commit", json::object());
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.json()["state"], "committed");
  auto again = post("/v1/holds/" + a + "/commit", json::object());
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body, first.body);
  auto late_release = post("/v1/holds/" + a + "/release", json::object());
  EXPECT_EQ(late_release.status, 409);
  EXPECT_EQ(late_release.json()["error"], "hold_committed");

  // Release once; commit afterwards is refused; the money is back.
  auto b = hold("b", 3600);
  EXPECT_EQ(post("/v1/holds/" + b + "/release", json::object()).status, 200);
  EXPECT_EQ(post("/v1/holds/" + b + "/release", json::object()).status, 200);
  auto late_commit = post("/v1/holds/" + b + "/commit", json::object());
  EXPECT_EQ(late_commit.status, 409);
  EXPECT_EQ(late_commit.json()["error"], "hold_released");
  EXPECT_EQ(get("/v1/users/5")["balance"], 700);

  // A hold left alone expires into a release; committing it then is refused.
  auto c = hold("c", 1);
  EXPECT_EQ(get("/v1/users/5")["balance"], 400);
  std::this_thread::sleep_for(2500ms);  // the sweeper runs every second
  EXPECT_EQ(get("/v1/stats")["holds_open"], 0);
  auto expired = post("/v1/holds/" + c + "/commit", json::object());
  EXPECT_EQ(expired.status, 409);
  EXPECT_EQ(expired.json()["error"], "hold_expired");
  auto user = get("/v1/users/5");
  EXPECT_EQ(user["balance"], 700);
  EXPECT_EQ(user["held"], 0);
  EXPECT_EQ(ledger_sum(5), 700);
  EXPECT_EQ(post("/v1/holds/5-0123456789abcdef/commit", json::object()).status, 404);
  EXPECT_EQ(post("/v1/holds/nonsense/commit", json::object()).status, 404);
}

TEST_F(Accounts, FreeGenerationsAndReferrals) {
  for (int i = 0; i < 5; ++i) {
    auto r =
        post("/v1/users/20/holds", {{"amount", 1}, {"kind", "free"}, {"idempotency_key", "f" + std::to_string(i)}});
    ASSERT_EQ(r.status, 200) << r.body;
    if (i == 0) {
      EXPECT_EQ(post("/v1/holds/" + r.json()["hold_id"].get<std::string>() + "/commit", json::object()).status, 200);
    }
  }
  auto none = post("/v1/users/20/holds", {{"amount", 1}, {"kind", "free"}, {"idempotency_key", "f5"}});
  EXPECT_EQ(none.status, 402);
  EXPECT_EQ(none.json()["error"], "no_free_generations");
  EXPECT_EQ(get("/v1/users/20")["free"]["remaining"], 0);

  // A new user referred: both get the bonus, once.
  auto referral = post("/v1/users/25/referral", {{"referrer_id", 21}});
  ASSERT_EQ(referral.status, 200) << referral.body;
  EXPECT_TRUE(referral.json()["rewarded"].get<bool>());
  EXPECT_EQ(post("/v1/users/25/referral", {{"referrer_id", 21}}).status, 200);  // a retry, not a second bonus
  EXPECT_EQ(post("/v1/users/25/referral", {{"referrer_id", 22}}).status, 409);
  EXPECT_EQ(get("/v1/users/25")["free"]["remaining"], 15);
  EXPECT_EQ(get("/v1/users/25")["referrer_id"], 21);
  auto referrer = get("/v1/users/21");
  EXPECT_EQ(referrer["referrals"], 1);
  EXPECT_EQ(referrer["free"]["remaining"], 15);

  // User 20 has used the bot already: joins, and nobody gets a bonus.
  auto farmed = post("/v1/users/20/referral", {{"referrer_id", 21}});
  ASSERT_EQ(farmed.status, 200) << farmed.body;
  EXPECT_FALSE(farmed.json()["rewarded"].get<bool>());
  EXPECT_EQ(get("/v1/users/20")["referrer_id"], 21);
  EXPECT_EQ(get("/v1/users/20")["free"]["remaining"], 0);
  EXPECT_EQ(get("/v1/users/21")["referrals"], 2);
  EXPECT_EQ(get("/v1/users/21")["free"]["remaining"], 15);

  // A released free generation comes back.
  ASSERT_EQ(post("/v1/users/25/holds", {{"amount", 1}, {"kind", "free"}, {"idempotency_key", "x"}}).status, 200);
  auto r = post("/v1/users/25/holds", {{"amount", 1}, {"kind", "free"}, {"idempotency_key", "f6"}});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(get("/v1/users/25")["free"]["remaining"], 13);
  EXPECT_EQ(post("/v1/holds/" + r.json()["hold_id"].get<std::string>() + "/release", json::object()).status, 200);
  EXPECT_EQ(get("/v1/users/25")["free"]["remaining"], 14);
}

TEST_F(Accounts, ReferralBonusesAreCappedPerReferrerAndDay) {
  service->stop(SIGTERM, 5s);
  start({{"REFERRAL_DAILY_CAP", "2"}, {"REFERRAL_NEW_WINDOW_S", "1"}});
  for (int referee : {51, 52, 53}) {
    auto joined = post("/v1/users/" + std::to_string(referee) + "/referral", {{"referrer_id", 50}});
    ASSERT_EQ(joined.status, 200) << joined.body;
    EXPECT_EQ(joined.json()["rewarded"].get<bool>(), referee != 53) << referee;
    EXPECT_EQ(get("/v1/users/" + std::to_string(referee))["referrer_id"], 50);  // everyone joins
  }
  auto referrer = get("/v1/users/50");
  EXPECT_EQ(referrer["referrals"], 3);
  EXPECT_EQ(referrer["free"]["bank"], 20);
  EXPECT_EQ(get("/v1/users/53")["free"]["bank"], 0);
  // First seen longer ago than the window: not new.
  EXPECT_EQ(call("PUT", "/v1/users/54/language", R"({"language":"en"})").status, 200);
  std::this_thread::sleep_for(1500ms);
  auto late = post("/v1/users/54/referral", {{"referrer_id", 55}});
  ASSERT_EQ(late.status, 200);
  EXPECT_FALSE(late.json()["rewarded"].get<bool>());
}

TEST_F(Accounts, AdminsOwnerAndLanguage) {
  // ADMIN_IDS=2 with ADMIN_DEFAULT_LIMIT=5000; OWNER_ID=1 has no limit.
  auto admin = get("/v1/users/2");
  EXPECT_TRUE(admin["is_admin"].get<bool>());
  EXPECT_EQ(admin["admin"]["limit"], 5'000);
  auto ok = post("/v1/users/2/holds", {{"amount", 4'000}, {"kind", "admin"}, {"idempotency_key", "a1"}});
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(post("/v1/holds/" + ok.json()["hold_id"].get<std::string>() + "/commit", json::object()).status, 200);
  auto over = post("/v1/users/2/holds", {{"amount", 1'001}, {"kind", "admin"}, {"idempotency_key", "a2"}});
  EXPECT_EQ(over.status, 402);
  EXPECT_EQ(over.json()["error"], "admin_limit_reached");
  EXPECT_EQ(get("/v1/users/2")["admin"]["remaining"], 1'000);
  EXPECT_EQ(post("/v1/users/1/holds", {{"amount", 100'000'000}, {"kind", "admin"}, {"idempotency_key", "o1"}}).status,
            200);
  EXPECT_EQ(post("/v1/users/8/holds", {{"amount", 1}, {"kind", "admin"}, {"idempotency_key", "x"}}).status, 403);

  EXPECT_EQ(call("PUT", "/v1/admins/8", R"({"limit":20000})").status, 200);
  EXPECT_EQ(get("/v1/users/8")["admin"]["remaining"], 20'000);
  auto admins = get("/v1/admins")["admins"];
  EXPECT_EQ(admins.size(), 3u);  // owner 1, admins 2 and 8
  EXPECT_EQ(call("DELETE", "/v1/admins/8").status, 200);
  EXPECT_FALSE(get("/v1/users/8")["is_admin"].get<bool>());
  EXPECT_EQ(get("/v1/admins")["admins"].size(), 2u);

  EXPECT_TRUE(get("/v1/users/30")["language"].is_null());
  EXPECT_EQ(call("PUT", "/v1/users/30/language", R"({"language":"en"})").status, 200);
  EXPECT_EQ(get("/v1/users/30")["language"], "en");
  EXPECT_GE(get("/v1/stats")["users"].get<int>(), 4);
}

TEST_F(Accounts, EveryCreditReasonReplaysItsFirstAnswer) {
  // credit.lua once matched reasons with %a+, so admin_grant (an underscore)
  // answered a replay with 409.
  for (std::string reason : {"topup", "admin_grant", "refund", "referral", "stars"}) {
    json body = {{"amount", 700}, {"reason", reason}, {"idempotency_key", "replay-" + reason}};
    if (reason == "admin_grant") body["admin_id"] = 1;
    auto first = post("/v1/users/40/credits", body);
    ASSERT_EQ(first.status, 200) << reason << ": " << first.body;
    auto again = post("/v1/users/40/credits", body);
    ASSERT_EQ(again.status, 200) << reason << ": " << again.body;
    EXPECT_TRUE(again.json()["replayed"].get<bool>()) << reason;
    EXPECT_EQ(again.json()["balance"], first.json()["balance"]) << reason;
  }
  EXPECT_EQ(get("/v1/users/40")["balance"], 3'500);
}

TEST_F(Accounts, AdminGrantsCountAgainstTheAdminsLimit) {
  // ADMIN_IDS=2 with a limit of 5000; OWNER_ID=1 has none.
  auto grant = [&](std::int64_t admin, std::int64_t amount, const std::string& key) {
    json body = {{"amount", amount}, {"reason", "admin_grant"}, {"idempotency_key", key}};
    if (admin > 0) body["admin_id"] = admin;
    return post("/v1/users/41/credits", body);
  };
  auto unnamed = grant(0, 100, "g0");
  EXPECT_EQ(unnamed.status, 400);
  EXPECT_EQ(unnamed.json()["error"], "missing_field");
  auto stranger = grant(42, 100, "g1");
  EXPECT_EQ(stranger.status, 403);
  EXPECT_EQ(stranger.json()["error"], "not_admin");
  EXPECT_EQ(grant(2, 3'000, "g2").status, 200);
  EXPECT_EQ(grant(2, 3'000, "g2").status, 200);  // a replay counts once
  auto over = grant(2, 2'001, "g3");
  EXPECT_EQ(over.status, 403);
  EXPECT_EQ(over.json()["error"], "over_admin_limit");
  EXPECT_EQ(over.json()["remaining"], 2'000);
  EXPECT_EQ(grant(2, 2'000, "g4").status, 200);
  EXPECT_EQ(get("/v1/users/2")["admin"]["remaining"], 0);
  EXPECT_EQ(grant(1, 1'000'000, "g5").status, 200);  // the owner
  EXPECT_EQ(get("/v1/users/41")["balance"], 1'005'000);
  auto target = get("/v1/users/41/ledger?limit=10")["entries"];
  EXPECT_EQ(target.size(), 3u);
  EXPECT_EQ(target[0]["admin_id"], "1");
  auto admin = get("/v1/users/2/ledger?limit=10")["entries"][0];
  EXPECT_EQ(admin["op"], "admin_grant");
  EXPECT_EQ(admin["user_id"], "41");
  auto stats = get("/v1/stats");
  EXPECT_EQ(stats["money_admin_granted"], 1'005'000);
  EXPECT_EQ(stats["money_in"], 0);
}

TEST_F(Accounts, DebitsMayGoBelowZeroAndHoldsAreReadable) {
  ASSERT_EQ(post("/v1/users/43/credits", {{"amount", 1'000}, {"reason", "stars"}, {"idempotency_key", "c"}}).status,
            200);
  auto hold =
      post("/v1/users/43/holds", {{"amount", 600}, {"kind", "paid"}, {"idempotency_key", "job-43"}, {"ttl_s", 120}});
  ASSERT_EQ(hold.status, 200) << hold.body;
  auto id = hold.json()["hold_id"].get<std::string>();
  auto info = get("/v1/holds/" + id);
  EXPECT_EQ(info["state"], "held");
  EXPECT_EQ(info["user_id"], 43);
  EXPECT_EQ(info["amount"], 600);
  EXPECT_EQ(info["key"], "job-43");
  EXPECT_GT(info["expires_ms"].get<std::int64_t>(), info["created_ms"].get<std::int64_t>() + 119'000);
  EXPECT_EQ(call("GET", "/v1/holds/43-0123456789abcdef").status, 404);
  json refund = {{"amount", 1'000}, {"reason", "stars_refund"}, {"idempotency_key", "refund:c"}, {"ref", "c"}};
  auto debited = post("/v1/users/43/debits", refund);
  ASSERT_EQ(debited.status, 200) << debited.body;
  EXPECT_EQ(debited.json()["balance"], -600);
  EXPECT_TRUE(post("/v1/users/43/debits", refund).json()["replayed"].get<bool>());
  EXPECT_EQ(get("/v1/users/43")["balance"], -600);
  EXPECT_EQ(post("/v1/users/43/holds", {{"amount", 1}, {"kind", "paid"}, {"idempotency_key", "k"}}).status, 402);
  // Corrections are the owner's alone.
  json correction = {{"amount", 100}, {"reason", "admin_debit"}, {"idempotency_key", "fix-1"}, {"admin_id", 2}};
  EXPECT_EQ(post("/v1/users/43/debits", correction).status, 403);
  correction["admin_id"] = 1;
  EXPECT_EQ(post("/v1/users/43/debits", correction).status, 200);
  EXPECT_EQ(get("/v1/users/43")["balance"], -700);
  EXPECT_EQ(get("/v1/stats")["money_refunded"], 1'000);
}

TEST_F(Accounts, AuditFindsNoDriftAcrossTrimmingAndFindsATamperedBalance) {
  service->stop(SIGTERM, 5s);
  start({{"LEDGER_MAX_LEN", "10"}});
  for (int i = 0; i < 30; ++i) {
    post("/v1/users/60/credits",
         {{"amount", 100 + i}, {"reason", "topup"}, {"idempotency_key", "c" + std::to_string(i)}});
  }
  auto h = post("/v1/users/60/holds", {{"amount", 500}, {"kind", "paid"}, {"idempotency_key", "h1"}});
  post("/v1/users/61/credits", {{"amount", 1'000}, {"reason", "stars"}, {"idempotency_key", "s"}});
  auto h2 = post("/v1/users/61/holds", {{"amount", 400}, {"kind", "paid"}, {"idempotency_key", "h2"}});
  post("/v1/holds/" + h2.json()["hold_id"].get<std::string>() + "/commit", json::object());
  post("/v1/users/62/referral", {{"referrer_id", 63}});
  post("/v1/users/61/debits", {{"amount", 900}, {"reason", "stars_refund"}, {"idempotency_key", "r"}});
  EXPECT_EQ(get("/v1/users/60/ledger?limit=100")["entries"].size(), 10u) << "trimmed to LEDGER_MAX_LEN";
  auto audit = [&] {
    test::Process run({std::string(KIEBOT_BIN_DIR) + "/accounts", "audit"},
                      {{"ACCOUNTS_TOKEN", kToken}, {"REDIS_URL", redis->url()}});
    std::string out;
    while (auto line = run.read_line(10s)) out += *line + "\n";
    auto status = run.stop(SIGTERM, 10s);
    return std::pair{status, json::parse(out, nullptr, false)};
  };
  auto [clean, report] = audit();
  EXPECT_EQ(clean, 0) << report.dump();
  EXPECT_EQ(report["users"], 5);  // and admin 2, seeded at start
  EXPECT_EQ(report["drifting"], 0);
  EXPECT_EQ(report["money_held"], 500);
  EXPECT_EQ(get("/v1/stats")["audit"]["drifting"], 0);
  EXPECT_EQ(get("/v1/stats")["money_held"], 500);
  (void)h;
  // Money changed behind the ledger's back is found.
  test::Process tamper(
      {"/usr/bin/redis-cli", "-p", std::to_string(redis->port()), "HINCRBY", "{u:61}:acct", "balance", "7"});
  tamper.read_line(5s);
  tamper.stop(SIGTERM, 5s);
  auto [drifted, found] = audit();
  EXPECT_EQ(drifted, 1) << found.dump();
  ASSERT_EQ(found["drift"].size(), 1u) << found.dump();
  EXPECT_EQ(found["drift"][0]["user_id"], 61);
  EXPECT_EQ(found["drift"][0]["balance_drift"], 7);
}
