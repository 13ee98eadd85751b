// tg-emulator over real HTTP: the Bot API behaviours the bot depends on.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include <thread>

#include "kiebot/http/client.hpp"
#include "run.hpp"
#include "tg_fixture.hpp"

using namespace kiebot;
using namespace std::chrono_literals;
using nlohmann::json;

using test::kToken;
using test::Tg;

TEST_F(Tg, TokensMethodsAndErrorShape) {
  auto r = raw("GET", "/botnope:bad/getMe");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.json()["description"], "Unauthorized");
  auto missing = raw("GET", std::string("/bot") + kToken + "/noSuchMethod");
  EXPECT_EQ(missing.status, 404);
  EXPECT_FALSE(missing.json()["ok"].get<bool>());
  EXPECT_EQ(api("getme")["result"]["is_bot"], true);  // method names are case-insensitive
  auto q = raw("GET", std::string("/bot") + kToken + "/sendMessage?chat_id=5&text=hi");
  EXPECT_EQ(q.status, 400);
  EXPECT_EQ(q.json()["description"], "Bad Request: chat not found");
}

TEST_F(Tg, UnconfirmedUpdatesComeBackUntilTheOffsetConfirmsThem) {
  user_says(7, "one");
  user_says(7, "two");
  user_says(7, "three");
  auto first = api("getUpdates")["result"];
  ASSERT_EQ(first.size(), 3u);
  EXPECT_EQ(first[0]["message"]["chat"]["id"], 7);  // private chat id == user id
  EXPECT_EQ(api("getUpdates")["result"].size(), 3u);
  EXPECT_EQ(api("getUpdates", {{"limit", 2}})["result"].size(), 2u);
  auto last = first[2]["update_id"].get<std::int64_t>();
  EXPECT_EQ(api("getUpdates", {{"offset", first[1]["update_id"]}})["result"].size(), 2u);
  EXPECT_EQ(api("getUpdates", {{"offset", last + 1}})["result"].size(), 0u);
  EXPECT_EQ(api("getUpdates")["result"].size(), 0u);  // confirmed ones never return
}

TEST_F(Tg, SecondLongPollEndsTheFirstWith409) {
  std::optional<http::Response> first;
  http::ClientRequest poll{"POST",
                           base() + std::string("/bot") + kToken + "/getUpdates",
                           {{"Content-Type", "application/json"}},
                           R"({"timeout":5})",
                           20s};
  net::co_spawn(io, client.send(poll), [&first](std::exception_ptr, http::Response r) { first = std::move(r); });
  // Only once the first poll waits at the emulator does the second one start.
  for (int i = 0; i < 500 && control("GET", "/stats")["max_concurrent_polls"] == 0; ++i) io.run_one_for(10ms);
  http::Client other(io.get_executor());
  auto second = test::run(io, other.send({"POST",
                                          base() + std::string("/bot") + kToken + "/getUpdates",
                                          {{"Content-Type", "application/json"}},
                                          R"({"timeout":1})",
                                          20s}));
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!first && std::chrono::steady_clock::now() < deadline) io.run_one_for(10ms);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 409);
  EXPECT_EQ(first->json()["description"],
            "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running");
  EXPECT_EQ(second.status, 200);
  auto stats = control("GET", "/stats");
  EXPECT_EQ(stats["conflicts_409"], 1);
  EXPECT_EQ(stats["max_concurrent_polls"], 2);
}

TEST_F(Tg, LongPollWakesWhenAnUpdateArrives) {
  std::optional<http::Response> answer;
  http::ClientRequest poll{"POST",
                           base() + std::string("/bot") + kToken + "/getUpdates",
                           {{"Content-Type", "application/json"}},
                           R"({"timeout":30})",
                           40s};
  auto started = std::chrono::steady_clock::now();
  net::co_spawn(io, client.send(poll), [&answer](std::exception_ptr, http::Response r) { answer = std::move(r); });
  for (int i = 0; i < 20; ++i) io.run_one_for(10ms);
  http::Client other(io.get_executor());
  test::run(io, other.send({"POST",
                            base() + "/control/users/9/messages",
                            {{"Content-Type", "application/json"}},
                            R"({"text":"hello"})",
                            5s}));
  while (!answer && std::chrono::steady_clock::now() - started < 10s) io.run_one_for(10ms);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->json()["result"][0]["message"]["text"], "hello");
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
}

TEST_F(Tg, UpdatesExpire) {
  user_says(3, "menu");
  auto sent =
      api("sendMessage", {{"chat_id", 3},
                          {"text", "Pick"},
                          {"reply_markup", {{"inline_keyboard", {{{{"text", "A"}, {"callback_data", "v1:a"}}}}}}}});
  ASSERT_TRUE(sent["ok"].get<bool>()) << sent;
  control("POST", "/users/3/press", {{"message_id", sent["result"]["message_id"]}, {"callback_data", "v1:a"}});
  EXPECT_EQ(api("getUpdates")["result"].size(), 2u);
  control("POST", "/clock", {{"advance_s", 151}});  // callback queries live 150 s
  auto left = api("getUpdates")["result"];
  ASSERT_EQ(left.size(), 1u);
  EXPECT_TRUE(left[0].contains("message"));
  control("POST", "/clock", {{"advance_s", 86'400}});  // messages live 24 h
  EXPECT_EQ(api("getUpdates")["result"].size(), 0u);
}

TEST_F(Tg, AllowedUpdatesFilterWhatIsQueued) {
  user_says(4, "hi");
  auto sent =
      api("sendMessage", {{"chat_id", 4},
                          {"text", "Pick"},
                          {"reply_markup", {{"inline_keyboard", {{{{"text", "A"}, {"callback_data", "x"}}}}}}}});
  api("getUpdates", {{"offset", -1}, {"allowed_updates", {"callback_query"}}});
  api("getUpdates", {{"offset", 1'000'000}});
  user_says(4, "ignored");
  control("POST", "/users/4/press", {{"message_id", sent["result"]["message_id"]}, {"callback_data", "x"}});
  auto got = api("getUpdates")["result"];
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0].contains("callback_query"));
}

TEST_F(Tg, WebhookDeliversWithSecretRetriesAndBlocksGetUpdates) {
  control("POST", "/config", {{"webhook_retry_ms", 50}});
  EXPECT_EQ(description(api("setWebhook", {{"url", "http://example.com/hook"}})),
            "Bad Request: bad webhook: An HTTPS URL must be provided for webhook");
  EXPECT_EQ(description(api("setWebhook", {{"url", local_url("/hook")}, {"secret_token", "bad token!"}})),
            "Bad Request: secret token contains unallowed characters");
  fail_hooks = 2;
  ASSERT_TRUE(api("setWebhook", {{"url", local_url("/hook")}, {"secret_token", "s3cr3t_-x"}})["ok"].get<bool>());
  auto blocked = api("getUpdates");
  EXPECT_EQ(blocked["error_code"], 409);
  EXPECT_EQ(
      description(blocked),
      "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first");
  user_says(5, "first");
  user_says(5, "second");
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (hooks.size() < 2 && std::chrono::steady_clock::now() < deadline) io.run_one_for(10ms);
  ASSERT_EQ(hooks.size(), 2u);
  EXPECT_EQ(hooks[0].header("x-telegram-bot-api-secret-token"), "s3cr3t_-x");
  EXPECT_EQ(json::parse(hooks[0].body)["message"]["text"], "first");  // in order, after two failures
  EXPECT_EQ(json::parse(hooks[1].body)["message"]["text"], "second");
  auto info = api("getWebhookInfo")["result"];
  EXPECT_EQ(info["url"], local_url("/hook"));
  EXPECT_EQ(info["pending_update_count"], 0);
  EXPECT_TRUE(info.contains("last_error_message"));
  ASSERT_TRUE(api("deleteWebhook")["ok"].get<bool>());
  EXPECT_TRUE(api("getUpdates")["ok"].get<bool>());
}

TEST_F(Tg, MessagesAreValidatedAsTelegramDoes) {
  control("POST", "/config", {{"flood_control", false}});
  user_says(6, "hi");
  EXPECT_EQ(description(api("sendMessage", {{"chat_id", 6}, {"text", ""}})), "Bad Request: message text is empty");
  EXPECT_EQ(description(api("sendMessage", {{"chat_id", 6}, {"text", std::string(4097, 'a')}})),
            "Bad Request: message is too long");
  EXPECT_TRUE(api("sendMessage", {{"chat_id", 6}, {"text", std::string(4096, 'a')}})["ok"].get<bool>());
  EXPECT_TRUE(api("sendMessage",
                  {{"chat_id", 6}, {"text", "<b>" + std::string(4096, 'a') + "</b>"}, {"parse_mode", "HTML"}})["ok"]
                  .get<bool>());
  EXPECT_EQ(description(api("sendMessage", {{"chat_id", 6}, {"text", "<b>open"}, {"parse_mode", "HTML"}})),
            "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\"");
  EXPECT_EQ(description(api("sendMessage", {{"chat_id", 6}, {"text", "Price: 5.00"}, {"parse_mode", "MarkdownV2"}})),
            "Bad Request: can't parse entities: Character '.' is reserved and must be escaped with the preceding '\\'");
  EXPECT_TRUE(api("sendMessage", {{"chat_id", 6}, {"text", "*Price:* 5\\.00"}, {"parse_mode", "MarkdownV2"}})["ok"]
                  .get<bool>());
  EXPECT_EQ(description(api("sendMessage", {{"chat_id", 6}, {"text", "*bold"}, {"parse_mode", "MarkdownV2"}})),
            "Bad Request: can't parse entities: Can't find end of Bold entity at byte offset 0");
  json long_data = {{"inline_keyboard", {{{{"text", "A"}, {"callback_data", std::string(65, 'x')}}}}}};
  EXPECT_EQ(description(api("sendMessage", {{"chat_id", 6}, {"text", "x"}, {"reply_markup", long_data}})),
            "Bad Request: BUTTON_DATA_INVALID");
  json max_data = {{"inline_keyboard", {{{{"text", "A"}, {"callback_data", std::string(64, 'x')}}}}}};
  EXPECT_TRUE(api("sendMessage", {{"chat_id", 6}, {"text", "x"}, {"reply_markup", max_data}})["ok"].get<bool>());
}

TEST_F(Tg, FloodControlAnswers429WithRetryAfter) {
  user_says(8, "hi");
  std::optional<http::Response> limited;
  for (int i = 0; i < 6 && !limited; ++i) {
    auto r = raw("POST", std::string("/bot") + kToken + "/sendMessage", json{{"chat_id", 8}, {"text", "spam"}}.dump());
    if (r.status == 429) limited = r;
  }
  ASSERT_TRUE(limited);
  auto body = limited->json();
  EXPECT_EQ(body["error_code"], 429);
  EXPECT_GE(body["parameters"]["retry_after"].get<int>(), 1);
  EXPECT_EQ(limited->header("retry-after"), std::to_string(body["parameters"]["retry_after"].get<int>()));
  EXPECT_EQ(description(body).rfind("Too Many Requests: retry after ", 0), 0u);
  EXPECT_GE(control("GET", "/stats")["flood_429"].get<int>(), 1);
}

TEST_F(Tg, EditsDeletesCallbacksAndTranscript) {
  user_says(10, "/start");
  json kb = {{"inline_keyboard", {{{{"text", "Go"}, {"callback_data", "v1:go"}}}}}};
  auto id = api("sendMessage", {{"chat_id", 10}, {"text", "Menu"}, {"reply_markup", kb}})["result"]["message_id"];
  EXPECT_EQ(
      description(api("editMessageText", {{"chat_id", 10}, {"message_id", id}, {"text", "Menu"}, {"reply_markup", kb}}))
          .rfind("Bad Request: message is not modified", 0),
      0u);
  EXPECT_TRUE(
      api("editMessageText", {{"chat_id", 10}, {"message_id", id}, {"text", "Menu 2"}, {"reply_markup", kb}})["ok"]
          .get<bool>());
  auto press = control("POST", "/users/10/press", {{"message_id", id}, {"callback_data", "v1:go"}});
  EXPECT_EQ(raw("POST", "/control/users/10/press", json{{"message_id", id}, {"callback_data", "nope"}}.dump()).status,
            400);
  EXPECT_FALSE(control("GET", "/callbacks/" + press["callback_query_id"].get<std::string>())["answered"].get<bool>());
  EXPECT_TRUE(api("answerCallbackQuery", {{"callback_query_id", press["callback_query_id"]}, {"text", "ok"}})["ok"]
                  .get<bool>());
  EXPECT_TRUE(control("GET", "/callbacks/" + press["callback_query_id"].get<std::string>())["answered"].get<bool>());
  EXPECT_FALSE(api("answerCallbackQuery", {{"callback_query_id", press["callback_query_id"]}})["ok"].get<bool>());
  auto gone = api("sendMessage", {{"chat_id", 10}, {"text", "temp"}})["result"]["message_id"];
  EXPECT_TRUE(api("deleteMessage", {{"chat_id", 10}, {"message_id", gone}})["ok"].get<bool>());
  EXPECT_EQ(description(api("deleteMessage", {{"chat_id", 10}, {"message_id", gone}})),
            "Bad Request: message to delete not found");
  EXPECT_TRUE(api("sendChatAction", {{"chat_id", 10}, {"action", "typing"}})["ok"].get<bool>());
  EXPECT_EQ(control("GET", "/chats/10/action")["action"], "typing");
  auto t = control("GET", "/chats/10/transcript");
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0]["from"], "user");
  EXPECT_EQ(t[0]["text"], "/start");
  EXPECT_EQ(t[1]["from"], "bot");
  EXPECT_EQ(t[1]["text"], "Menu 2");
  EXPECT_TRUE(t[1]["edited"].get<bool>());
  EXPECT_EQ(t[1]["reply_markup"], kb);
}

TEST_F(Tg, MediaByUrlAndUploadWithTelegramsLimits) {
  user_says(11, "hi");
  control("POST", "/config", {{"flood_control", false}});
  auto small = api("sendPhoto", {{"chat_id", 11}, {"photo", local_url("/media/100000")}, {"caption", "result"}});
  ASSERT_TRUE(small["ok"].get<bool>()) << small;
  EXPECT_EQ(small["result"]["photo"][0]["file_size"], 100000);
  auto big = api("sendPhoto", {{"chat_id", 11}, {"photo", local_url("/media/" + std::to_string(5 * 1024 * 1024 + 1))}});
  EXPECT_EQ(description(big), "Bad Request: failed to get HTTP URL content");
  auto video = api("sendVideo", {{"chat_id", 11}, {"video", local_url("/media/" + std::to_string(6 * 1024 * 1024))}});
  EXPECT_TRUE(video["ok"].get<bool>()) << video;  // videos may be 20 MB by URL
  EXPECT_EQ(description(api("sendPhoto",
                            {{"chat_id", 11}, {"photo", local_url("/media/10")}, {"caption", std::string(1025, 'c')}})),
            "Bad Request: message caption is too long");
  EXPECT_EQ(description(api("sendPhoto", {{"chat_id", 11}, {"photo", "not-a-file-id"}})),
            "Bad Request: wrong file identifier/HTTP URL specified");
  // By upload (multipart), then again by the file_id Telegram returned.
  std::string boundary = "kiebotBoundary7";
  std::string body =
      "--" + boundary + "\r\nContent-Disposition: form-data; name=\"chat_id\"\r\n\r\n11\r\n--" + boundary +
      "\r\nContent-Disposition: form-data; name=\"audio\"; filename=\"a.mp3\"\r\nContent-Type: audio/mpeg\r\n\r\n" +
      std::string(2048, 'a') + "\r\n--" + boundary + "--\r\n";
  auto up = raw("POST", std::string("/bot") + kToken + "/sendAudio", body, "multipart/form-data; boundary=" + boundary);
  ASSERT_EQ(up.status, 200) << up.body;
  auto file_id = up.json()["result"]["audio"]["file_id"].get<std::string>();
  EXPECT_TRUE(api("sendAudio", {{"chat_id", 11}, {"audio", file_id}})["ok"].get<bool>());
  auto file = api("getFile", {{"file_id", file_id}})["result"];
  auto bytes = raw("GET", std::string("/file/bot") + kToken + "/" + file["file_path"].get<std::string>());
  EXPECT_EQ(bytes.body, std::string(2048, 'a'));
  auto group = api("sendMediaGroup", {{"chat_id", 11},
                                      {"media",
                                       {{{"type", "photo"}, {"media", local_url("/media/10")}},
                                        {{"type", "photo"}, {"media", local_url("/media/20")}}}}});
  ASSERT_TRUE(group["ok"].get<bool>()) << group;
  EXPECT_EQ(group["result"].size(), 2u);
  auto t = control("GET", "/chats/11/transcript");
  EXPECT_EQ(t[1]["media"]["type"], "photo");
  EXPECT_EQ(t[1]["media"]["url"], local_url("/media/100000"));
  EXPECT_EQ(t[1]["caption"], "result");
}

TEST_F(Tg, StarsInvoicePaymentAndRefund) {
  user_says(12, "/buy");
  EXPECT_EQ(description(api("sendInvoice", {{"chat_id", 12},
                                            {"title", "Stars"},
                                            {"description", "100 stars"},
                                            {"payload", "p1"},
                                            {"currency", "USD"},
                                            {"prices", {{{"label", "x"}, {"amount", 100}}}}}))
                .rfind("Bad Request: CURRENCY_INVALID", 0),
            0u);
  auto invoice = api("sendInvoice", {{"chat_id", 12},
                                     {"title", "Top up"},
                                     {"description", "50 stars"},
                                     {"payload", "topup:12:50"},
                                     {"currency", "XTR"},
                                     {"prices", {{{"label", "Top up"}, {"amount", 50}}}}});
  ASSERT_TRUE(invoice["ok"].get<bool>()) << invoice;
  api("getUpdates", {{"offset", 1'000'000}});
  auto pay = control("POST", "/users/12/pay", {{"message_id", invoice["result"]["message_id"]}});
  auto updates = api("getUpdates")["result"];
  ASSERT_EQ(updates.size(), 1u);
  auto query = updates[0]["pre_checkout_query"];
  EXPECT_EQ(query["invoice_payload"], "topup:12:50");
  EXPECT_EQ(query["total_amount"], 50);
  ASSERT_TRUE(api("answerPreCheckoutQuery", {{"pre_checkout_query_id", query["id"]}, {"ok", true}})["ok"].get<bool>());
  updates = api("getUpdates", {{"offset", updates[0]["update_id"].get<std::int64_t>() + 1}})["result"];
  ASSERT_EQ(updates.size(), 1u);
  auto paid = updates[0]["message"]["successful_payment"];
  EXPECT_EQ(paid["currency"], "XTR");
  auto charge = paid["telegram_payment_charge_id"].get<std::string>();
  EXPECT_FALSE(charge.empty());
  EXPECT_EQ(control("GET", "/payments/" + pay["pre_checkout_query_id"].get<std::string>())["state"], "paid");
  EXPECT_TRUE(api("refundStarPayment", {{"user_id", 12}, {"telegram_payment_charge_id", charge}})["ok"].get<bool>());
  EXPECT_EQ(description(api("refundStarPayment", {{"user_id", 12}, {"telegram_payment_charge_id", charge}})),
            "Bad Request: CHARGE_ALREADY_REFUNDED");
  // An answer after 10 s is too late: the payment has failed.
  auto late = control("POST", "/users/12/pay", {{"message_id", invoice["result"]["message_id"]}});
  control("POST", "/clock", {{"advance_s", 11}});
  EXPECT_FALSE(
      api("answerPreCheckoutQuery", {{"pre_checkout_query_id", late["pre_checkout_query_id"]}, {"ok", true}})["ok"]
          .get<bool>());
  EXPECT_EQ(control("GET", "/payments/" + late["pre_checkout_query_id"].get<std::string>())["state"], "failed");
}

TEST_F(Tg, InjectedFaults) {
  control("POST", "/faults", {{"method", "sendMessage"}, {"status", 502}, {"count", 1}});
  user_says(13, "hi");
  auto r = raw("POST", std::string("/bot") + kToken + "/sendMessage", json{{"chat_id", 13}, {"text", "x"}}.dump());
  EXPECT_EQ(r.status, 502);
  EXPECT_TRUE(api("sendMessage", {{"chat_id", 13}, {"text", "x"}})["ok"].get<bool>());
  control("POST", "/faults", {{"method", "getMe"}, {"hang", true}, {"count", 1}});
  EXPECT_THROW(raw("GET", std::string("/bot") + kToken + "/getMe", "", "", 300ms), http::ClientError);
}
