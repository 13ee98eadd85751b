// ingress poller units: the update scanner, Bot API answer sorting, the
// Kafka message mapping, secret comparison and backoff bounds.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "kiebot/base/secrets.hpp"
#include "kiebot/runtime/backoff.hpp"
#include "poller/bot_api.hpp"
#include "poller/ingress_metrics.hpp"
#include "poller/offset_store.hpp"
#include "poller/update_scan.hpp"
#include "poller/webhook.hpp"

using namespace kiebot;
using namespace kiebot::ingress;

TEST(UpdateScan, FindsEachUpdateVerbatimWithItsChat) {
  std::string body = R"({"ok":true,"result":[
    {"update_id":7,"message":{"message_id":1,"from":{"id":42,"is_bot":false},"chat":{"id":-100123,"type":"group"},"text":"a \"quoted\" } ] { text \\"}},
    {"update_id":8,"callback_query":{"id":"cb1","from":{"id":43},"message":{"message_id":5,"chat":{"id":43,"type":"private"}},"data":"x"}},
    {"update_id":9, "pre_checkout_query" : {"id":"pc","from":{"id":44},"currency":"XTR","total_amount":5}},
    {"update_id":10,"poll":{"id":"p","options":[1.5e3,true,null]}}
  ]})";
  auto updates = scan_get_updates(body);
  ASSERT_EQ(updates.size(), 4u);
  EXPECT_EQ(updates[0].update_id, 7);
  EXPECT_EQ(updates[0].key, -100123);  // the chat, not the sender
  EXPECT_EQ(updates[1].key, 43);       // a callback query's message chat
  EXPECT_EQ(updates[2].key, 44);       // no chat: the user
  EXPECT_EQ(updates[3].key, 0);        // neither
  // Verbatim: the text between the array's commas, parseable on its own.
  EXPECT_EQ(updates[0].json.front(), '{');
  EXPECT_EQ(updates[0].json.back(), '}');
  auto parsed = nlohmann::json::parse(updates[0].json);
  EXPECT_EQ(parsed["message"]["text"], "a \"quoted\" } ] { text \\");
  EXPECT_EQ(
      updates[2].json,
      R"({"update_id":9, "pre_checkout_query" : {"id":"pc","from":{"id":44},"currency":"XTR","total_amount":5}})");
}

TEST(UpdateScan, ReplyChatsDeeperDownDoNotDecideTheKey) {
  auto u = scan_update(R"({"message":{"reply_to_message":{"chat":{"id":1}},"chat":{"id":2}},"update_id":3})");
  EXPECT_EQ(u.key, 2);
  EXPECT_EQ(u.update_id, 3);
}

TEST(UpdateScan, RefusesWhatIsNotAnAnswerOrAnUpdate) {
  EXPECT_THROW(scan_get_updates(R"({"ok":false,"error_code":409})"), ScanError);
  EXPECT_THROW(scan_get_updates(R"({"ok":true,"result":[{"update_id":1})"), ScanError);
  EXPECT_THROW(scan_get_updates(R"({"ok":true,"result":[1]})"), ScanError);
  EXPECT_THROW(scan_get_updates(R"({"ok":true,"result":[]} trailing)"), ScanError);
  EXPECT_THROW(scan_update(R"({"message":{}})"), ScanError);
  EXPECT_THROW(scan_update(R"({"update_id":"1"})"), ScanError);
  EXPECT_THROW(scan_update(R"({"update_id":1,"message":{"text":"unterminated}})"), ScanError);
  EXPECT_THROW(scan_update("not json"), ScanError);
  std::string deep(200, '[');
  EXPECT_THROW(scan_update(R"({"update_id":1,"x":)" + deep), ScanError);
  EXPECT_TRUE(scan_get_updates(R"({"ok":true,"result":[]})").empty());
}

TEST(BotApiAnswers, SortsTelegramStatusesIntoActions) {
  auto answer = [](int status, std::string body, http::Headers headers = {}) {
    return classify(http::Response{status, std::move(headers), std::move(body)});
  };
  EXPECT_EQ(answer(200, R"({"ok":true,"result":[]})").kind, Answer::Kind::ok);
  auto conflict = answer(
      409,
      R"({"ok":false,"error_code":409,"description":"Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"})");
  EXPECT_EQ(conflict.kind, Answer::Kind::conflict);
  EXPECT_EQ(conflict_cause(conflict.description), ConflictCause::other_poller);
  EXPECT_EQ(conflict_cause("Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete "
                           "the webhook first"),
            ConflictCause::webhook_active);
  auto throttled = answer(
      429,
      R"({"ok":false,"error_code":429,"description":"Too Many Requests: retry after 7","parameters":{"retry_after":7}})");
  EXPECT_EQ(throttled.kind, Answer::Kind::throttled);
  EXPECT_EQ(throttled.retry_after.count(), 7);
  EXPECT_EQ(answer(429, "<html>", {{"Retry-After", "3"}}).retry_after.count(), 3);
  EXPECT_EQ(answer(401, R"({"ok":false,"error_code":401,"description":"Unauthorized"})").kind,
            Answer::Kind::unauthorized);
  EXPECT_EQ(answer(404, R"({"ok":false,"error_code":404,"description":"Not Found"})").kind, Answer::Kind::unauthorized);
  EXPECT_EQ(answer(502, "<html>bad gateway</html>").kind, Answer::Kind::transient);
  EXPECT_EQ(answer(400, R"({"ok":false,"error_code":400,"description":"Bad Request: wrong offset"})").kind,
            Answer::Kind::rejected);
}

// Found by fuzz/get_updates: a field of another type threw out of classify,
// and a huge retry_after was cast to int (undefined behaviour).
TEST(BotApiAnswers, FieldsOfAnotherTypeOrSizeNeverThrow) {
  auto answer = [](int status, std::string body, http::Headers headers = {}) {
    return classify(http::Response{status, std::move(headers), std::move(body)});
  };
  auto typed = answer(409, R"({"description":5,"parameters":{"retry_after":"7"}})");
  EXPECT_EQ(typed.kind, Answer::Kind::conflict);
  EXPECT_EQ(typed.description, "HTTP 409");
  EXPECT_EQ(typed.retry_after.count(), 0);
  EXPECT_EQ(answer(429, R"({"parameters":{"retry_after":1e300}})").retry_after.count(), 1);
  EXPECT_EQ(answer(429, R"({"parameters":{"retry_after":9223372036854775807}})").retry_after.count(), 3600);
  EXPECT_EQ(answer(429, R"({"parameters":{"retry_after":-5}})").retry_after.count(), 1);
  EXPECT_EQ(answer(429, "", {{"Retry-After", "99999999999999999999"}}).retry_after.count(), 3600);
  EXPECT_EQ(answer(429, "", {{"Retry-After", "soon"}}).retry_after.count(), 1);
}

TEST(IngressMessages, CarryTheUpdateVerbatimWithHeaders) {
  std::string body = R"({"update_id":5,"message":{"chat":{"id":77}}})";
  auto u = scan_update(body);
  auto messages = to_messages({u}, "tg.updates", 3, 1700000000123);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].topic, "tg.updates");
  EXPECT_EQ(messages[0].key, "77");
  EXPECT_EQ(messages[0].value, body);
  ASSERT_EQ(messages[0].headers.size(), 3u);
  EXPECT_EQ(messages[0].headers[0].key, "update_id");
  EXPECT_EQ(messages[0].headers[0].value, "5");
  EXPECT_EQ(messages[0].headers[1].value, "3");
  EXPECT_EQ(messages[0].headers[2].value, "1700000000123");
}

TEST(Webhook, SecretsCompareExactly) {
  EXPECT_TRUE(same_secret("abc_-1", "abc_-1"));
  EXPECT_FALSE(same_secret("abc_-1", "abc_-2"));
  EXPECT_FALSE(same_secret("abc", "abcd"));
  EXPECT_FALSE(same_secret("", "a"));
}

TEST(BackoffTest, GrowsToItsCeilingWithJitter) {
  Backoff b(std::chrono::milliseconds(100), std::chrono::milliseconds(1000));
  for (int i = 0; i < 20; ++i) {
    auto d = b.next();
    auto ceiling = std::min(100 << std::min(i, 4), 1000);
    EXPECT_GE(d.count(), ceiling / 2) << i;
    EXPECT_LE(d.count(), ceiling) << i;
  }
  b.reset();
  EXPECT_LE(b.next().count(), 100);
}

namespace {
std::vector<RawUpdate> ids(std::initializer_list<std::int64_t> list) {
  std::vector<RawUpdate> out;
  for (auto id : list) out.push_back(RawUpdate{id, id, {}});
  return out;
}
}  // namespace

TEST(BatchPlanTest, SkipsOnlyTheStoredBatchAndConfirmsEverything) {
  StoredOffset last{104, 3, "a", {101, 102, 103}};
  auto plan = plan_batch(ids({101, 102, 103, 104, 105}), last);
  ASSERT_EQ(plan.publish.size(), 2u);
  EXPECT_EQ(plan.publish[0].update_id, 104);
  EXPECT_EQ(plan.skipped, 3);
  EXPECT_EQ(plan.confirm, 106);
  EXPECT_FALSE(plan.restarted);
}

TEST(BatchPlanTest, RecognisesRestartedNumbering) {
  StoredOffset last{5'000, 3, "a", {}};
  auto plan = plan_batch(ids({17, 18}), last);
  EXPECT_EQ(plan.publish.size(), 2u);
  EXPECT_TRUE(plan.restarted);
  EXPECT_EQ(plan.confirm, 19);
  // Nothing stored yet: ids are simply new.
  EXPECT_FALSE(plan_batch(ids({1, 2}), StoredOffset{}).restarted);
}
