// Pure rules behind money and hostile input: bounded JSON, who pays for a
// job, which updates may never be skipped, the money queue's records, and a
// TaskGroup that joins what it spawned.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <nlohmann/json.hpp>

#include "dialog/catalog.hpp"
#include "dialog/dispatcher.hpp"
#include "dialog/money_queue.hpp"
#include "generator.hpp"
#include "job.hpp"
#include "kie_client.hpp"
#include "kiebot/base/json.hpp"
#include "kiebot/runtime/backoff.hpp"
#include "kiebot/runtime/task_group.hpp"
#include "payment.hpp"
#include "run.hpp"

using namespace kiebot;
using nlohmann::json;

namespace {

std::string nested(std::size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

generator::Job paid_job() {
  generator::Job job;
  job.id = "dlg-42-abc";
  job.model = "google/nano-banana";
  job.input = {{"prompt", "a fox"}, {"output_format", "png"}, {"aspect_ratio", "1:1"}};
  job.created_ms = 1'000'000;
  job.deadline_s = 900;
  job.user_id = UserId(42);
  job.hold_id = HoldId("42-0123456789abcdef");
  return job;
}

generator::HoldInfo good_hold() {
  generator::HoldInfo h;
  h.state = "held";
  h.kind = "paid";
  h.user_id = UserId(42);
  h.amount = Kopecks(314);
  h.expires_ms = 1'000'000 + 1'500'000;
  h.key = "dlg-42-abc";
  return h;
}

}  // namespace

TEST(BoundedJson, DeepValuesAreRefusedWhileParsing) {
  EXPECT_TRUE(parse_untrusted(nested(100'000)).is_discarded());  // used to overflow the stack later
  EXPECT_FALSE(parse_untrusted(nested(64)).is_discarded());
  EXPECT_TRUE(parse_untrusted(nested(65)).is_discarded());
  EXPECT_TRUE(parse_untrusted(R"({"a":)" + nested(70) + "}").is_discarded());
  EXPECT_TRUE(parse_untrusted(std::string(100, ' ') + "1", {64, 50}).is_discarded());
  EXPECT_TRUE(parse_untrusted("{\"a\":").is_discarded());
  EXPECT_EQ(parse_untrusted(R"({"a":[1,{"b":null}]})")["a"][0], 1);
}

TEST(BoundedJson, ADeeplyNestedJobIsAnErrorNotACrash) {
  auto text = R"({"v":1,"job_id":"j","model":"m","created_ms":1,"input":{"x":)" + nested(100'000) + "}}";
  auto parsed = generator::parse_job(text);
  ASSERT_TRUE(std::holds_alternative<std::string>(parsed));
  EXPECT_EQ(std::get<std::string>(parsed), "not a JSON object");
}

TEST(WhoPays, OnlyTheJobsOwnLiveHoldCoveringThePrice) {
  const auto& catalog = dialog::builtin_catalog();
  auto job = paid_job();
  EXPECT_EQ(generator::hold_problem(job, good_hold(), catalog), std::nullopt);
  auto with = [&](auto change) {
    auto h = good_hold();
    change(h);
    return generator::hold_problem(job, h, catalog).value_or("ok");
  };
  EXPECT_EQ(with([](auto& h) { h.state = "committed"; }), "hold_committed");
  EXPECT_EQ(with([](auto& h) { h.state = "released"; }), "hold_released");
  EXPECT_EQ(with([](auto& h) { h.state = "expired"; }), "hold_expired");
  EXPECT_EQ(with([](auto& h) { h.user_id = UserId(43); }), "hold_wrong_user");
  EXPECT_EQ(with([](auto& h) { h.key = "another-job"; }), "hold_wrong_job");
  EXPECT_EQ(with([](auto& h) { h.expires_ms = 1'000'000 + 899'000; }), "hold_expires_before_deadline");
  EXPECT_EQ(with([](auto& h) { h.amount = Kopecks(1); }), "hold_too_small");
  EXPECT_EQ(with([](auto& h) { h.kind = "free"; }), "ok");  // nano-banana is a free model
  auto admin = with([](auto& h) {
    h.kind = "admin";
    h.amount = Kopecks(157);
  });
  EXPECT_EQ(admin, "ok");  // admins pay the price / 2
  job.model = "kling-2.6/text-to-video";
  job.input = {{"prompt", "x"}, {"duration", "10"}, {"sound", true}, {"aspect_ratio", "16:9"}};
  EXPECT_EQ(generator::job_price(job, "paid", catalog), Kopecks(17'285));
  EXPECT_EQ(with([](auto& h) { h.kind = "free"; }), "hold_free_not_allowed");
  EXPECT_EQ(with([](auto& h) { h.amount = Kopecks(4'321); }), "hold_too_small");  // the price of 5 s without sound
  // A model the catalog does not sell is the input check's to refuse
  // (model_not_sold, releasing this job's hold): the hold itself is fine.
  job.model = "some/other-model";
  EXPECT_EQ(with([](auto&) {}), "ok");
}

TEST(WhoPays, UnpaidSourcesAreAList) {
  EXPECT_EQ(generator::parse_sources(""), std::set<std::string>{});
  EXPECT_EQ(generator::parse_sources("a, b,,c "), (std::set<std::string>{"a", "b", "c"}));
}

TEST(MoneyUpdates, PaymentsAndRefundsAreNeverSkipped) {
  EXPECT_TRUE(dialog::money_update(json::parse(R"({"update_id":1,"message":{"successful_payment":{}}})")));
  EXPECT_TRUE(dialog::money_update(json::parse(R"({"update_id":1,"message":{"refunded_payment":{}}})")));
  EXPECT_FALSE(dialog::money_update(json::parse(R"({"update_id":1,"message":{"text":"hi"}})")));
  EXPECT_FALSE(dialog::money_update(json::parse(R"({"update_id":1,"message":"x"})")));
  EXPECT_FALSE(dialog::money_update(json::parse(R"({"update_id":1,"callback_query":{}})")));
}

TEST(MoneyQueue, OperationsSurviveTheirRecord) {
  dialog::MoneyOp op;
  op.key = "charge-1";
  op.kind = "credit";
  op.user_id = UserId(7);
  op.amount = Kopecks(10'000);
  op.reason = "stars";
  op.notify_chat = ChatId(7);
  op.lang = "en";
  op.attempts = 3;
  op.created_ms = 99;
  auto back = dialog::MoneyOp::from_json(op.to_json());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->to_json(), op.to_json());
  EXPECT_FALSE(dialog::MoneyOp::from_json(R"({"v":1,"key":"k","kind":"steal","user_id":1,"amount":1,"reason":"x"})"));
  EXPECT_FALSE(
      dialog::MoneyOp::from_json(R"({"v":1,"key":"k","kind":"credit","user_id":"1","amount":1,"reason":"x"})"));
  EXPECT_FALSE(dialog::MoneyOp::from_json("[]"));
  // The stored form is v1 as before the fields were typed: no admin is 0.
  EXPECT_NE(op.to_json().find(R"("admin_id":0)"), std::string::npos) << op.to_json();
  auto grant = dialog::MoneyOp::from_json(
      R"({"v":1,"key":"g","kind":"credit","user_id":7,"amount":100,"reason":"admin_grant","admin_id":2,"notify_chat":2})");
  ASSERT_TRUE(grant);
  EXPECT_EQ(grant->admin_id, UserId(2));
  EXPECT_EQ(grant->notify_chat, ChatId(2));
  // A confirmed generation waiting for accounts: its form goes along.
  dialog::MoneyOp submission;
  submission.key = "dlg-7-abc";
  submission.kind = "submission";
  submission.user_id = UserId(7);
  submission.notify_chat = ChatId(7);
  submission.payload = R"({"message_id":5,"model":"z-image","reply_to":0,"values":{"prompt":"fox"}})";
  auto kept = dialog::MoneyOp::from_json(submission.to_json());
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->payload, submission.payload);
  EXPECT_EQ(kept->to_json(), submission.to_json());
  submission.payload = "not json";
  EXPECT_FALSE(dialog::MoneyOp::from_json(submission.to_json()));
  submission.payload = R"({"model":"z-image"})";
  submission.notify_chat = ChatId(0);
  EXPECT_FALSE(dialog::MoneyOp::from_json(submission.to_json())) << "nobody to tell";
  dialog::MoneyOp referral;
  referral.key = "referral:7";
  referral.kind = "referral";
  referral.user_id = UserId(7);
  referral.ref = "8";
  referral.name = "Ann";
  auto joined = dialog::MoneyOp::from_json(referral.to_json());
  ASSERT_TRUE(joined);
  EXPECT_EQ(joined->name, "Ann");
  EXPECT_EQ(joined->amount, Kopecks(0));
}

namespace {

net::awaitable<void> finishes(int* done) {
  bool slept = co_await sleep_for(std::chrono::milliseconds(10));
  if (slept) ++*done;
  co_return;
}

net::awaitable<void> sleeps_until_cancelled(int* cancelled) {
  bool slept = co_await sleep_for(std::chrono::hours(1));
  if (!slept) ++*cancelled;
  co_return;
}

net::awaitable<void> join_group(TaskGroup* group) {
  co_await group->join(std::chrono::milliseconds(50));
}

}  // namespace

TEST(TaskGroup, JoinWaitsThenCancelsWhatIsLeft) {
  net::io_context io;
  int done = 0, cancelled = 0;
  {
    TaskGroup group(io.get_executor(), "test");
    group.spawn(finishes(&done));
    group.spawn(sleeps_until_cancelled(&cancelled));
    EXPECT_EQ(group.size(), 2u);
    test::run(io, join_group(&group), std::chrono::seconds(5));
    EXPECT_EQ(group.size(), 0u);
  }
  EXPECT_EQ(done, 1);
  EXPECT_EQ(cancelled, 1);
}

TEST(KieAnswers, NullsAndRefusalsFailTheJobInsteadOfPollingToTheDeadline) {
  using generator::TaskState;
  auto null_data = generator::parse_record_info(200, R"({"code":200,"msg":"ok","data":null})");
  EXPECT_EQ(null_data.kind, TaskState::Kind::fail);
  EXPECT_EQ(null_data.fail_code, "no_data");
  auto null_result = generator::parse_record_info(
      200, R"({"code":200,"data":{"state":"success","resultJson":null,"param":null,"failMsg":null}})");
  EXPECT_EQ(null_result.kind, TaskState::Kind::fail);
  EXPECT_EQ(null_result.fail_code, "no_result");
  for (int code : {404, 422, 501}) {
    auto refused = generator::parse_record_info(200, R"({"code":)" + std::to_string(code) + R"(,"msg":"no"})");
    EXPECT_EQ(refused.kind, TaskState::Kind::fail) << code;
    EXPECT_EQ(refused.fail_code, "kie_" + std::to_string(code));
  }
  auto odd = generator::parse_record_info(200, R"({"code":"200","msg":5,"data":{"state":7}})");
  EXPECT_EQ(odd.kind, TaskState::Kind::unknown);  // retried, and logged
  auto pending = generator::parse_record_info(200, R"({"code":200,"data":{"state":"generating","costTime":"x"}})");
  EXPECT_EQ(pending.kind, TaskState::Kind::pending);
  auto created = generator::classify_create(200, R"({"code":200,"msg":null,"data":{"taskId":"t1"}})");
  EXPECT_EQ(created.kind, generator::Submitted::Kind::created);
  // Found by fuzz/kie_answer: an empty taskId was a created task no recordInfo could find.
  EXPECT_EQ(generator::classify_create(200, R"({"code":200,"data":{"taskId":""}})").kind,
            generator::Submitted::Kind::rejected);
}

// Suno's record-info: its own status words, tracks in sunoData, and the
// same refusals as the market's; its callbacks name the task as task_id.
TEST(KieAnswers, SunoRecordInfoAndCallbacks) {
  auto done = generator::parse_suno_record(200, R"({"code":200,"msg":"success","data":{"taskId":"t1",
      "param":"{\"callBackUrl\":\"https://bot.example/cb\"}","status":"SUCCESS",
      "response":{"sunoData":[{"audioUrl":"https://f.example/1.mp3","title":"Sea"},{"audioUrl":"https://f.example/2.mp3"},
      {"audioUrl":""},{"audioUrl":7}]}}})");
  EXPECT_EQ(done.kind, generator::TaskState::Kind::success);
  EXPECT_EQ(done.result_urls, (std::vector<std::string>{"https://f.example/1.mp3", "https://f.example/2.mp3"}));
  EXPECT_EQ(done.callback_url, "https://bot.example/cb");
  for (const char* stage : {"PENDING", "TEXT_SUCCESS", "FIRST_SUCCESS"}) {
    auto pending = generator::parse_suno_record(200, std::string(R"({"code":200,"data":{"status":")") + stage + R"("}})");
    EXPECT_EQ(pending.kind, generator::TaskState::Kind::pending) << stage;
  }
  auto failed = generator::parse_suno_record(
      200, R"({"code":200,"data":{"status":"SENSITIVE_WORD_ERROR","errorMessage":"lyrics refused"}})");
  EXPECT_EQ(failed.kind, generator::TaskState::Kind::fail);
  EXPECT_EQ(failed.fail_code, "SENSITIVE_WORD_ERROR");
  EXPECT_EQ(failed.fail_message, "lyrics refused");
  auto empty = generator::parse_suno_record(200, R"({"code":200,"data":{"status":"SUCCESS","response":{"sunoData":[]}}})");
  EXPECT_EQ(empty.kind, generator::TaskState::Kind::fail);
  EXPECT_EQ(generator::parse_suno_record(200, R"({"code":404,"msg":"no task"})").kind, generator::TaskState::Kind::fail);
  EXPECT_EQ(generator::parse_suno_record(502, "").kind, generator::TaskState::Kind::unknown);
  EXPECT_EQ(generator::callback_task_id(R"({"code":200,"data":{"callbackType":"complete","task_id":"t9","data":[]}})"), "t9");
}

// The other families' status answers, in the shapes their pages document:
// successFlag with each family's place for the results, Runway's state.
TEST(KieAnswers, EachFamilysStatusAnswer) {
  using Kind = generator::TaskState::Kind;
  auto veo = generator::parse_veo_record(200, R"({"code":200,"data":{"taskId":"v","successFlag":1,
      "paramJson":"{\"callBackUrl\":\"https://bot.example/cb\"}","response":{"resultUrls":["https://f.example/v.mp4"]}}})");
  EXPECT_EQ(veo.kind, Kind::success);
  EXPECT_EQ(veo.result_urls, (std::vector<std::string>{"https://f.example/v.mp4"}));
  EXPECT_EQ(veo.callback_url, "https://bot.example/cb");
  // One version of Veo's schema types resultUrls as a string holding the array.
  auto veo_text = generator::parse_veo_record(
      200, R"({"code":200,"data":{"successFlag":1,"response":{"resultUrls":"[\"https://f.example/w.mp4\"]"}}})");
  EXPECT_EQ(veo_text.result_urls, (std::vector<std::string>{"https://f.example/w.mp4"}));
  auto flux = generator::parse_flux_kontext_record(200, R"({"code":200,"data":{"successFlag":1,
      "response":{"originImageUrl":"https://f.example/o.jpg","resultImageUrl":"https://f.example/r.jpg"}}})");
  EXPECT_EQ(flux.result_urls, (std::vector<std::string>{"https://f.example/r.jpg"}));
  auto gpt = generator::parse_gpt4o_image_record(
      200, R"({"code":200,"data":{"successFlag":1,"response":{"result_urls":["https://f.example/g.png"]}}})");
  EXPECT_EQ(gpt.result_urls, (std::vector<std::string>{"https://f.example/g.png"}));
  auto mj = generator::parse_midjourney_record(200, R"({"code":200,"data":{"successFlag":1,
      "resultInfoJson":{"resultUrls":[{"resultUrl":"https://f.example/1.png"},{"resultUrl":"https://f.example/2.png"},{}]}}})");
  EXPECT_EQ(mj.result_urls, (std::vector<std::string>{"https://f.example/1.png", "https://f.example/2.png"}));
  EXPECT_EQ(generator::parse_midjourney_record(200, R"({"code":200,"data":{"successFlag":0}})").kind, Kind::pending);
  auto failed = generator::parse_veo_record(
      200, R"({"code":200,"data":{"successFlag":3,"errorCode":501,"errorMessage":"generation failed"}})");
  EXPECT_EQ(failed.kind, Kind::fail);
  EXPECT_EQ(failed.fail_code, "501");
  EXPECT_EQ(failed.fail_message, "generation failed");
  EXPECT_EQ(generator::parse_gpt4o_image_record(200, R"({"code":200,"data":{"successFlag":1,"response":null}})").kind,
            Kind::fail);
  auto runway = generator::parse_runway_record(
      200, R"({"code":200,"data":{"state":"success","videoInfo":{"videoUrl":"https://f.example/r.mp4","imageUrl":"x"}}})");
  EXPECT_EQ(runway.result_urls, (std::vector<std::string>{"https://f.example/r.mp4"}));
  EXPECT_EQ(generator::parse_runway_record(200, R"({"code":200,"data":{"state":"queueing"}})").kind, Kind::pending);
  auto refused = generator::parse_runway_record(200, R"({"code":200,"data":{"state":"fail","failCode":400,"failMsg":"nsfw"}})");
  EXPECT_EQ(refused.fail_code, "400");
  EXPECT_EQ(generator::parse_flux_kontext_record(200, R"({"code":404,"msg":"no task"})").kind, Kind::fail);
  EXPECT_EQ(generator::parse_runway_record(503, "").kind, Kind::unknown);
  EXPECT_EQ(generator::callback_task_id(R"({"code":200,"data":{"task_id":"rw1","video_url":""}})"), "rw1");
}

// A combination of values KIE refuses is no form to send and no job to run.
TEST(CatalogExclude, RunwaysTenSecondsAt1080pIsRefused) {
  const auto& c = catalog::builtin_catalog();
  const auto* runway = c.by_id("runway/gen-4");
  ASSERT_NE(runway, nullptr);
  auto values = runway->default_values();
  values["prompt"] = "a cat dancing";
  EXPECT_EQ(c.incomplete_field(*runway, values), "");
  values["duration"] = "10";
  values["quality"] = "1080p";
  EXPECT_EQ(c.incomplete_field(*runway, values), "quality");
  EXPECT_NE(c.input_problem(*runway, c.kie_input(*runway, values)), "");
  values["quality"] = "720p";
  EXPECT_EQ(c.input_problem(*runway, c.kie_input(*runway, values)), "");
  EXPECT_EQ(c.price(*runway, values), 2357);
}

// KIE's webhook signature as docs.kie.ai/common-api/webhook-verification
// defines it, against a value computed independently (Python's hmac and
// base64): base64(HMAC-SHA256(key, task_id + "." + timestamp)).
TEST(KieWebhook, SignatureAsKieDocumentsItWithinFiveMinutes) {
  const std::string sig = "bwv5Xbp7ie4Iaji6Oxbe3Udzjufv2sDqKr8EtiRkOTU=";
  EXPECT_EQ(generator::kie_webhook_signature("webhook-key", "task_abc", "1700000000"), sig);
  EXPECT_TRUE(generator::kie_webhook_valid("webhook-key", "task_abc", "1700000000", sig, 1'700'000'100));
  EXPECT_FALSE(generator::kie_webhook_valid("webhook-key", "task_abc", "1700000000", sig, 1'700'000'400)) << "a replay";
  EXPECT_FALSE(generator::kie_webhook_valid("other-key", "task_abc", "1700000000", sig, 1'700'000'000));
  EXPECT_FALSE(generator::kie_webhook_valid("webhook-key", "task_abd", "1700000000", sig, 1'700'000'000));
  EXPECT_FALSE(generator::kie_webhook_valid("webhook-key", "task_abc", "17e8", sig, 1'700'000'000));
  EXPECT_FALSE(generator::kie_webhook_valid("webhook-key", "", "1700000000", sig, 1'700'000'000));
  EXPECT_FALSE(generator::kie_webhook_valid("webhook-key", "task_abc", "99999999999999999999", sig, 1'700'000'000));
}
