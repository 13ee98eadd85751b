// The dialog as users meet it, through tg-emulator: menus in both languages,
// the generation form up to the job on gen.jobs, money, gift, referral,
// history, admin, expired buttons and /cancel.
#include <cstdlib>
#include <set>
#include <thread>

#include "dialog_fixture.hpp"
#include "run.hpp"

using namespace kiebot;
using namespace std::chrono_literals;
using nlohmann::json;
using test::DialogTest;
using test::has_text;

TEST_F(DialogTest, StartGreetsInTheUsersLanguageAndSwitchesLanguage) {
  start_ingress();
  say(101, "/start", "ru");
  auto menu = wait_text(101, "Привет, User101");
  EXPECT_FALSE(button(menu, "Картинка по тексту").empty());
  EXPECT_FALSE(button(menu, "Баланс").empty());
  say(102, "/start", "en-US");
  auto en = wait_text(102, "Hi, User102");
  for (const char* label :
       {"Image from text", "Image remix", "Video from a script", "Animate an image", "Music and audio", "Tools",
        "Balance", "Free generations", "Gift", "Invite friends", "My generations", "Language", "Help"}) {
    EXPECT_FALSE(button(en, label).empty()) << label;
  }
  // Unknown text outside a form gets the menu, not silence.
  say(102, "what can you do?");
  wait_for(102, [](const json& m) { return has_text(m, "Pick what to do") && !button(m, "Balance").empty(); });
  // The Russian user switches to English; the choice is kept at accounts.
  auto cb = press(101, menu["message_id"], button(menu, "Язык"));
  auto choose = wait_text(101, "Выберите язык");
  EXPECT_TRUE(answered(cb));
  press(101, choose["message_id"], "1|lang|en");
  wait_text(101, "Language: English.");
  EXPECT_EQ(user(101)["language"], "en");
  say(101, "/help");
  auto help = wait_text(101, "Commands: /start");
  // A page of the table, from its button on help and by its command.
  press(101, help["message_id"], button(help, "💳 How paying works"));
  auto page = wait_text(101, "its price is set aside, not taken");
  EXPECT_FALSE(button(page, "✍️ Writing a good description").empty()) << page.dump();
  say(101, "/tips");
  wait_text(101, "Name the style");
}

namespace {

// The confirmation's buttons are gone; a client that sends its data again
// (a replay, a forged client) changes nothing; /status lists the job,
// /history offers to repeat it, and repeating it at once is refused.
void replays_and_repeats_change_nothing(DialogTest& t, const json& confirm, const std::string& ok) {
  json from = {{"id", 201}, {"is_bot", false}, {"first_name", "User201"}};
  json replay = {
      {"id", "replay-1"},
      {"from", from},
      {"data", ok},
      {"chat_instance", "1"},
      {"message", {{"message_id", confirm["message_id"]}, {"chat", {{"id", 201}, {"type", "private"}}}, {"date", 0}}}};
  t.produce_update({{"update_id", 990001}, {"callback_query", replay}});
  t.wait_text(201, "This menu has expired");
  EXPECT_EQ(t.user(201)["held"], 17285);
  t.say(201, "/status");
  t.wait_text(201, "Running now:\n• Kling 2.6");
  t.say(201, "/history");
  auto history = t.wait_text(201, "Your latest generations");
  EXPECT_TRUE(has_text(history, "1. Kling 2.6: ⏳ running, 172.85 ₽")) << history.dump();
  // Repeating at once is the same submission within 15 s: refused.
  t.press(201, history["message_id"], t.button_data(history, "1|rep|"));
  auto again = t.wait_for(
      201, [&](const json& m) { return has_text(m, "Check and confirm") && m["message_id"] != confirm["message_id"]; });
  t.press(201, again["message_id"], t.button_data(again, "1|ok|"));
  t.wait_text(201, "This exact request was just sent");
  EXPECT_EQ(t.user(201)["held"], 17285);
}

}  // namespace

TEST_F(DialogTest, FormPublishesTheJobWithItsHold) {
  start_ingress();
  fund(201, 100'000);
  auto form = open_model(201, "text_to_video", "kt");
  EXPECT_TRUE(has_text(form, "Kling 2.6")) << form.dump();
  EXPECT_TRUE(has_text(form, "43.21 ₽"));
  // Duration 10 s (the second option of field 2), sound on (field 3).
  press(201, form["message_id"], button(form, "10 s"));
  form = wait_for(201, [](const json& m) { return !button(m, "✅ 10 s").empty(); });
  EXPECT_TRUE(has_text(form, "86.43 ₽"));
  press(201, form["message_id"], button(form, "Sound: off"));
  form = wait_for(201, [](const json& m) { return !button(m, "Sound: on").empty(); });
  EXPECT_TRUE(has_text(form, "172.85 ₽"));
  press(201, form["message_id"], button_data(form, "1|go|"));
  wait_text(201, "Describe what you want to see in the video: the scene, the motion, the camera (up to 1000 characters).");
  say(201, std::string(1001, 'x'));
  wait_text(201, "That is 1001 characters");
  say(201, "a red fox running through snow");
  auto confirm = wait_text(201, "Check and confirm");
  EXPECT_TRUE(has_text(confirm, "Price: 172.85 ₽")) << confirm.dump();
  EXPECT_TRUE(has_text(confirm, "Balance after: 827.15 ₽"));
  auto ok = button_data(confirm, "1|ok|");
  auto cb = press(201, confirm["message_id"], ok);
  wait_text(201, "queued");
  EXPECT_TRUE(answered(cb));
  auto jobs = test::DialogTest::read_until("gen.jobs", [](const json& j) { return j.value("user_id", 0) == 201; });
  const auto& job = jobs.back();
  EXPECT_EQ(job["v"], 1);
  EXPECT_EQ(job["model"], "kling-2.6/text-to-video");
  EXPECT_EQ(job["input"], (json{{"prompt", "a red fox running through snow"},
                                {"aspect_ratio", "16:9"},
                                {"duration", "10"},
                                {"sound", true}}));
  EXPECT_EQ(job["chat_id"], 201);
  EXPECT_EQ(job["language"], "en");
  EXPECT_EQ(job["status_message_id"], confirm["message_id"]);
  EXPECT_EQ(job["deadline_s"], 900);
  // The result will answer the user's description.
  bool replies_to_prompt = false;
  for (const auto& m : transcript(201)) {
    if (m["message_id"] == job.value("reply_to_message_id", json())) {
      replies_to_prompt = m["from"] == "user" && m["text"] == "a red fox running through snow";
    }
  }
  EXPECT_TRUE(replies_to_prompt) << job.dump();
  auto account = user(201);
  EXPECT_EQ(account["held"], 17285);
  EXPECT_EQ(account["balance"], 100'000 - 17285);
  EXPECT_EQ(job["hold_id"].get<std::string>().substr(0, 4), "201-");
  replays_and_repeats_change_nothing(*this, confirm, ok);
}

namespace {

// Telegram delivers a payment again (a new update id, the same charge):
// credited once, confirmed once.
void redelivered_payment_credits_once(DialogTest& t) {
  json tr = t.transcript(301);
  json success;
  for (const auto& m : tr) {
    if (m.contains("successful_payment")) success = m["successful_payment"];
  }
  ASSERT_TRUE(success.is_object()) << tr.dump();
  json message = {{"message_id", 9999},
                  {"date", 0},
                  {"chat", {{"id", 301}, {"type", "private"}}},
                  {"from", {{"id", 301}, {"is_bot", false}, {"first_name", "User301"}}},
                  {"successful_payment", success}};
  t.produce_update({{"update_id", 880001}, {"message", message}});
  t.produce_update({{"update_id", 880001}, {"message", message}});
  t.produce_update({{"update_id", 880002}, {"message", message}});
  t.say(301, "/balance");
  t.wait_text(301, "Balance: 100 ₽");
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(t.user(301)["balance"], 10'000);
  std::size_t confirmations = 0;
  for (const auto& m : t.transcript(301)) confirmations += has_text(m, "Payment received");
  EXPECT_EQ(confirmations, 1u);
}

}  // namespace

TEST_F(DialogTest, InsufficientBalanceOffersTopUpAndStarsCreditOnce) {
  start_ingress();
  auto form = open_model(301, "text_to_image", "fp");
  press(301, form["message_id"], button_data(form, "1|go|"));
  wait_text(301, "Describe what you want");
  say(301, "a lighthouse");
  auto short_of = wait_text(301, "This costs 3.93 ₽, and your balance is 0 ₽");
  press(301, short_of["message_id"], button(short_of, "Top up"));
  auto menu = wait_text(301, "Top up with Telegram Stars");
  EXPECT_TRUE(has_text(menu, "100 ₽ = 160 ⭐"));
  press(301, menu["message_id"], button(menu, "100 ₽ · 160 ⭐"));
  auto invoice = wait_for(301, [](const json& m) { return m.contains("invoice"); });
  EXPECT_EQ(invoice["invoice"]["currency"], "XTR");
  EXPECT_EQ(invoice["invoice"]["total_amount"], 160);
  auto payment = control("POST", "/users/301/pay", {{"message_id", invoice["message_id"]}});
  wait_text(301, "Payment received: 100 ₽. Balance: 100 ₽.");
  EXPECT_EQ(control("GET", "/payments/" + payment["pre_checkout_query_id"].get<std::string>())["state"], "paid");
  EXPECT_EQ(user(301)["balance"], 10'000);
  redelivered_payment_credits_once(*this);
  // A custom amount below the minimum is refused, a valid one invoiced.
  say(301, "/start");
  auto start = wait_text(301, "Hi, User301");
  press(301, start["message_id"], button(start, "Balance"));
  auto balance = wait_text(301, "Balance: 100 ₽\nReserved");
  press(301, balance["message_id"], button(balance, "Top up"));
  menu = wait_text(301, "Top up with Telegram Stars");
  press(301, menu["message_id"], button(menu, "Another amount"));
  wait_text(301, "Send an amount in roubles from 50 ₽");
  say(301, "nan");
  wait_text(301, "Please send a number of roubles from 50 ₽");
  say(301, "10");
  auto refusals = [&] {
    std::size_t n = 0;
    for (const auto& m : transcript(301)) n += has_text(m, "Please send a number of roubles");
    return n;
  };
  for (int i = 0; i < 100 && refusals() < 2; ++i) std::this_thread::sleep_for(100ms);
  EXPECT_EQ(refusals(), 2u);
  say(301, "250");
  wait_for(301, [](const json& m) { return m.contains("invoice") && m["invoice"]["total_amount"] == 400; });
}

TEST_F(DialogTest, GiftOnceAndReferralBothWays) {
  start_ingress();
  say(401, "/start");
  auto menu = wait_text(401, "Hi, User401");
  press(401, menu["message_id"], button(menu, "Gift"));
  auto won = wait_text(401, "You won");
  auto balance = user(401)["balance"].get<std::int64_t>();
  EXPECT_GE(balance, 1000);
  EXPECT_LE(balance, 3000);
  EXPECT_TRUE(won["edited"].get<bool>()) << "the wheel is animated by edits";
  say(401, "/start");
  menu = wait_for(401, [](const json& m) { return !button(m, "Gift").empty(); });
  press(401, menu["message_id"], button(menu, "Gift"));
  wait_text(401, "The gift is once per person");
  EXPECT_EQ(user(401)["balance"], balance);
  // Referral: 402 joins by 401's link; both get the bonus, each is told.
  press(401, won["message_id"], button(won, "Menu"));
  menu = wait_for(
      401, [&](const json& m) { return m["message_id"] == won["message_id"] && !button(m, "Invite friends").empty(); });
  press(401, menu["message_id"], button(menu, "Invite friends"));
  auto link = wait_text(401, "?start=ref_401");
  EXPECT_TRUE(has_text(link, "Friends who joined: 0"));
  say(402, "/start ref_401");
  wait_text(402, "You joined by a friend's invitation: 10 free generations");
  wait_text(401, "User402 joined by your link");
  EXPECT_EQ(user(402)["referrer_id"], 401);
  EXPECT_EQ(user(401)["referrals"], 1);
  EXPECT_EQ(user(401)["free"]["bank"], 10);
  EXPECT_EQ(user(402)["free"]["bank"], 10);
  // The same link again, and one's own link, change nothing.
  say(402, "/start ref_401");
  say(403, "/start ref_403");
  wait_text(403, "Hi, User403");
  wait_for(402, [](const json& m) { return has_text(m, "Hi, User402"); });
  EXPECT_EQ(user(401)["referrals"], 1);
  EXPECT_EQ(user(403)["free"]["bank"], 0);
}

TEST_F(DialogTest, AdminFunctionsOnlyForAdmins) {
  start_ingress();
  say(501, "/admin");
  wait_text(501, "This is for administrators only.");
  // A non-admin pressing a (forged) admin button gets the same refusal.
  produce_update({{"update_id", 770001},
                  {"callback_query",
                   {{"id", "forged-1"},
                    {"from", {{"id", 501}, {"is_bot", false}, {"first_name", "x"}}},
                    {"data", "1|adm|grant"},
                    {"chat_instance", "1"}}}});
  std::this_thread::sleep_for(1s);
  std::size_t refusals = 0;
  for (const auto& m : transcript(501)) refusals += has_text(m, "administrators only");
  EXPECT_EQ(refusals, 2u);
  // The admin grants balance; the ledger names the admin.
  say(test::kAdmin, "/admin");
  auto panel = wait_text(test::kAdmin, "Administration");
  EXPECT_TRUE(button(panel, "KIE credits").empty()) << "only the owner sees KIE's credits";
  press(test::kAdmin, panel["message_id"], button(panel, "Grant balance"));
  wait_text(test::kAdmin, "Send the user's id and the amount");
  say(test::kAdmin, "501 150");
  wait_text(test::kAdmin, "Granted 150 ₽ to 501");
  EXPECT_EQ(user(501)["balance"], 15'000);
  auto ledger = accounts_call("GET", "/v1/users/501/ledger");
  EXPECT_EQ(ledger["entries"][0]["reason"], "admin_grant");
  EXPECT_EQ(ledger["entries"][0]["op"].get<std::string>().empty(), false);
  press(test::kAdmin, panel["message_id"], button(panel, "Stats"));
  wait_text(test::kAdmin, "Users:");
  press(test::kAdmin, panel["message_id"], button(panel, "Admin limit"));
  wait_text(test::kAdmin, "Only the owner can do that.");
  // The owner sees KIE's credits and sets limits.
  say(test::kOwner, "/admin");
  auto owner = wait_text(test::kOwner, "Administration");
  press(test::kOwner, owner["message_id"], button(owner, "KIE credits"));
  wait_text(test::kOwner, "KIE credits left: 100000");
  press(test::kOwner, owner["message_id"], button(owner, "Admin limit"));
  wait_text(test::kOwner, "Send the admin's id and the limit");
  say(test::kOwner, "501 300");
  wait_text(test::kOwner, "501 is an admin with a limit of 300 ₽");
  EXPECT_EQ(user(501)["admin"]["limit"], 30'000);
  // The limit change is in the ledger too.
  auto limit_entry = accounts_call("GET", "/v1/users/501/ledger")["entries"][0];
  EXPECT_EQ(limit_entry["op"], "admin_set") << limit_entry.dump();
  EXPECT_EQ(limit_entry["delta"], 0);
}

TEST_F(DialogTest, ExpiredButtonsAndCancel) {
  start_ingress();
  auto first = open_model(601, "text_to_image", "zi");
  auto stale = button_data(first, "1|opt|");
  // A second form replaces the first: the first one's buttons are stale.
  say(601, "/start");
  auto menu = wait_for(
      601, [&](const json& m) { return m["message_id"] != first["message_id"] && !button_data(m, "1|cat|").empty(); });
  press(601, menu["message_id"], "1|cat|text_to_image");
  auto list = wait_for(601, [&](const json& m) { return !button_data(m, "1|mdl|nb").empty(); });
  press(601, list["message_id"], "1|mdl|nb");
  wait_for(601, [](const json& m) { return has_text(m, "Nano Banana\n"); });
  auto cb = press(601, first["message_id"], stale);
  wait_text(601, "This menu has expired");
  EXPECT_TRUE(answered(cb));
  EXPECT_EQ(control("GET", "/callbacks/" + cb)["answer"]["text"], "This menu has expired.");
  // Unversioned or unknown data (an older bot, a forged client).
  produce_update({{"update_id", 660001},
                  {"callback_query",
                   {{"id", "forged-2"},
                    {"from", {{"id", 601}, {"is_bot", false}, {"first_name", "x"}}},
                    {"data", "0|menu"},
                    {"chat_instance", "1"}}}});
  std::this_thread::sleep_for(1s);
  std::size_t expired = 0;
  for (const auto& m : transcript(601)) expired += has_text(m, "This menu has expired");
  EXPECT_EQ(expired, 2u);
  // /cancel mid-form: the next text is not taken as a prompt.
  say(602, "/start");
  auto start = wait_text(602, "Hi, User602");
  press(602, start["message_id"], "1|cat|audio");
  auto audio = wait_for(602, [](const json& m) { return !button_data(m, "1|mdl|se").empty(); });
  press(602, audio["message_id"], "1|mdl|se");
  wait_text(602, "Describe the sound you want");
  say(602, "/cancel");
  wait_text(602, "Cancelled.");
  say(602, "thunder over the sea");
  wait_text(602, "Pick what to do in the menu");
  say(602, "/cancel");
  wait_text(602, "There is nothing to cancel.");
}

TEST_F(DialogTest, AtMostFiveRunningGenerationsPerUser) {
  start_ingress();
  fund(211, 100'000);
  // Five generations of this user are running, as the dialog records them.
  auto deadline = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch() + std::chrono::minutes(10))
                      .count();
  for (int i = 0; i < 5; ++i) {
    auto command = "redis-cli -p " + std::to_string(redis.port()) + " ZADD 'dlg:{du:211}:running' " +
                   std::to_string(deadline) + " running-" + std::to_string(i) + " >/dev/null";
    ASSERT_EQ(std::system(command.c_str()), 0);
  }
  auto form = open_model(211, "text_to_image", "fp");
  press(211, form["message_id"], button_data(form, "1|go|"));
  wait_text(211, "Describe what you want");
  say(211, "a sixth picture");
  auto confirm = wait_text(211, "Check and confirm");
  press(211, confirm["message_id"], button_data(confirm, "1|ok|"));
  wait_text(211, "You already have 5 generations running");
  EXPECT_EQ(user(211)["held"], 0);
}

TEST_F(DialogTest, UserDataRoutesNeedTheAdminApiToken) {
  auto replica = start_ingress();
  auto jobs = url(ingress_ports[replica], "/dialog/users/101/jobs");
  EXPECT_EQ(request("GET", jobs).status, 401);
  EXPECT_EQ(request("GET", jobs, "", {{"Authorization", "Bearer wrong"}}).status, 401);
  auto allowed = request("GET", jobs, "", {{"Authorization", std::string("Bearer ") + test::kAdminApiToken}});
  EXPECT_EQ(allowed.status, 200) << allowed.body;
  EXPECT_EQ(allowed.json()["user_id"], 101);
  // Health and metrics stay open and carry no user data.
  EXPECT_EQ(request("GET", url(ingress_ports[replica], "/healthz")).status, 200);
  auto metrics = request("GET", url(ingress_ports[replica], "/metrics"));
  EXPECT_EQ(metrics.status, 200);
  EXPECT_EQ(metrics.body.find("user_id"), std::string::npos);

  // Without ADMIN_API_TOKEN the routes do not exist.
  auto closed = start_ingress({{"ADMIN_API_TOKEN", ""}});
  auto none = request("GET", url(ingress_ports[closed], "/dialog/users/101/jobs"), "",
                      {{"Authorization", std::string("Bearer ") + test::kAdminApiToken}});
  EXPECT_EQ(none.status, 404);
}

TEST_F(DialogTest, UntrustedTextNeverBreaksAMessage) {
  start_ingress();
  fund(203, 100'000);
  auto form = open_model(203, "text_to_image", "fp");
  press(203, form["message_id"], button_data(form, "1|go|"));
  wait_text(203, "Describe what you want to see in the picture (3 to 5000 characters).");
  // 4,050 characters (a message holds 4,096) that read backwards, hide zero-width spaces and look like markup.
  std::string prompt = "\u202E<b>bold</b> *star* _under_ [link](http://x)\u200B\u2066";
  for (int i = 0; i < 4'000; ++i) prompt += "ж";
  say(203, prompt);
  // Longer than a message may be: the confirmation still comes, cut, with its price.
  auto confirm = wait_text(203, "Check and confirm");
  auto shown = confirm.value("text", "");
  EXPECT_TRUE(has_text(confirm, "Price: 3.93 ₽")) << shown.substr(0, 200);
  EXPECT_TRUE(has_text(confirm, "…"));
  EXPECT_TRUE(has_text(confirm, "<b>bold</b> *star* _under_ [link](http://x)"));  // as typed, not as markup
  EXPECT_EQ(shown.find("\u202E"), std::string::npos);
  EXPECT_EQ(shown.find("\u200B"), std::string::npos);
  press(203, confirm["message_id"], button_data(confirm, "1|ok|"));
  auto jobs = read_until("gen.jobs", [](const json& j) { return j.value("user_id", 0) == 203; });
  auto sent = jobs.back()["input"]["prompt"].get<std::string>();
  EXPECT_TRUE(sent.starts_with("<b>bold</b>")) << sent.substr(0, 40);
  EXPECT_EQ(sent.find("\u2066"), std::string::npos);
}
