// generator as separate processes against kie-emulator, tg-emulator,
// accounts, kafka-dev and a real redis-server: jobs end to end, callbacks,
// failures, retries, the DLQ, payment checks and a replica killed mid-run.
#include <gtest/gtest.h>

#include <signal.h>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include <iostream>
#include <map>
#include <set>
#include <thread>

#include "generator_fixture.hpp"
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
using test::GeneratorTest;
using test::kBotToken;
using test::kUser;

namespace {

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

// KIE signs callbacks with the account's webhook HMAC key
// (docs.kie.ai/common-api/webhook-verification); with KIE_WEBHOOK_HMAC_KEY
// the generator takes only callbacks that carry that signature.
void callbacks_with_webhook_key(GeneratorTest& t, const std::string& key, bool accepted) {
  auto port = test::free_port();
  t.start_generator({{"HTTP_PORT", std::to_string(port)},
                     {"PUBLIC_BASE_URL", "http://127.0.0.1:" + std::to_string(port)},
                     {"CALLBACK_SECRET", "cb-secret"},
                     {"KIE_WEBHOOK_HMAC_KEY", key},
                     // Accepted callbacks must be what finishes the job; refused
                     // ones leave it to a check after 3 s.
                     {"FIRST_CHECK_MS", accepted ? "20000" : "3000"},
                     {"MAX_CHECK_MS", accepted ? "20000" : "3000"}});
  auto started = Clock::now();
  t.publish(t.job("job-signed", t.hold("job-signed", 1'000)));
  auto results = t.read("gen.results", 1, 40s);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0]["status"], "succeeded");
  // Accepted: the callback finishes the job long before the 20 s check.
  if (accepted) {
    EXPECT_LT(Clock::now() - started, 15s);
  }
  EXPECT_EQ(t.metric(0, "generator_callbacks_total") >= 1, accepted);
  EXPECT_EQ(t.metric(0, "generator_callbacks_forbidden_total") >= 1, !accepted);
}

TEST_F(GeneratorTest, CallbacksSignedWithKiesWebhookKeyAreTaken) {
  callbacks_with_webhook_key(*this, test::kWebhookKey, true);
}

TEST_F(GeneratorTest, CallbacksWithoutKiesWebhookSignatureAreRefused) {
  callbacks_with_webhook_key(*this, "another-key", false);
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

// Every succeeded job's result is in its chat (chats 1000...), and a result
// appears twice only when the killed replica was sending it: every such send
// is repeated by a survivor (replicas 0 and 2) and counted (a repeat whose
// first send never reached Telegram shows once).
void expect_every_result_delivered_once(GeneratorTest& t, const std::map<std::string, std::string>& finished,
                                        int jobs) {
  int missing = 0, doubled = 0;
  for (int i = 0; i < jobs; ++i) {
    auto chat = t.tg_call("GET", "/control/chats/" + std::to_string(1000 + i) + "/transcript");
    int n = 0;
    for (const auto& m : chat) n += m.contains("media") ? 1 : 0;
    auto it = finished.find("job-" + std::to_string(i));
    bool ok = it != finished.end() && it->second == "succeeded";
    missing += ok && n == 0 ? 1 : 0;
    doubled += n > 1 ? 1 : 0;
  }
  EXPECT_EQ(missing, 0);
  double repeated = 0;
  for (std::size_t g : {0u, 2u}) repeated += t.metric(g, "generator_deliveries_repeated_total");
  EXPECT_LE(doubled, static_cast<int>(repeated));
  EXPECT_LE(repeated, 50) << "at most the killed replica's MAX_INFLIGHT";
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
  expect_every_result_delivered_once(*this, finished, kJobs);
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

}  // namespace
