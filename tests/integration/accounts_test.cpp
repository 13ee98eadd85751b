// accounts over HTTP against a real redis-server: money moves exactly once.
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include <iostream>
#include <thread>

#include "kiebot/http/client.hpp"
#include "process.hpp"
#include "redis_server.hpp"
#include "run.hpp"

using namespace kiebot;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

constexpr const char* kToken = "test-accounts-token";

struct Accounts : testing::Test {
  std::unique_ptr<test::RedisServer> redis =
      std::make_unique<test::RedisServer>(std::vector<std::string>{"--appendonly", "yes", "--appendfsync", "always"});
  std::unique_ptr<test::Process> service;
  std::uint16_t port = 0;
  net::io_context io;
  http::Client client{io.get_executor()};

  void SetUp() override { start(); }

  void start(std::map<std::string, std::string> extra = {}) {
    std::map<std::string, std::string> env{{"ACCOUNTS_TOKEN", kToken}, {"REDIS_URL", redis->url()},
                                           {"HTTP_PORT", "0"},         {"OWNER_ID", "1"},
                                           {"ADMIN_IDS", "2"},         {"ADMIN_DEFAULT_LIMIT", "5000"}};
    for (auto& [k, v] : extra) env[k] = v;
    service = std::make_unique<test::Process>(std::vector<std::string>{std::string(KIEBOT_BIN_DIR) + "/accounts"}, env);
    port = service->listening_port(10s);
    wait_ready();
  }

  void wait_ready() {
    for (int i = 0; i < 200; ++i) {
      try {
        if (call("GET", "/readyz", "", false).status == 200) return;
      } catch (const http::ClientError&) {
      }
      std::this_thread::sleep_for(50ms);
    }
    FAIL() << "accounts never became ready: " << service->stderr_text();
  }

  http::ClientRequest request(const std::string& method, const std::string& path, std::string body, bool auth = true) {
    http::ClientRequest r{method, "http://127.0.0.1:" + std::to_string(port) + path, {}, std::move(body), 10s};
    if (auth) r.headers.emplace_back("Authorization", std::string("Bearer ") + kToken);
    if (!r.body.empty()) r.headers.emplace_back("Content-Type", "application/json");
    return r;
  }
  http::Response call(const std::string& method, const std::string& path, std::string body = "", bool auth = true) {
    return test::run(io, client.send(request(method, path, std::move(body), auth)));
  }
  http::Response call_as(const std::string& token, const std::string& method, const std::string& path,
                         const json& body = nullptr) {
    auto r = request(method, path, body.is_null() ? "" : body.dump(), false);
    r.headers.emplace_back("Authorization", "Bearer " + token);
    return test::run(io, client.send(std::move(r)));
  }
  json get(const std::string& path) {
    auto r = call("GET", path);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json();
  }
  http::Response post(const std::string& path, const json& body) { return call("POST", path, body.dump()); }

  // Sends every request at once (one connection each) and returns the answers in order.
  std::vector<http::Response> concurrently(std::vector<http::ClientRequest> requests) {
    std::vector<std::optional<http::Response>> answers(requests.size());
    std::size_t done = 0;
    for (std::size_t i = 0; i < requests.size(); ++i) {
      // No idle connection is free while all are in flight: one connection each.
      net::co_spawn(io, client.send(std::move(requests[i])),
                    [&answers, &done, i](std::exception_ptr e, http::Response r) {
                      ++done;
                      if (!e) answers[i] = std::move(r);
                    });
    }
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (done < answers.size() && std::chrono::steady_clock::now() < deadline) io.run_one_for(20ms);
    std::vector<http::Response> out;
    for (auto& a : answers) {
      EXPECT_TRUE(a.has_value()) << "a request failed at the transport level";
      out.push_back(a.value_or(http::Response{0, {}, {}}));
    }
    return out;
  }

  void credit(std::int64_t user, std::int64_t amount, const std::string& key) {
    auto r = post("/v1/users/" + std::to_string(user) + "/credits",
                  {{"amount", amount}, {"reason", "topup"}, {"idempotency_key", key}});
    ASSERT_EQ(r.status, 200) << r.body;
  }

  std::int64_t ledger_sum(std::int64_t user) {
    std::int64_t sum = 0;
    auto ledger = get("/v1/users/" + std::to_string(user) + "/ledger?limit=1000");
    for (const auto& e : ledger["entries"]) {
      sum += e["delta"].get<std::int64_t>();
    }
    return sum;
  }
};

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

TEST_F(Accounts, RedisRestartBetweenHoldAndCommitLosesNothing) {
  credit(11, 5'000, "c1");
  auto r = post("/v1/users/11/holds", {{"amount", 1'200}, {"kind", "paid"}, {"idempotency_key", "job-1"}});
  ASSERT_EQ(r.status, 200);
  auto hold_id = r.json()["hold_id"].get<std::string>();
  redis->stop();
  EXPECT_EQ(call("GET", "/v1/users/11").status, 503);  // a clear "retry later", not a hang
  redis->start();
  wait_ready();
  http::Response commit;
  for (int i = 0; i < 100; ++i) {
    commit = post("/v1/holds/" + hold_id + "/commit", json::object());
    if (commit.status != 503) break;
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_EQ(commit.status, 200) << commit.body;
  EXPECT_EQ(commit.json()["state"], "committed");
  EXPECT_EQ(post("/v1/holds/" + hold_id + "/commit", json::object()).body, commit.body);
  auto user = get("/v1/users/11");
  EXPECT_EQ(user["balance"], 3'800);
  EXPECT_EQ(user["held"], 0);
  EXPECT_EQ(ledger_sum(11), 3'800);
}

TEST_F(Accounts, BadInputIsRefusedAndChangesNothing) {
  credit(3, 1'000, "c1");
  auto before = get("/v1/users/3");
  auto ledger_before = get("/v1/users/3/ledger")["entries"].size();
  struct Case {
    std::string method, path, body;
    int status;
    bool auth = true;
  };
  std::vector<Case> cases = {
      {"GET", "/v1/users/abc", "", 400},
      {"GET", "/v1/users/0", "", 400},
      {"GET", "/v1/users/-5", "", 400},
      {"POST", "/v1/users/3/holds", R"({"amount":-100,"kind":"paid","idempotency_key":"k"})", 400},
      {"POST", "/v1/users/3/holds", R"({"amount":0,"kind":"paid","idempotency_key":"k"})", 400},
      {"POST", "/v1/users/3/holds", R"({"amount":1000000001,"kind":"paid","idempotency_key":"k"})", 400},
      {"POST", "/v1/users/3/holds", R"({"amount":"100","kind":"paid","idempotency_key":"k"})", 400},
      {"POST", "/v1/users/3/holds", R"({"amount":10.5,"kind":"paid","idempotency_key":"k"})", 400},
      {"POST", "/v1/users/3/holds", R"({"amount":100,"kind":"gold","idempotency_key":"k"})", 400},
      {"POST", "/v1/users/3/holds", R"({"amount":100,"kind":"paid"})", 400},
      {"POST", "/v1/users/3/holds", R"({"amount":100,"kind":"paid","idempotency_key":7})", 400},
      {"POST", "/v1/users/3/holds", R"({"amount":100,"kind":"paid","idempotency_key":"k","ttl_s":"x"})", 400},
      {"POST", "/v1/users/3/holds", "[1,2]", 400},
      {"POST", "/v1/users/3/holds", "{not json", 400},
      {"POST", "/v1/users/3/credits", R"({"amount":100,"reason":"gift","idempotency_key":"k"})", 400},
      {"POST", "/v1/users/3/credits", R"({"amount":100,"reason":"topup"})", 400},
      {"POST", "/v1/users/3/credits", R"({"amount":99999999999,"reason":"topup","idempotency_key":"k"})", 400},
      {"POST", "/v1/users/3/credits",
       R"({"amount":100,"reason":"topup","idempotency_key":"k","pad":")" + std::string(70'000, 'x') + "\"}", 400},
      {"PUT", "/v1/users/3/language", R"({"language":"de"})", 400},
      {"POST", "/v1/users/3/referral", R"({"referrer_id":3})", 400},
      {"POST", "/v1/users/3/referral", R"({"referrer_id":"4"})", 400},
      {"PUT", "/v1/admins/3", R"({"limit":-1})", 400},
      {"GET", "/v1/users/3/ledger?limit=0", "", 400},
      {"GET", "/v1/users/3", "", 401, false},
      {"POST", "/v1/users/3/credits", R"({"amount":100,"reason":"topup","idempotency_key":"k2"})", 401, false},
  };
  for (const auto& c : cases) {
    auto r = call(c.method, c.path, c.body, c.auth);
    EXPECT_EQ(r.status, c.status) << c.method << " " << c.path << " " << c.body.substr(0, 80) << " -> " << r.body;
    auto answer = json::parse(r.body, nullptr, false);
    ASSERT_FALSE(answer.is_discarded()) << r.body;
    EXPECT_TRUE(answer.contains("error") && answer.contains("message")) << r.body;
  }
  // A wrong token gets the same 401 as none, with no hint.
  http::ClientRequest wrong = request("GET", "/v1/users/3", "", false);
  wrong.headers.emplace_back("Authorization", "Bearer test-accounts-tokeN");
  auto denied = test::run(io, client.send(wrong));
  EXPECT_EQ(denied.status, 401);
  EXPECT_EQ(denied.body.find(kToken), std::string::npos);
  EXPECT_EQ(get("/v1/users/3"), before);
  EXPECT_EQ(get("/v1/users/3/ledger")["entries"].size(), ledger_before);
  // Health and metrics need no token.
  EXPECT_EQ(call("GET", "/healthz", "", false).status, 200);
  EXPECT_EQ(call("GET", "/metrics", "", false).status, 200);
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

TEST(AccountsStartup, RefusesRedisWithoutAof) {
  test::RedisServer volatile_redis;  // appendonly no
  test::Process service({std::string(KIEBOT_BIN_DIR) + "/accounts"},
                        {{"ACCOUNTS_TOKEN", kToken}, {"REDIS_URL", volatile_redis.url()}, {"HTTP_PORT", "0"}});
  auto line = service.wait_for_stderr("appendonly", 15s);
  ASSERT_TRUE(line) << service.stderr_text();
  auto deadline = std::chrono::steady_clock::now() + 15s;
  while (service.running() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
  EXPECT_EQ(service.stop(SIGKILL, 1s), 1);
}

TEST(AccountsStartup, FsyncDurabilityRefusesRedisThatFsyncsEverySecond) {
  test::RedisServer everysec({"--appendonly", "yes", "--appendfsync", "everysec"});
  test::Process service({std::string(KIEBOT_BIN_DIR) + "/accounts"},
                        {{"ACCOUNTS_TOKEN", kToken}, {"REDIS_URL", everysec.url()}, {"HTTP_PORT", "0"}});
  ASSERT_TRUE(service.wait_for_stderr("appendfsync", 15s)) << service.stderr_text();
  auto deadline = std::chrono::steady_clock::now() + 15s;
  while (service.running() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
  EXPECT_EQ(service.stop(SIGKILL, 1s), 1);
  // Opting in starts, with a warning.
  test::Process opted({std::string(KIEBOT_BIN_DIR) + "/accounts"}, {{"ACCOUNTS_TOKEN", kToken},
                                                                    {"REDIS_URL", everysec.url()},
                                                                    {"HTTP_PORT", "0"},
                                                                    {"ACCOUNTS_DURABILITY", "everysec"}});
  EXPECT_TRUE(opted.wait_for_stderr("durability_everysec", 15s)) << opted.stderr_text();
  EXPECT_TRUE(opted.wait_for_stderr("accounts_ready", 15s)) << opted.stderr_text();
}

TEST(AccountsStartup, ReplicaDurabilityAnswersOnlyWhatAReplicaHas) {
  test::RedisServer primary({"--appendonly", "yes"});
  auto replica = std::make_unique<test::RedisServer>(
      std::vector<std::string>{"--replicaof", "127.0.0.1", std::to_string(primary.port())});
  test::Process service({std::string(KIEBOT_BIN_DIR) + "/accounts"}, {{"ACCOUNTS_TOKEN", kToken},
                                                                      {"REDIS_URL", primary.url()},
                                                                      {"HTTP_PORT", "0"},
                                                                      {"ACCOUNTS_DURABILITY", "replica"},
                                                                      {"ACCOUNTS_REPLICA_TIMEOUT_MS", "300"}});
  auto port = service.listening_port(10s);
  net::io_context io;
  http::Client client(io.get_executor());
  auto credit = [&](const std::string& key) {
    http::ClientRequest r{"POST",
                          "http://127.0.0.1:" + std::to_string(port) + "/v1/users/9/credits",
                          {{"Authorization", std::string("Bearer ") + kToken}, {"Content-Type", "application/json"}},
                          json{{"amount", 100}, {"reason", "topup"}, {"idempotency_key", key}}.dump(),
                          10s};
    return test::run(io, client.send(std::move(r)));
  };
  ASSERT_TRUE(service.wait_for_stderr("accounts_ready", 15s)) << service.stderr_text();
  http::Response first;
  for (int i = 0; i < 50; ++i) {  // until the replica has synced
    first = credit("r1");
    if (first.status == 200) break;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(first.status, 200) << first.body;
  replica.reset();
  auto lonely = credit("r2");
  EXPECT_EQ(lonely.status, 503) << lonely.body;
  EXPECT_EQ(lonely.json()["error"], "not_replicated");
}

TEST(AccountsStartup, MissingTokenExitsTwoNamingIt) {
  test::Process service({std::string(KIEBOT_BIN_DIR) + "/accounts"}, {{"ACCOUNTS_TOKEN", ""}});
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (service.running() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
  EXPECT_EQ(service.stop(SIGKILL, 1s), 2);
  EXPECT_NE(service.stderr_text().find("ACCOUNTS_TOKEN"), std::string::npos);
}

namespace {
constexpr const char* kGeneratorToken = "generator-token-000001";
constexpr const char* kDialogToken = "dialog-token-000000001";
constexpr const char* kCallers =
    "generator:generator-token-000001:read,settle;"
    "dialog:dialog-token-000000001:read,hold,settle,user,credit:stars,credit:referral";
}  // namespace

TEST_F(Accounts, EachCallerHasOnlyItsScopes) {
  service->stop(SIGTERM, 10s);
  start({{"ACCOUNTS_TOKENS", kCallers}});
  json stars = {{"amount", 10'000}, {"reason", "stars"}, {"idempotency_key", "pay-1"}};
  // The generator may read and settle, never mint money or hold it.
  auto minted = call_as(kGeneratorToken, "POST", "/v1/users/7/credits", stars);
  EXPECT_EQ(minted.status, 403) << minted.body;
  EXPECT_EQ(minted.json()["error"], "forbidden");
  EXPECT_NE(minted.json()["message"].get<std::string>().find("generator"), std::string::npos);
  EXPECT_EQ(call_as(kGeneratorToken, "POST", "/v1/users/7/holds",
                    {{"amount", 100}, {"kind", "paid"}, {"idempotency_key", "h"}})
                .status,
            403);
  EXPECT_EQ(call_as(kGeneratorToken, "PUT", "/v1/admins/7", {{"limit", 1}}).status, 403);
  EXPECT_EQ(call_as(kGeneratorToken, "GET", "/v1/users/7").status, 200);
  // The dialog credits Stars, holds and settles, but grants nothing and manages no admins.
  EXPECT_EQ(call_as(kDialogToken, "POST", "/v1/users/7/credits", stars).status, 200);
  auto hold = call_as(kDialogToken, "POST", "/v1/users/7/holds",
                      {{"amount", 100}, {"kind", "paid"}, {"idempotency_key", "h1"}});
  ASSERT_EQ(hold.status, 200) << hold.body;
  auto hold_id = hold.json()["hold_id"].get<std::string>();
  EXPECT_EQ(call_as(kGeneratorToken, "POST", "/v1/holds/" + hold_id + "/commit", json::object()).status, 200);
  auto grant = call_as(kDialogToken, "POST", "/v1/users/7/credits",
                       {{"amount", 100}, {"reason", "admin_grant"}, {"admin_id", 1}, {"idempotency_key", "g"}});
  EXPECT_EQ(grant.status, 403) << grant.body;
  EXPECT_EQ(call_as(kDialogToken, "POST", "/v1/users/7/debits",
                    {{"amount", 100}, {"reason", "stars_refund"}, {"idempotency_key", "d"}})
                .status,
            403);
  EXPECT_EQ(call_as(kDialogToken, "DELETE", "/v1/admins/2").status, 403);
  EXPECT_EQ(call_as("no-such-token-00000000", "GET", "/v1/users/7").status, 401);
  // ACCOUNTS_TOKEN still has every scope.
  EXPECT_EQ(call("PUT", "/v1/admins/7", json{{"limit", 1}}.dump()).status, 200);
  EXPECT_EQ(get("/v1/users/7")["balance"], 10'000 - 100);
}

TEST_F(Accounts, UnauthenticatedRequestIsRefusedBeforeItsBody) {
  // Announce a large body and send none: the answer must come from the headers alone.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  std::string head =
      "POST /v1/users/1/credits HTTP/1.1\r\nHost: accounts\r\nAuthorization: Bearer wrong\r\n"
      "Content-Type: application/json\r\nContent-Length: 60000\r\n\r\n";
  ASSERT_EQ(::send(fd, head.data(), head.size(), 0), static_cast<ssize_t>(head.size()));
  pollfd p{fd, POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 5000), 1) << "no answer without the body";
  char buffer[512] = {};
  auto n = ::recv(fd, buffer, sizeof buffer - 1, 0);
  ::close(fd);
  ASSERT_GT(n, 0);
  EXPECT_TRUE(std::string(buffer).starts_with("HTTP/1.1 401")) << buffer;
}

TEST(AccountsStartup, BadCallerListExitsTwoNamingIt) {
  test::RedisServer redis({"--appendonly", "yes", "--appendfsync", "always"});
  test::Process service({std::string(KIEBOT_BIN_DIR) + "/accounts"},
                        {{"ACCOUNTS_TOKENS", "generator:generator-token-000001:read,mint"},
                         {"REDIS_URL", redis.url()},
                         {"HTTP_PORT", "0"}});
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (service.running() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
  EXPECT_EQ(service.stop(SIGKILL, 1s), 2);
  auto err = service.stderr_text();
  EXPECT_NE(err.find("ACCOUNTS_TOKENS"), std::string::npos) << err;
  EXPECT_NE(err.find("mint"), std::string::npos) << err;
  EXPECT_EQ(err.find("generator-token-000001"), std::string::npos) << err;
}

namespace {

struct CreditLoad {
  int answered = 0;               // 200s
  int answered_after_signal = 0;  // of which after SIGTERM was sent
  bool signalled = false;
  std::vector<std::string> other;    // any other answer, with its body
  std::vector<std::string> refused;  // keys whose request failed at the transport level
  int workers_done = 0;
};

// Credits user 77 with fresh keys, one request after another, until a
// request fails at the transport level (the service has stopped).
net::awaitable<void> credit_until_refused(http::Client* client, std::uint16_t port, int worker, CreditLoad* load) {
  for (int i = 0;; ++i) {
    auto key = "sigterm-" + std::to_string(worker) + "-" + std::to_string(i);
    json body{{"amount", 100}, {"reason", "topup"}, {"idempotency_key", key}};
    http::ClientRequest request{
        "POST", "http://127.0.0.1:" + std::to_string(port) + "/v1/users/77/credits", {}, body.dump(), 10s};
    request.headers.emplace_back("Authorization", std::string("Bearer ") + kToken);
    request.headers.emplace_back("Content-Type", "application/json");
    try {
      auto response = co_await client->send(std::move(request));
      if (response.status == 200) {
        ++load->answered;
        if (load->signalled) ++load->answered_after_signal;
      } else {
        load->other.push_back(std::to_string(response.status) + " " + response.body);
      }
    } catch (const http::ClientError&) {
      load->refused.push_back(key);
      break;
    }
  }
  ++load->workers_done;
}

}  // namespace

// SIGTERM while twenty callers keep crediting: accounts exits 0, every
// request it answered is in the ledger, and every request it did not answer
// left no trace, so that the callers' retries (same idempotency keys) apply
// each exactly once.
TEST_F(Accounts, SigtermUnderLoadAnswersOrRefusesEveryRequestAndExitsZero) {
  constexpr int kWorkers = 20;
  CreditLoad load;
  for (int w = 0; w < kWorkers; ++w) {
    net::co_spawn(io, credit_until_refused(&client, port, w, &load), [](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);
    });
  }
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (load.answered < 300 && std::chrono::steady_clock::now() < deadline) io.run_one_for(20ms);
  ASSERT_GE(load.answered, 300) << service->stderr_text();
  auto signalled_at = std::chrono::steady_clock::now();
  ASSERT_EQ(::kill(service->pid(), SIGTERM), 0);
  load.signalled = true;
  while (load.workers_done < kWorkers && std::chrono::steady_clock::now() < signalled_at + 30s) io.run_one_for(20ms);
  ASSERT_EQ(load.workers_done, kWorkers) << "a caller still waits for an answer";
  // One SIGTERM, as Kubernetes sends: a second one during exit would kill it.
  while (service->running() && std::chrono::steady_clock::now() < signalled_at + 15s) std::this_thread::sleep_for(20ms);
  EXPECT_EQ(service->stop(SIGKILL, 1s), 0) << service->stderr_text();
  EXPECT_LT(std::chrono::steady_clock::now() - signalled_at, 11s);
  EXPECT_TRUE(load.other.empty()) << load.other.front();
  EXPECT_GT(load.answered_after_signal, 0) << "requests in flight at SIGTERM are answered";
  std::cout << "answered " << load.answered << " (" << load.answered_after_signal << " after SIGTERM), refused "
            << load.refused.size() << "\n";
  EXPECT_NE(service->stderr_text().find("\"event\":\"stopping\""), std::string::npos);

  start();
  EXPECT_EQ(get("/v1/users/77")["balance"].get<std::int64_t>(), std::int64_t{100} * load.answered)
      << "exactly the answered credits were applied";
  for (const auto& key : load.refused) {
    auto r = post("/v1/users/77/credits", {{"amount", 100}, {"reason", "topup"}, {"idempotency_key", key}});
    EXPECT_EQ(r.status, 200) << r.body;
  }
  auto total = static_cast<std::int64_t>(load.answered + load.refused.size());
  EXPECT_EQ(get("/v1/users/77")["balance"].get<std::int64_t>(), 100 * total);
  EXPECT_EQ(ledger_sum(77), 100 * total);
}
