// accounts as a service: input refused, a Redis restart survived, startup
// checks of Redis's durability and of the configuration, each caller's
// scopes, and SIGTERM under load.
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
