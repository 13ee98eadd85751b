// Money through faults: a Stars payment while accounts is down is queued
// and credited once when it returns; a refund debits (below zero if need
// be); admin grants stay within the admin's limit; the ingress stops cleanly
// on SIGTERM while accounts is unreachable and its peers go away.
#include <csignal>
#include <cstdio>
#include <sstream>
#include <iostream>
#include <thread>

#include "dialog_fixture.hpp"
#include "run.hpp"

using namespace kiebot;
using namespace std::chrono_literals;
using nlohmann::json;
using test::DialogTest;
using test::has_text;

namespace {

json payment_update(std::int64_t update_id, std::int64_t user, const char* field, std::int64_t kopecks,
                    const std::string& charge) {
  json paid = {{"currency", "XTR"},
               {"total_amount", kopecks * 160 / 10'000},
               {"invoice_payload", "topup:" + std::to_string(user) + ":" + std::to_string(kopecks) + ":" +
                                       std::to_string(kopecks * 160 / 10'000)},
               {"telegram_payment_charge_id", charge}};
  json message = {{"message_id", update_id},
                  {"date", 0},
                  {"chat", {{"id", user}, {"type", "private"}}},
                  {"from", {{"id", user}, {"is_bot", false}, {"first_name", "User" + std::to_string(user)}}},
                  {field, paid}};
  return {{"update_id", update_id}, {"message", message}};
}

// A new user tops up 100 ₽ through the menus and Telegram's payment; the
// emulator's payment record.
json pay_100_with_stars(DialogTest& f, std::int64_t user) {
  auto name = "User" + std::to_string(user);
  f.say(user, "/start");
  auto start = f.wait_text(user, "Hi, " + name);
  f.press(user, start["message_id"], DialogTest::button(start, "Balance"));
  auto balance = f.wait_text(user, "Balance: 0 ₽");
  f.press(user, balance["message_id"], DialogTest::button(balance, "Top up"));
  auto menu = f.wait_text(user, "Top up with Telegram Stars");
  f.press(user, menu["message_id"], DialogTest::button(menu, "100 ₽ · 160 ⭐"));
  auto invoice = f.wait_for(user, [](const json& m) { return m.contains("invoice"); });
  auto payment = f.control("POST", "/users/" + std::to_string(user) + "/pay", {{"message_id", invoice["message_id"]}});
  f.wait_text(user, "Payment received: 100 ₽. Balance: 100 ₽.");
  return payment;
}

std::size_t count_texts(const json& transcript, const std::string& needle) {
  std::size_t n = 0;
  for (const auto& m : transcript) n += has_text(m, needle);
  return n;
}

}  // namespace

TEST_F(DialogTest, PaymentWhileAccountsIsDownIsCreditedOnceWhenItReturns) {
  start_ingress();
  say(601, "/start");  // the chat exists at Telegram
  wait_text(601, "Hi, User601");
  kill_accounts();
  produce_update(payment_update(990001, 601, "successful_payment", 10'000, "charge-601"));
  // Told at once that it is on its way, never that it failed.
  wait_text(601, "Your payment of 100 ₽ has arrived", 20s);
  for (int i = 0; i < 50 && metric(0, "money_operations_pending") != 1; ++i) std::this_thread::sleep_for(100ms);
  EXPECT_EQ(metric(0, "money_operations_pending"), 1);
  // Telegram delivers it again meanwhile (a new update id, the same charge).
  produce_update(payment_update(990002, 601, "successful_payment", 10'000, "charge-601"));
  std::this_thread::sleep_for(3s);  // several retries against nothing
  start_accounts();
  wait_text(601, "Your top-up of 100 ₽ is credited. Balance: 100 ₽.", 90s);
  EXPECT_EQ(user(601)["balance"], 10'000);
  auto entries = accounts_call("GET", "/v1/users/601/ledger")["entries"];
  std::size_t credits = 0;
  for (const auto& e : entries) credits += e["op"] == "credit" && e["key"] == "charge-601";
  EXPECT_EQ(credits, 1u) << entries.dump();
  for (int i = 0; i < 50 && metric(0, "money_operations_pending") != 0; ++i) std::this_thread::sleep_for(100ms);
  EXPECT_EQ(metric(0, "money_operations_pending"), 0);
  EXPECT_EQ(metric(0, "dialog_update_outcomes_total{result=\"failed\"}"), -1) << "no update was skipped";
  // Once more, with accounts up: a replay, credited nothing and announced nothing.
  produce_update(payment_update(990003, 601, "successful_payment", 10'000, "charge-601"));
  say(601, "/balance");
  wait_text(601, "Balance: 100 ₽");
  EXPECT_EQ(user(601)["balance"], 10'000);
  auto tr = transcript(601);
  EXPECT_EQ(count_texts(tr, "is credited") + count_texts(tr, "Payment received"), 1u) << tr.dump();
}

TEST_F(DialogTest, AGenerationConfirmedWhileAccountsIsDownStartsWhenItReturns) {
  start_ingress();
  fund(611, 100'000);
  auto form = open_model(611, "text_to_image", "fp");
  press(611, form["message_id"], button_data(form, "1|go|"));
  wait_text(611, "Describe what you want");
  say(611, "a fox in the snow");
  auto confirm = wait_text(611, "Check and confirm");
  kill_accounts();
  press(611, confirm["message_id"], button_data(confirm, "1|ok|"));
  // Kept, and the user knows nothing is charged yet.
  auto saved = wait_text(611, "saved. Payments are unavailable", 20s);
  EXPECT_EQ(saved["message_id"], confirm["message_id"]);
  for (int i = 0; i < 50 && metric(0, "money_operations_pending") != 1; ++i) std::this_thread::sleep_for(100ms);
  EXPECT_EQ(metric(0, "money_operations_pending"), 1);
  std::this_thread::sleep_for(3s);  // several retries against nothing
  start_accounts();
  // The same message turns into the job's status once the hold is made.
  wait_for(611, [&](const json& m) { return m["message_id"] == confirm["message_id"] && has_text(m, "queued"); }, 90s);
  auto jobs = read_until("gen.jobs", [](const json& j) { return j.value("user_id", 0) == 611; });
  ASSERT_FALSE(jobs.empty());
  const auto& job = jobs.back();
  EXPECT_EQ(job["model"], "flux-2/pro-text-to-image");
  EXPECT_EQ(job["input"]["prompt"], "a fox in the snow");
  EXPECT_EQ(job["hold_id"].get<std::string>().substr(0, 4), "611-");
  EXPECT_EQ(job["status_message_id"], confirm["message_id"]);
  EXPECT_EQ(user(611)["held"], 393);
  EXPECT_EQ(user(611)["balance"], 100'000 - 393);
  for (int i = 0; i < 50 && metric(0, "money_operations_pending") != 0; ++i) std::this_thread::sleep_for(100ms);
  EXPECT_EQ(metric(0, "money_operations_pending"), 0);
  EXPECT_EQ(metric(0, "dialog_update_outcomes_total{result=\"failed\"}"), -1) << "no update was skipped";
  // /status shows it running.
  say(611, "/status");
  wait_text(611, "Running now:\n• Flux 2 Pro");
}

TEST_F(DialogTest, AReferralDuringAnAccountsOutageLandsWhenItReturns) {
  start_ingress();
  say(608, "/start");  // the referrer
  wait_text(608, "Hi, User608");
  kill_accounts();
  say(607, "/start ref_608");
  wait_text(607, "Hi, User607", 20s);  // the menu, in Telegram's language, without accounts
  std::this_thread::sleep_for(2s);
  start_accounts();
  wait_text(607, "You joined by a friend's invitation: 10 free generations", 90s);
  wait_text(608, "User607 joined by your link", 30s);
  EXPECT_EQ(user(607)["referrer_id"], 608);
  EXPECT_EQ(user(608)["referrals"], 1);
  EXPECT_EQ(user(607)["free"]["bank"], 10);
}

TEST_F(DialogTest, RefundedPaymentIsDebitedEvenBelowZero) {
  start_ingress();
  auto payment = pay_100_with_stars(*this, 602);
  // 80 ₽ of it spent, then Telegram refunds the whole payment.
  auto hold = accounts_call("POST", "/v1/users/602/holds",
                            {{"amount", 8'000}, {"kind", "paid"}, {"idempotency_key", "spend-602"}});
  accounts_call("POST", "/v1/holds/" + hold["hold_id"].get<std::string>() + "/commit");
  auto pcq = payment["pre_checkout_query_id"].get<std::string>();
  EXPECT_EQ(request("POST", url(tg_port, "/control/payments/" + pcq + "/refund"), "{}").status, 200);
  wait_text(602, "was refunded by Telegram and taken off your balance. Balance: -80 ₽.");
  EXPECT_EQ(user(602)["balance"], -8'000);
  auto last = accounts_call("GET", "/v1/users/602/ledger")["entries"][0];
  EXPECT_EQ(last["op"], "debit") << last.dump();
  EXPECT_EQ(last["reason"], "stars_refund");
  EXPECT_EQ(last["delta"], -10'000);
  // A negative balance buys nothing until topped up.
  auto refused = request("POST", url(accounts_port, "/v1/users/602/holds"),
                         json{{"amount", 1}, {"kind", "paid"}, {"idempotency_key", "after-refund"}}.dump(),
                         {{"Authorization", std::string("Bearer ") + test::kAccountsToken}});
  EXPECT_EQ(refused.status, 402) << refused.body;
  // The refund message delivered twice debits once.
  auto tr = transcript(602);
  json refunded;
  for (const auto& m : tr) {
    if (m.contains("refunded_payment")) refunded = m["refunded_payment"];
  }
  ASSERT_TRUE(refunded.is_object()) << tr.dump();
  json again = payment_update(990010, 602, "refunded_payment", 10'000, refunded["telegram_payment_charge_id"]);
  produce_update(again);
  say(602, "/balance");
  wait_text(602, "Balance: -80 ₽");
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(user(602)["balance"], -8'000);
}

TEST_F(DialogTest, TheOwnerRefundsAStarsPaymentFromTheAdminPanel) {
  start_ingress();
  auto payment = pay_100_with_stars(*this, 604);
  auto pcq = payment["pre_checkout_query_id"].get<std::string>();
  auto charge = control("GET", "/payments/" + pcq)["telegram_payment_charge_id"].get<std::string>();
  // An admin may not; the owner may.
  say(test::kAdmin, "/admin");
  auto panel = wait_text(test::kAdmin, "Administration");
  EXPECT_TRUE(button(panel, "Refund a payment").empty());
  say(test::kOwner, "/admin");
  auto owner = wait_text(test::kOwner, "Administration");
  press(test::kOwner, owner["message_id"], button(owner, "Refund a payment"));
  wait_text(test::kOwner, "Send the user's id and the payment's charge id");
  say(test::kOwner, "604 " + charge);
  wait_text(test::kOwner, "Refunded 100 ₽ (160 ⭐) to 604");
  EXPECT_EQ(control("GET", "/payments/" + pcq)["state"], "refunded");
  wait_text(604, "was refunded by Telegram and taken off your balance. Balance: 0 ₽.");
  // Telegram's refunded_payment message arrives too: debited once.
  say(604, "/balance");
  wait_text(604, "Balance: 0 ₽\nReserved");
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(user(604)["balance"], 0);
  std::size_t debits = 0;
  auto entries = accounts_call("GET", "/v1/users/604/ledger")["entries"];
  for (const auto& e : entries) debits += e["op"] == "debit";
  EXPECT_EQ(debits, 1u);
}

TEST_F(DialogTest, AdminGrantsStayWithinTheAdminsLimit) {
  start_ingress();
  say(test::kAdmin, "/admin");
  auto panel = wait_text(test::kAdmin, "Administration");
  press(test::kAdmin, panel["message_id"], button(panel, "Grant balance"));
  wait_text(test::kAdmin, "Send the user's id and the amount");
  say(test::kAdmin, "603 600");  // the fixture's admins have 500 ₽
  wait_text(test::kAdmin, "Refused: that is more than your admin limit allows (500 ₽ left).");
  EXPECT_EQ(user(603)["balance"], 0);
  press(test::kAdmin, panel["message_id"], button(panel, "Grant balance"));
  wait_text(test::kAdmin, "Send the user's id and the amount");
  say(test::kAdmin, "603 400");
  wait_text(test::kAdmin, "Granted 400 ₽ to 603");
  EXPECT_EQ(user(603)["balance"], 40'000);
  EXPECT_EQ(user(test::kAdmin)["admin"]["remaining"], 10'000);
  // Both ledgers, each naming the other.
  auto target = accounts_call("GET", "/v1/users/603/ledger")["entries"][0];
  EXPECT_EQ(target["reason"], "admin_grant");
  EXPECT_EQ(target["admin_id"], std::to_string(test::kAdmin)) << target.dump();
  auto admin = accounts_call("GET", "/v1/users/" + std::to_string(test::kAdmin) + "/ledger")["entries"][0];
  EXPECT_EQ(admin["op"], "admin_grant") << admin.dump();
  EXPECT_EQ(admin["user_id"], "603");
  // The owner has no limit.
  say(test::kOwner, "/admin");
  auto owner = wait_text(test::kOwner, "Administration");
  press(test::kOwner, owner["message_id"], button(owner, "Grant balance"));
  wait_text(test::kOwner, "Send the user's id and the amount");
  say(test::kOwner, "603 100000");
  wait_text(test::kOwner, "Granted 100000 ₽ to 603");
  auto stats = accounts_call("GET", "/v1/stats");
  EXPECT_EQ(stats["money_admin_granted"], 10'040'000) << stats.dump();
  EXPECT_EQ(stats["money_in"], 0);
}

TEST_F(DialogTest, MalformedUpdatesCostALogLineNotTheProcess) {
  start_ingress();
  // Wrong types where the dialog reads fields, a payment among them, and a
  // value nested far too deep.
  auto raw = [&](const std::string& value) { test::run(io, producer->send("tg.updates", "605", value, {})); };
  raw(json{{"update_id", 660001}, {"callback_query", {{"id", 5}, {"from", {{"id", "x"}}}, {"data", 7}}}}.dump());
  raw(json{{"update_id", 660002},
           {"message", {{"message_id", "m"}, {"chat", {{"id", 605}, {"type", 1}}}, {"from", {{"id", 605}}}, {"text", 5}}}}
          .dump());
  raw(json{{"update_id", 660003},
           {"message", {{"message_id", 1}, {"chat", {{"id", 605}, {"type", "private"}}}, {"from", {{"id", 605}}},
                        {"successful_payment", {{"invoice_payload", 5}, {"telegram_payment_charge_id", 6}}}}}}
          .dump());
  raw(std::string(R"({"update_id":660004,"message":)") + std::string(100'000, '[') + std::string(100'000, ']') + "}");
  say(605, "/start");
  wait_text(605, "Hi, User605");
  EXPECT_TRUE(ingress[0]->running());
  EXPECT_GE(metric(0, "dialog_update_outcomes_total{result=\"malformed\"}") +
                metric(0, "dialog_update_outcomes_total{result=\"unreadable\"}"),
            1);
}

TEST_F(DialogTest, OneChatFloodingDoesNotStallTheOthers) {
  start_ingress();
  say(606, "/start");
  wait_text(606, "Hi, User606");
  // The others' update-to-reply latency as tg-emulator measures it: 100
  // users each saying /start, all answered, the p99 of their waits.
  auto talk = [&](std::int64_t first) {
    control("POST", "/config", {{"reset_latency", true}});
    for (std::int64_t u = first; u < first + 100; ++u) say(u, "/start");
    for (std::int64_t u = first; u < first + 100; ++u) wait_text(u, "Hi, User" + std::to_string(u), 30s);
    return control("GET", "/stats")["reply_latency_ms"];
  };
  auto calm = talk(1'000);
  // 10,000 updates of one chat at once, straight onto tg.updates.
  std::vector<kafka::OutMessage> flood;
  for (int i = 0; i < 10'000; ++i) {
    json message = {{"message_id", 10 + i},
                    {"date", 0},
                    {"chat", {{"id", 606}, {"type", "private"}}},
                    {"from", {{"id", 606}, {"is_bot", false}, {"first_name", "User606"}}},
                    {"text", "spam"}};
    kafka::OutMessage m;
    m.topic = "tg.updates";
    m.key = "606";
    m.value = json{{"update_id", 880'000 + i}, {"message", message}}.dump();
    flood.push_back(std::move(m));
  }
  test::run(io, producer->send_batch(std::move(flood)), std::chrono::seconds(60));
  // Others talking meanwhile are all answered, in about their usual time.
  auto flooded = talk(2'000);
  std::cout << "[figures] others' reply latency p99: " << calm["p99"] << " ms calm, " << flooded["p99"]
            << " ms while one chat sends 10,000 updates (p50 " << calm["p50"] << " / " << flooded["p50"] << " ms)\n";
  EXPECT_EQ(flooded["count"], 100);
  EXPECT_LE(flooded["p99"].get<double>(), std::max(3 * calm["p99"].get<double>(), calm["p99"].get<double>() + 2'000))
      << "calm " << calm.dump() << ", flooded " << flooded.dump();
  wait_text(606, "You are sending messages faster than I can answer", 20s);
  EXPECT_GT(metric(0, "dialog_update_outcomes_total{result=\"dropped\"}"), 9'000);
  std::this_thread::sleep_for(2s);
  std::size_t warnings = 0;
  for (const auto& m : transcript(606)) warnings += m.value("text", "").find("faster than I can") != std::string::npos;
  EXPECT_EQ(warnings, 1u) << "one slow-down reply a minute";
}

// ../shared/reproducers/ingress-shutdown-under-failure.sh as a test: accounts
// unreachable, 2,000 users' texts waiting, then tg-emulator, Redis, kafka-dev
// and the ingress get SIGTERM at once. It used to end in a double free (the
// chats' coroutines outlived the objects they used) or SIGPIPE.
TEST_F(DialogTest, StopsCleanlyOnSigtermWhileAccountsIsDownAndPeersGoAway) {
  kill_accounts();
  start_ingress();
  for (int u = 0; u < 2'000; ++u) say(5'000 + u, "hello");
  std::this_thread::sleep_for(6s);
  ::kill(tg->pid(), SIGTERM);
  ::kill(redis.pid(), SIGTERM);
  ::kill(kafka.process().pid(), SIGTERM);
  auto& process = *ingress[0];
  ::kill(process.pid(), SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (process.running() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(50ms);
  if (process.running()) {
    // Where it hangs, for whoever reads the failure.
    auto command = "gdb -p " + std::to_string(process.pid()) + " -batch -ex 'thread apply all bt 25' 2>&1";
    std::string stacks;
    if (FILE* gdb = ::popen(command.c_str(), "r")) {
      char buffer[4096];
      while (std::fgets(buffer, sizeof buffer, gdb) != nullptr) stacks += buffer;
      ::pclose(gdb);
    }
    ADD_FAILURE() << "the ingress did not exit within 30 s of SIGTERM; its threads:\n" << stacks;
  }
  auto log = process.stderr_text();
  std::string events;  // its own log lines, without librdkafka's
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    if (line.find("kafka_log") == std::string::npos && line.find("kafka_error") == std::string::npos) events += line + "\n";
  }
  auto status = process.stop(SIGKILL, 5s);
  EXPECT_EQ(status, 0) << events.substr(events.size() > 6000 ? events.size() - 6000 : 0);
  EXPECT_NE(log.find("\"dialog_stopped\""), std::string::npos);
  EXPECT_EQ(log.find("AddressSanitizer"), std::string::npos);
}
