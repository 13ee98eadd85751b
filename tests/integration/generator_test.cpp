// generator as separate processes against kie-emulator, tg-emulator,
// accounts, kafka-dev and a real redis-server: jobs end to end, callbacks,
// failures, retries, the DLQ, large results and a replica killed mid-run.
#include <gtest/gtest.h>

#include <signal.h>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "kafka_dev.hpp"
#include "kiebot/http/client.hpp"
#include "kiebot/kafka/kafka.hpp"
#include "kiebot/redis/redis.hpp"
#include "process.hpp"
#include "redis_server.hpp"
#include "run.hpp"

using namespace kiebot;
using namespace std::chrono_literals;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kBotToken = "111111:sandbox-token";
constexpr const char* kAccountsToken = "test-accounts-token";
constexpr std::int64_t kUser = 42;

std::string bin(const char* name) {
  return std::string(KIEBOT_BIN_DIR) + "/" + name;
}

struct GeneratorTest : testing::Test {
  test::RedisServer redis{{"--appendonly", "yes", "--appendfsync", "always"}};
  test::KafkaDev kafka;
  std::unique_ptr<test::Process> tg, kie, accounts;
  std::uint16_t tg_port = 0, kie_port = 0, accounts_port = 0;
  std::vector<std::unique_ptr<test::Process>> generators;
  std::vector<std::uint16_t> generator_ports;
  net::io_context io;
  http::Client client{io.get_executor()};
  std::unique_ptr<kafka::Producer> producer;
  int groups = 0;

  void SetUp() override {
    tg = std::make_unique<test::Process>(std::vector<std::string>{bin("tg-emulator")},
                                         std::map<std::string, std::string>{{"HTTP_PORT", "0"}});
    kie = std::make_unique<test::Process>(std::vector<std::string>{bin("kie-emulator")},
                                          std::map<std::string, std::string>{{"HTTP_PORT", "0"}});
    accounts = std::make_unique<test::Process>(
        std::vector<std::string>{bin("accounts")},
        std::map<std::string, std::string>{{"HTTP_PORT", "0"},
                                           {"ACCOUNTS_TOKEN", kAccountsToken},
                                           {"REDIS_URL", "redis://127.0.0.1:" + std::to_string(redis.port()) + "/1"}});
    tg_port = tg->listening_port(10s);
    kie_port = kie->listening_port(10s);
    accounts_port = accounts->listening_port(10s);
    kie_config({{"latency_ms", {{"waiting", 50}, {"queuing", 50}, {"generating", 200}}}, {"rate_limit", false}});
    kafka::ProducerOptions o;
    o.brokers = kafka.bootstrap();
    producer = std::make_unique<kafka::Producer>(io.get_executor(), o);
    // The user, with money, and a chat with the bot.
    accounts_call("POST", "/v1/users/42/credits",
                  {{"amount", 1'000'000}, {"reason", "topup"}, {"idempotency_key", "fund"}});
    tg_call("POST", "/control/users/42/messages", {{"text", "/start"}, {"language_code", "en"}});
  }

  std::string url(std::uint16_t port, const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port) + path;
  }
  http::Response request(const std::string& method, const std::string& u, const std::string& body = "",
                         http::Headers headers = {}) {
    http::ClientRequest r{method, u, std::move(headers), body, 20s};
    if (!body.empty()) r.headers.emplace_back("Content-Type", "application/json");
    return test::run(io, client.send(std::move(r)), 30s);
  }
  json tg_call(const std::string& method, const std::string& path, const json& body = json::object()) {
    return request(method, url(tg_port, path), method == "GET" ? "" : body.dump()).json();
  }
  json kie_config(const json& body) { return request("POST", url(kie_port, "/control/config"), body.dump()).json(); }
  json kie_stats() { return request("GET", url(kie_port, "/control/stats")).json(); }
  json accounts_call(const std::string& method, const std::string& path, const json& body = json::object()) {
    auto r = request(method, url(accounts_port, path), method == "GET" ? "" : body.dump(),
                     {{"Authorization", std::string("Bearer ") + kAccountsToken}});
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
    return r.json();
  }
  json user() { return accounts_call("GET", "/v1/users/42"); }
  std::string hold(const std::string& key, std::int64_t amount) {
    return accounts_call("POST", "/v1/users/42/holds",
                         {{"amount", amount}, {"kind", "paid"}, {"idempotency_key", key}})["hold_id"];
  }

  std::size_t start_generator(std::map<std::string, std::string> extra = {}) {
    std::map<std::string, std::string> env{{"HTTP_PORT", "0"},
                                           {"INSTANCE_ID", "generator-" + std::to_string(generators.size())},
                                           {"REDIS_URL", redis.url()},
                                           {"KAFKA_BROKERS", kafka.bootstrap()},
                                           {"TELEGRAM_BOT_TOKEN", kBotToken},
                                           {"TELEGRAM_API_BASE", url(tg_port, "")},
                                           {"KIE_API_KEY", "sandbox-key"},
                                           {"KIE_API_BASE", url(kie_port, "")},
                                           {"ACCOUNTS_URL", url(accounts_port, "")},
                                           {"ACCOUNTS_TOKEN", kAccountsToken},
                                           {"FIRST_CHECK_MS", "200"},
                                           {"MAX_CHECK_MS", "1000"},
                                           {"CLAIM_TTL_MS", "3000"},
                                           {"GENERATOR_UNPAID_SOURCES", "test-internal, bench"},
                                           {"KAFKA_CFG_TOPIC_METADATA_REFRESH_INTERVAL_MS", "1000"}};
    if (std::getenv("KIEBOT_TEST_VERBOSE") != nullptr) env["LOG_LEVEL"] = "debug";
    for (auto& [k, v] : extra) env[k] = v;
    generators.push_back(std::make_unique<test::Process>(std::vector<std::string>{bin("generator")}, std::move(env)));
    generator_ports.push_back(generators.back()->listening_port(20s));
    return generators.size() - 1;
  }

  json job(const std::string& id, const std::string& hold_id, json extra = json::object()) {
    json j = {{"v", 1},
              {"job_id", id},
              {"model", "google/nano-banana"},
              {"input", {{"prompt", "a red fox " + id}, {"output_format", "png"}, {"image_size", "1:1"}}},
              {"created_ms", std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count()},
              {"user_id", kUser},
              {"chat_id", kUser},
              {"language", "en"}};
    if (!hold_id.empty()) j["hold_id"] = hold_id;
    if (hold_id.empty()) j["source"] = "test-internal";  // allowlisted: GENERATOR_UNPAID_SOURCES
    for (auto& [k, v] : extra.items()) j[k] = v;
    return j;
  }
  void publish(const std::string& key, const std::string& value) {
    test::run(io, producer->send("gen.jobs", key, value, {}));
  }
  void publish(const json& j) { publish(j["job_id"].get<std::string>(), j.dump()); }

  // (A new consumer group each time.)
  // Every message of `topic` so far, until `expected` distinct job ids came.
  std::vector<json> read(const std::string& topic, std::size_t expected, std::chrono::milliseconds timeout = 30s) {
    kafka::ConsumerOptions o;
    o.brokers = kafka.bootstrap();
    o.group_id = "generator-test-" + std::to_string(++groups);
    o.topics = {topic};
    o.properties = {{"session.timeout.ms", "6000"}, {"heartbeat.interval.ms", "500"}};
    kafka::Consumer consumer(io.get_executor(), o);
    std::vector<json> out;
    std::set<std::string> ids;
    auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline && ids.size() < expected) {
      auto messages = test::run(io, consumer.poll(500, 200ms));
      for (const auto& m : messages) {
        out.push_back(json::parse(m.value, nullptr, false));
        ids.insert(out.back().is_object() && out.back().contains("job_id") ? out.back().value("job_id", "")
                                                                           : std::to_string(ids.size()) + m.key);
      }
    }
    // A moment more for anything beyond the expected count.
    auto extra = test::run(io, consumer.poll(500, 300ms));
    for (const auto& m : extra) out.push_back(json::parse(m.value));
    consumer.close();
    return out;
  }

  double metric(std::size_t i, const std::string& name) {
    auto r = request("GET", url(generator_ports[i], "/metrics"));
    std::istringstream lines(r.body);
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
    }
    return -1;
  }

  // The job's record in Redis, for failure messages.
  std::string job_record(const std::string& id) {
    redis::Options options;
    options.url = redis.url();
    redis::Client r(io.get_executor(), options);
    r.start();
    std::string out;
    try {
      test::run(io, r.wait_connected(3s));
      std::vector<std::string> command{"HGETALL", "{gen}:job:" + id};
      auto reply = test::run(io, r.exec(std::move(command)));
      for (std::size_t i = 0; i + 1 < reply.elements.size(); i += 2) {
        if (reply.elements[i].str != "job") out += reply.elements[i].str + "=" + reply.elements[i + 1].str + " ";
      }
    } catch (const std::exception& e) {
      out = e.what();
    }
    r.stop();
    return out;
  }

  // The chat as the user sees it: bot messages with media, and texts.
  json transcript() { return tg_call("GET", "/control/chats/42/transcript"); }
  std::size_t photos() {
    std::size_t n = 0;
    for (const auto& m : transcript()) n += m.contains("media") && m["media"]["type"] == "photo" ? 1 : 0;
    return n;
  }

  void TearDown() override {
    if (!HasFailure()) return;
    for (std::size_t i = 0; i < generators.size(); ++i) {
      std::istringstream lines(generators[i]->stderr_text());
      int shown = 0;
      for (std::string line; std::getline(lines, line) && shown < 400;) {
        if (std::getenv("KIEBOT_TEST_VERBOSE") == nullptr &&
            (line.find("\"level\":\"info\"") != std::string::npos || line.find("kafka_") != std::string::npos))
          continue;
        std::cerr << "generator-" << i << ": " << line.substr(0, 400) << "\n";
        ++shown;
      }
    }
  }

  template <class Pred>
  bool wait_until(Pred pred, std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      if (pred()) return true;
      std::this_thread::sleep_for(50ms);
    }
    return pred();
  }
};

TEST_F(GeneratorTest, AJobEndToEndIsSubmittedOnceDeliveredAndChargedOnce) {
  start_generator();
  auto balance = user()["balance"].get<std::int64_t>();
  auto h = hold("job-e2e", 2'500);
  // The dialog's "queued" message, which the generator edits as it goes.
  auto queued = request("POST", url(tg_port, std::string("/bot") + kBotToken + "/sendMessage"),
                        json{{"chat_id", kUser}, {"text", "Queued"}}.dump())
                    .json();
  auto status_id = queued["result"]["message_id"].get<std::int64_t>();
  publish(job("job-e2e", h, {{"status_message_id", status_id}}));
  auto results = read("gen.results", 1);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0]["status"], "succeeded");
  EXPECT_EQ(results[0]["job_id"], "job-e2e");
  ASSERT_EQ(results[0]["result_urls"].size(), 1u);
  EXPECT_EQ(kie_stats()["tasks_created"], 1);
  EXPECT_EQ(photos(), 1u);
  auto chat = transcript();
  auto last = chat.back();
  EXPECT_EQ(last["caption"], "google/nano-banana: a red fox job-e2e");
  for (const auto& m : chat) {
    if (m["message_id"] == status_id) {
      EXPECT_EQ(m["text"], "✅ Done");
      EXPECT_TRUE(m["edited"].get<bool>());
    }
  }
  auto u = user();
  EXPECT_EQ(u["balance"].get<std::int64_t>(), balance - 2'500);
  EXPECT_EQ(u["held"], 0);
  // The same job again is not started again.
  publish(job("job-e2e", h));
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(kie_stats()["tasks_created"], 1);
  EXPECT_EQ(photos(), 1u);
}

TEST_F(GeneratorTest, CallbacksCompleteJobsAndDuplicatesDeliverOnce) {
  auto port = test::free_port();
  // Checks would come only after 20 s: a quick finish proves the callback.
  start_generator({{"HTTP_PORT", std::to_string(port)},
                   {"PUBLIC_BASE_URL", "http://127.0.0.1:" + std::to_string(port)},
                   {"CALLBACK_SECRET", "cb-secret"},
                   {"FIRST_CHECK_MS", "20000"},
                   {"MAX_CHECK_MS", "20000"}});
  kie_config({{"callback_mode", "duplicate"}});
  auto started = Clock::now();
  publish(job("job-cb", hold("job-cb", 1'000)));
  auto results = read("gen.results", 1, 15s);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0]["status"], "succeeded");
  EXPECT_LT(Clock::now() - started, 15s);
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(photos(), 1u) << "a duplicated callback delivers once";
  EXPECT_GE(kie_stats()["callbacks_sent"], 2);
  auto forged = request("POST", url(port, "/kie/callback/job-cb?sig=" + std::string(64, '0')), "{}");
  EXPECT_EQ(forged.status, 403);
  EXPECT_EQ(request("POST", url(port, "/kie/callback/job-cb"), "{}").status, 403);
}

TEST_F(GeneratorTest, KieFailureAndTimeoutTellTheUserAndChargeNothing) {
  start_generator();
  auto balance = user()["balance"].get<std::int64_t>();
  kie_config({{"failure_rate", 1.0}});
  publish(job("job-fail", hold("job-fail", 3'000)));
  auto results = read("gen.results", 1);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0]["status"], "failed");
  EXPECT_EQ(results[0]["error"]["code"], "kie_failed");
  auto last = transcript().back();
  EXPECT_NE(last.value("text", "").find("You were not charged"), std::string::npos) << last.dump();
  EXPECT_EQ(last["reply_markup"]["inline_keyboard"][0][0]["callback_data"], "retry:job-fail");
  // A generation that outlasts the job's deadline.
  kie_config({{"failure_rate", 0.0}, {"latency_ms", {{"generating", 60'000}}}});
  publish(job("job-slow", hold("job-slow", 3'000), {{"deadline_s", 10}}));
  auto both = read("gen.results", 2, 30s);
  ASSERT_EQ(both.size(), 2u);
  EXPECT_EQ(both[1]["status"], "failed");
  EXPECT_EQ(both[1]["error"]["code"], "timeout");
  // KIE's account is empty: 402 fails the job at once, nothing is charged,
  // the user is told and the alert metric counts it.
  kie_config({{"latency_ms", {{"generating", 200}}}, {"credits", 0}});
  publish(job("job-402", hold("job-402", 3'000)));
  auto three = read("gen.results", 3, 30s);
  ASSERT_EQ(three.size(), 3u);
  json credits_result;
  for (const auto& r : three) {
    if (r["job_id"] == "job-402") credits_result = r;
  }
  EXPECT_EQ(credits_result["status"], "failed");
  EXPECT_EQ(credits_result["error"]["code"], "kie_credits");
  EXPECT_NE(transcript().back().value("text", "").find("temporarily unavailable"), std::string::npos);
  EXPECT_EQ(metric(0, "generator_kie_credits_exhausted_total"), 1);
  auto u = user();
  EXPECT_EQ(u["balance"], balance);
  EXPECT_EQ(u["held"], 0);
  EXPECT_EQ(photos(), 0u);
}

TEST_F(GeneratorTest, AnUnansweredSubmitFailsWithoutCallbacksAndIsAdoptedWithThem) {
  // KIE creates the task but answers after the generator stopped waiting:
  // nobody knows whether the task exists, so nothing is submitted again.
  // The short Kafka session of the multi-replica tests: a second generator follows this one.
  std::map<std::string, std::string> quick_group = {{"KAFKA_CFG_SESSION_TIMEOUT_MS", "6000"},
                                                    {"KAFKA_CFG_HEARTBEAT_INTERVAL_MS", "500"}};
  auto env = quick_group;
  env["KIE_CREATE_TIMEOUT_MS"] = "1000";
  start_generator(env);
  auto balance = user()["balance"].get<std::int64_t>();
  kie_config({{"slow_next_create", {{"ms", 3'000}, {"count", 1}}}});
  publish(job("job-unanswered", hold("job-unanswered", 2'000)));
  auto results = read("gen.results", 1, 30s);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0]["status"], "failed");
  EXPECT_EQ(results[0]["error"]["code"], "ambiguous_submit");
  EXPECT_NE(transcript().back().value("text", "").find("could not confirm that the generation started"),
            std::string::npos);
  std::this_thread::sleep_for(3s);
  EXPECT_EQ(kie_stats()["tasks_created"], 1) << "never a second paid task";
  EXPECT_EQ(user()["held"], 0);
  EXPECT_EQ(user()["balance"], balance);
  EXPECT_EQ(photos(), 0u);
  // With callbacks the task announces itself: the job adopts it and completes, once.
  auto port = test::free_port();
  // A graceful stop leaves the consumer group at once (a killed member would
  // hold its partitions for the whole session timeout).
  EXPECT_EQ(generators.front()->stop(SIGTERM, 15s), 0);
  generators.clear();
  generator_ports.clear();
  env["HTTP_PORT"] = std::to_string(port);
  env["PUBLIC_BASE_URL"] = "http://127.0.0.1:" + std::to_string(port);
  env["CALLBACK_SECRET"] = "cb-secret";
  start_generator(env);
  kie_config({{"slow_next_create", {{"ms", 3'000}, {"count", 1}}}});
  publish(job("job-adopted", hold("job-adopted", 2'000)));
  auto both = read("gen.results", 2, 30s);
  json adopted;
  for (const auto& r : both) {
    if (r["job_id"] == "job-adopted") adopted = r;
  }
  EXPECT_EQ(adopted["status"], "succeeded") << adopted.dump();
  EXPECT_EQ(metric(0, "generator_tasks_adopted_total"), 1);
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(kie_stats()["tasks_created"], 2);
  EXPECT_EQ(photos(), 1u);
  EXPECT_EQ(user()["balance"], balance - 2'000);
}

TEST_F(GeneratorTest, RateLimitsAndServerErrorsAreRetriedAndChargedOnce) {
  start_generator();
  auto balance = user()["balance"].get<std::int64_t>();
  kie_config({{"fail_next_create", {{"code", 500}, {"count", 2}}}});
  publish(job("job-500", hold("job-500", 1'000)));
  auto results = read("gen.results", 1, 30s);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0]["status"], "succeeded");
  kie_config({{"fail_next_create", {{"code", 429}, {"count", 2}}}});
  publish(job("job-429", hold("job-429", 1'000)));
  results = read("gen.results", 2, 30s);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[1]["status"], "succeeded");
  EXPECT_EQ(kie_stats()["tasks_created"], 2);
  EXPECT_EQ(photos(), 2u);
  EXPECT_EQ(user()["balance"].get<std::int64_t>(), balance - 2'000);
}

TEST_F(GeneratorTest, InvalidJobsGoToTheDlqAndConsumptionGoesOn) {
  start_generator();
  publish("bad-1", "not json");
  json missing = job("job-x", "");
  missing.erase("model");
  publish(missing);
  publish(job("job-after", ""));
  auto dlq = read("gen.jobs.dlq", 2);
  ASSERT_EQ(dlq.size(), 2u);
  std::set<std::string> reasons{dlq[0]["reason"], dlq[1]["reason"]};
  EXPECT_TRUE(reasons.count("not a JSON object"));
  EXPECT_TRUE(reasons.count("model: required, a string"));
  EXPECT_EQ(dlq[0]["topic"], "gen.jobs");
  auto results = read("gen.results", 1);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0]["job_id"], "job-after");
}

TEST_F(GeneratorTest, AJobRunsOnlyIfItsOwnHoldPaysForIt) {
  start_generator();
  auto now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  accounts_call("POST", "/v1/users/43/credits", {{"amount", 10'000}, {"reason", "topup"}, {"idempotency_key", "f43"}});
  auto others = accounts_call("POST", "/v1/users/43/holds",
                              {{"amount", 1'000}, {"kind", "paid"}, {"idempotency_key", "pay-wrong-user"}})["hold_id"];
  auto released = hold("pay-released", 1'000);
  accounts_call("POST", "/v1/holds/" + released + "/release");
  auto short_lived =
      accounts_call("POST", "/v1/users/42/holds",
                    {{"amount", 1'000}, {"kind", "paid"}, {"idempotency_key", "pay-short"}, {"ttl_s", 60}});
  std::map<std::string, std::string> expected{
      {"pay-wrong-user", "hold_wrong_user"},
      {"pay-wrong-job", "hold_wrong_job"},
      {"pay-tiny", "hold_too_small"},
      {"pay-released", "hold_released"},
      {"pay-short", "hold_expires_before_deadline"},
      {"pay-missing", "hold_not_found"},
      {"pay-none", "unpaid_job"},
      {"pay-seconds", "implausible_created_ms"},
  };
  publish(job("pay-wrong-user", others));
  publish(job("pay-wrong-job", hold("some-other-job", 1'000)));
  publish(job("pay-tiny", hold("pay-tiny", 1)));  // nano-banana costs 3.14 ₽
  publish(job("pay-released", released));
  publish(job("pay-short", short_lived["hold_id"]));
  publish(job("pay-missing", "42-0123456789abcdef"));
  publish(job("pay-none", "", {{"source", "somebody"}}));
  publish(job("pay-seconds", hold("pay-seconds", 1'000), {{"created_ms", now_ms / 1000}}));
  auto results = read("gen.results", expected.size());
  std::map<std::string, std::string> got;
  for (const auto& r : results) {
    EXPECT_EQ(r["status"], "failed") << r.dump();
    got[r["job_id"]] = r["error"]["code"];
  }
  EXPECT_EQ(got, expected);
  std::set<std::string> dlq_reasons;
  for (const auto& d : read("gen.jobs.dlq", expected.size())) dlq_reasons.insert(d["reason"].get<std::string>());
  for (const auto& [id, reason] : expected) EXPECT_TRUE(dlq_reasons.count(reason)) << reason;
  EXPECT_EQ(kie_stats()["tasks_created"], 0) << "nothing ran on KIE";
  // Someone else's hold is left as it was.
  EXPECT_EQ(accounts_call("GET", "/v1/holds/" + others.get<std::string>())["state"], "held");
  EXPECT_EQ(metric(0, "generator_unpaid_jobs_total{source=\"other\",result=\"refused\"}"), 1);
  // A job with its own hold covering the price runs.
  publish(job("pay-ok", hold("pay-ok", 314)));
  auto ok = read("gen.results", expected.size() + 1);
  bool succeeded = false;
  for (const auto& r : ok) succeeded |= r["job_id"] == "pay-ok" && r["status"] == "succeeded";
  EXPECT_TRUE(succeeded);
}

TEST_F(GeneratorTest, ResultsTooLargeForTelegramUrlsAreUploadedOrLinked) {
  start_generator();
  // Telegram fetches photos by URL up to 5 MB and takes uploads up to 10 MB.
  kie_config({{"result_size", 6 << 20}});
  publish(job("job-big", ""));
  ASSERT_EQ(read("gen.results", 1).size(), 1u);
  EXPECT_EQ(photos(), 1u) << "uploaded";
  kie_config({{"result_size", 12 << 20}});
  publish(job("job-huge", ""));
  ASSERT_EQ(read("gen.results", 2).size(), 2u);
  auto last = transcript().back();
  EXPECT_NE(last.value("text", "").find("http://"), std::string::npos) << last.dump();
}

TEST_F(GeneratorTest, AResultUrlOnANonAllowedLoopbackPortFailsTheJobAndReleasesItsHold) {
  start_generator();
  // KIE names an internal service (accounts, on loopback but not an allowed
  // origin) as the result: nothing is fetched or handed to Telegram.
  kie_config({{"result_base_url", url(accounts_port, "")}});
  auto balance = user()["balance"].get<std::int64_t>();
  publish(job("job-ssrf", hold("job-ssrf", 1'000)));
  auto results = read("gen.results", 1);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0]["status"], "failed") << job_record("job-ssrf");
  EXPECT_EQ(results[0]["error"]["code"], "unsafe_result_url") << results[0].dump();
  EXPECT_EQ(results[0]["delivered"], false);
  auto u = user();
  EXPECT_EQ(u["balance"].get<std::int64_t>(), balance);
  EXPECT_EQ(u["held"], 0);
  EXPECT_EQ(metric(0, "generator_unsafe_result_urls_total"), 1);
  EXPECT_EQ(photos(), 0u);
  // KIE's own origin stays allowed, though it is on loopback too.
  kie_config({{"result_base_url", ""}});
  publish(job("job-safe", hold("job-safe", 1'000)));
  results = read("gen.results", 2);
  ASSERT_EQ(results.size(), 2u);
  // Results of different jobs come from different partitions, in any order.
  auto safe = results[0]["job_id"] == "job-safe" ? results[0] : results[1];
  EXPECT_EQ(safe["job_id"], "job-safe");
  EXPECT_EQ(safe["status"], "succeeded") << job_record("job-safe");
  EXPECT_EQ(photos(), 1u);
}

TEST_F(GeneratorTest, AVideoTelegramCannotFetchIsRelayedAsItArrives) {
  start_generator();
  // 30 MiB: beyond Telegram's 20 MB by URL, within its 50 MB upload. Both
  // emulators stream it; the generator relays it without holding it.
  constexpr std::int64_t kSize = 30 << 20;
  kie_config({{"result_size", kSize}});
  json j = job("job-video", "");
  j["model"] = "wan/2-5-text-to-video";
  j["input"] = {{"prompt", "a fox running"}};
  publish(j);
  auto results = read("gen.results", 1, 60s);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0]["status"], "succeeded") << job_record("job-video");
  bool uploaded = false;
  for (const auto& m : transcript()) {
    if (m.contains("media") && m["media"]["type"] == "video") {
      uploaded = true;
      EXPECT_EQ(m["media"]["file_size"], kSize) << m.dump();
    }
  }
  EXPECT_TRUE(uploaded) << transcript().dump();
  // Beyond the upload limit: a link, never a download of the whole.
  kie_config({{"result_size", 60 << 20}});
  j["job_id"] = "job-video-huge";
  publish(j);
  ASSERT_EQ(read("gen.results", 2, 60s).size(), 2u);
  auto last = transcript().back();
  EXPECT_NE(last.value("text", "").find("http://"), std::string::npos) << last.dump();
}

TEST_F(GeneratorTest, JobsWithoutAChatGoOnlyToResults) {
  start_generator();
  json j = job("job-internal", "");
  j.erase("chat_id");
  j.erase("user_id");
  publish(j);
  auto results = read("gen.results", 1);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0]["status"], "succeeded");
  EXPECT_EQ(results[0]["delivered"], false);
  EXPECT_EQ(photos(), 0u);
}

TEST_F(GeneratorTest, ThreeReplicasOneKilledEveryJobExactlyOnce) {
  constexpr int kJobs = 300;
  tg_call("POST", "/control/config", {{"flood_control", false}});
  tg_call("POST", "/control/updates", {{"count", kJobs}, {"users", kJobs}, {"first_user_id", 1000}});
  kie_config({{"latency_ms", {{"waiting", 100}, {"queuing", 100}, {"generating", 500}}}});
  auto port0 = test::free_port();
  std::map<std::string, std::string> env{{"PUBLIC_BASE_URL", "http://127.0.0.1:" + std::to_string(port0)},
                                         {"CALLBACK_SECRET", "cb-secret"},
                                         {"KAFKA_CFG_SESSION_TIMEOUT_MS", "6000"},
                                         {"KAFKA_CFG_HEARTBEAT_INTERVAL_MS", "500"},
                                         {"MAX_INFLIGHT", "50"},
                                         {"CLAIM_TTL_MS", "10000"},
                                         {"ADOPT_WAIT_MS", "5000"},
                                         {"TELEGRAM_GLOBAL_RATE", "1000"}};
  env["HTTP_PORT"] = std::to_string(port0);
  start_generator(env);
  env["HTTP_PORT"] = "0";
  start_generator(env);
  start_generator(env);
  auto balance = user()["balance"].get<std::int64_t>();
  for (int i = 0; i < kJobs; ++i) {
    auto id = "job-" + std::to_string(i);
    auto j = job(id, hold(id, 314));
    j["chat_id"] = 1000 + i;
    j["input"]["prompt"] = "fox " + id;
    publish(j);
  }
  ASSERT_TRUE(wait_until([&] { return kie_stats()["tasks_created"].get<int>() >= kJobs / 3; }, 60s));
  generators[1]->stop(SIGKILL, 5s);
  auto results = read("gen.results", kJobs, 120s);
  // Each job finishes once: succeeded (delivered, charged), or, when the
  // killed replica was submitting it and KIE never got it, failed as
  // ambiguous (released, never submitted again).
  std::map<std::string, std::string> finished;
  for (const auto& r : results) {
    auto id = r["job_id"].get<std::string>();
    auto status = r["status"].get<std::string>();
    if (status == "failed") {
      EXPECT_EQ(r["error"]["code"], "ambiguous_submit") << r.dump();
      std::cerr << "failed: " << job_record(id) << "\n";
    }
    finished[id] = status;
  }
  EXPECT_EQ(finished.size(), static_cast<std::size_t>(kJobs));
  int succeeded = 0;
  for (int i = 0; i < kJobs; ++i) {
    auto id = "job-" + std::to_string(i);
    if (finished.count(id) == 0) ADD_FAILURE() << id << " unfinished: " << job_record(id);
    succeeded += finished[id] == "succeeded" ? 1 : 0;
  }
  EXPECT_GE(succeeded, kJobs - 50) << "only submissions in flight in the killed replica (MAX_INFLIGHT 50) may fail";
  EXPECT_EQ(kie_stats()["tasks_created"], succeeded) << "no job submitted twice, every task delivered";
  int missing = 0, doubled = 0;
  for (int i = 0; i < kJobs; ++i) {
    auto chat = tg_call("GET", "/control/chats/" + std::to_string(1000 + i) + "/transcript");
    int n = 0;
    for (const auto& m : chat) n += m.contains("media") ? 1 : 0;
    bool ok = finished["job-" + std::to_string(i)] == "succeeded";
    missing += ok && n == 0 ? 1 : 0;
    doubled += n > 1 ? 1 : 0;
  }
  EXPECT_EQ(missing, 0);
  // A result appears twice only when the killed replica was sending it:
  // every such send is repeated by a survivor and counted (a repeat whose
  // first send never reached Telegram shows once).
  double repeated = 0;
  for (std::size_t g : {0u, 2u}) repeated += metric(g, "generator_deliveries_repeated_total");
  EXPECT_LE(doubled, static_cast<int>(repeated));
  EXPECT_LE(repeated, 50) << "at most the killed replica's MAX_INFLIGHT";
  auto u = user();
  EXPECT_EQ(u["balance"].get<std::int64_t>(), balance - 314 * succeeded) << "charged once per delivered result";
  EXPECT_EQ(u["held"], 0);
}

TEST_F(GeneratorTest, SigtermHandsJobsBackWithinTenSeconds) {
  tg_call("POST", "/control/config", {{"flood_control", false}});
  kie_config({{"latency_ms", {{"waiting", 100}, {"queuing", 100}, {"generating", 2'000}}}});
  std::map<std::string, std::string> env{{"KAFKA_CFG_SESSION_TIMEOUT_MS", "6000"},
                                         {"KAFKA_CFG_HEARTBEAT_INTERVAL_MS", "500"},
                                         {"TELEGRAM_CHAT_INTERVAL_MS", "1"},
                                         {"TELEGRAM_GLOBAL_RATE", "1000"}};
  start_generator(env);
  for (int i = 0; i < 40; ++i) publish(job("job-t" + std::to_string(i), ""));
  ASSERT_TRUE(wait_until([&] { return kie_stats()["tasks_created"].get<int>() >= 40; }, 30s));
  start_generator(env);
  auto stopped_at = Clock::now();
  EXPECT_EQ(generators[0]->stop(SIGTERM, 15s), 0);
  EXPECT_LT(Clock::now() - stopped_at, 10s);
  auto results = read("gen.results", 40, 60s);
  std::set<std::string> ids;
  for (const auto& r : results) {
    EXPECT_EQ(r["status"], "succeeded") << r.dump();
    ids.insert(r["job_id"]);
  }
  EXPECT_EQ(ids.size(), 40u) << "the other replica finished every job";
  EXPECT_EQ(kie_stats()["tasks_created"], 40);
}

TEST_F(GeneratorTest, DeliveriesToOneChatKeepTelegramsPaceAcrossReplicas) {
  // Two replicas, six results for one chat: the shared limiter keeps them
  // to one a second after a burst of three, so Telegram never says 429.
  // As in the other multi-replica tests: a group rebalance must not wait
  // for librdkafka's 45 s session timeout.
  std::map<std::string, std::string> env{{"KAFKA_CFG_SESSION_TIMEOUT_MS", "6000"},
                                         {"KAFKA_CFG_HEARTBEAT_INTERVAL_MS", "500"}};
  start_generator(env);
  start_generator(env);
  for (int i = 0; i < 6; ++i) publish(job("job-pace" + std::to_string(i), ""));
  ASSERT_EQ(read("gen.results", 6, 60s).size(), 6u);
  EXPECT_EQ(photos(), 6u);
  EXPECT_EQ(tg_call("GET", "/control/stats")["flood_429"], 0);
}

}  // namespace
