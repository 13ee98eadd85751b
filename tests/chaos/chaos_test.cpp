// Money under faults: users pay with Stars, claim gifts, generate (paid,
// free and failing) and get admin grants while accounts is paused and killed, Redis
// restarts, a generator replica is SIGKILLed, a Kafka broker goes down and
// the polling ingress gets SIGTERM. Then: every payment credited once,
// every job ended one way with its hold settled once, no task twice, no
// balance below zero, no drift in the audit, and no process ended but those
// the test stopped. Prints the figures.
#include <csignal>
#include <iostream>
#include <set>
#include <thread>

#include "dialog_fixture.hpp"
#include "run.hpp"

using namespace kiebot;
using namespace std::chrono_literals;
using nlohmann::json;
using test::DialogTest;

namespace {

constexpr std::int64_t kFirstUser = 7'001;
constexpr int kUsers = 16;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

json payment(std::int64_t update_id, std::int64_t user, const std::string& charge) {
  json paid = {{"currency", "XTR"},
               {"total_amount", 160},
               {"invoice_payload", "topup:" + std::to_string(user) + ":10000:160"},
               {"telegram_payment_charge_id", charge}};
  return {{"update_id", update_id},
          {"message",
           {{"message_id", update_id % 100'000},
            {"date", 0},
            {"chat", {{"id", user}, {"type", "private"}}},
            {"from", {{"id", user}, {"is_bot", false}, {"first_name", "U"}}},
            {"successful_payment", paid}}}};
}

}  // namespace

struct Chaos : DialogTest {
  std::vector<std::string> charges;
  std::map<std::string, std::string> job_holds;  // job id -> hold id
  std::int64_t next_update = 990'000'000;

  void pay(std::int64_t user) {
    auto charge = "chaos-" + std::to_string(user) + "-" + std::to_string(charges.size());
    charges.push_back(charge);
    produce_update(payment(++next_update, user, charge));
  }

  // An internal publisher's job: the hold first (the job id its key), then the job.
  void generate(std::int64_t user, const std::string& kind) {
    auto id = "chaos-job-" + std::to_string(job_holds.size());
    for (int attempt = 0; attempt < 100; ++attempt) {
      http::Response r;
      r.status = 0;
      try {
        r = request("POST", url(accounts_port, "/v1/users/" + std::to_string(user) + "/holds"),
                    json{{"amount", 314}, {"kind", kind}, {"idempotency_key", id}, {"ttl_s", 1'800}}.dump(),
                    {{"Authorization", std::string("Bearer ") + test::kAccountsToken}});
      } catch (const http::ClientError&) {
        // A keep-alive connection to the accounts the test killed: try again (the same key).
      }
      if (r.status == 200) {
        job_holds[id] = r.json()["hold_id"];
        break;
      }
      if (r.status == 402) return;  // not enough money yet: no job, nothing held
      std::this_thread::sleep_for(100ms);
    }
    if (!job_holds.count(id)) return;
    json job = {{"v", 1},
                {"job_id", id},
                {"model", "google/nano-banana"},
                {"input", {{"prompt", "fox " + id}, {"output_format", "png"}, {"aspect_ratio", "1:1"}}},
                {"created_ms", now_ms()},
                {"user_id", user},
                {"chat_id", user},
                {"language", "en"},
                {"hold_id", job_holds[id]},
                {"source", "chaos"}};
    test::run(io, producer->send("gen.jobs", id, job.dump(), {}));
  }

  void each_user(const std::function<void(std::int64_t)>& f) {
    for (int i = 0; i < kUsers; ++i) f(kFirstUser + i);
  }

  // What the run ended with, for the checks and the printed figures.
  std::size_t polling = 0;                                // the ingress SIGTERMed while holding the lease
  std::map<std::string, std::set<std::string>> outcomes;  // job id -> statuses in gen.results
  std::map<std::string, int> failure_codes;
  std::map<std::string, int> credited;  // charge id -> stars credits in the ledgers
  std::int64_t stars_paid = 0, stars_credited = 0;
  std::chrono::milliseconds waited_ms{0};
  std::size_t gifts = 0;
  int succeeded = 0, failed = 0, kie_tasks = 0;
  json audited;

  std::map<std::int64_t, json> start_users() {
    request(
        "POST", url(kie_port, "/control/config"),
        json{{"failure_rate", 0.3}, {"latency_ms", {{"waiting", 100}, {"queuing", 100}, {"generating", 400}}}}.dump());
    start_ingress();
    start_ingress();
    start_generator();
    start_generator();
    each_user([&](std::int64_t u) { say(u, "/start"); });
    std::map<std::int64_t, json> menus;
    each_user([&](std::int64_t u) { menus[u] = wait_text(u, "Hi, User" + std::to_string(u), 30s); });
    std::cerr << "chaos: " << kUsers << " users started\n";
    return menus;
  }

  // Payments and gift claims, with accounts paused for 5 s in the middle.
  void pay_while_accounts_pauses(std::map<std::int64_t, json>& menus) {
    each_user([&](std::int64_t u) { pay(u); });
    ::kill(accounts->pid(), SIGSTOP);
    each_user([&](std::int64_t u) { pay(u); });
    each_user([&](std::int64_t u) { press(u, menus[u]["message_id"], button(menus[u], "Gift")); });
    std::this_thread::sleep_for(5s);
    ::kill(accounts->pid(), SIGCONT);
    each_user([&](std::int64_t u) {
      if (u % 2 == 0) generate(u, "paid");
      if (u % 4 == 1) generate(u, "free");
    });
    std::cerr << "chaos: accounts paused and resumed\n";
  }

  // A generator replica SIGKILLed mid-job, another started.
  void kill_a_generator() {
    std::this_thread::sleep_for(500ms);
    generators[0]->stop(SIGKILL, 5s);
    start_generator();
    std::cerr << "chaos: generator killed\n";
  }

  // An admin grant and payments while accounts is killed.
  void grant_while_accounts_is_down() {
    say(test::kAdmin, "/admin");
    auto panel = wait_text(test::kAdmin, "Administration");
    press(test::kAdmin, panel["message_id"], button(panel, "Grant balance"));
    wait_text(test::kAdmin, "Send the user's id and the amount");
    kill_accounts();
    say(test::kAdmin, std::to_string(kFirstUser) + " 50");
    each_user([&](std::int64_t u) {
      if (u % 3 == 0) pay(u);
    });
    std::this_thread::sleep_for(3s);
    start_accounts();
    std::cerr << "chaos: accounts killed and restarted\n";
  }

  // Redis restarts (AOF, fsync always) while jobs run.
  void restart_redis_while_jobs_run() {
    each_user([&](std::int64_t u) {
      if (u % 2 == 1) generate(u, "paid");
    });
    redis.stop();
    std::this_thread::sleep_for(1s);
    redis.start();
    std::cerr << "chaos: redis restarted\n";
  }

  // A Kafka broker down for 4 s. (Users keep talking through Telegram; the
  // poller holds their updates until Kafka acknowledges them.)
  void take_a_broker_down() {
    EXPECT_EQ(kafka.control("POST", "/brokers/2/down"), 200);
    each_user([&](std::int64_t u) { say(u, "/balance"); });
    std::this_thread::sleep_for(4s);
    EXPECT_EQ(kafka.control("POST", "/brokers/2/up"), 200);
    each_user([&](std::int64_t u) {
      if (u % 5 == 0) pay(u);
    });
    std::cerr << "chaos: broker down and up\n";
  }

  // SIGTERM to the ingress holding the lease; another takes over.
  void stop_the_polling_ingress() {
    for (std::size_t i = 0; i < ingress.size(); ++i) {
      auto r = request("GET", url(ingress_ports[i], "/readyz"));
      if (r.body.find("\"held\":true") != std::string::npos) polling = i;
    }
    EXPECT_EQ(ingress[polling]->stop(SIGTERM, 30s), 0) << "a SIGTERMed ingress exits cleanly";
    start_ingress();
    each_user([&](std::int64_t u) { say(u, "/balance"); });
    std::cerr << "chaos: polling ingress stopped, " << charges.size() << " payments, " << job_holds.size() << " jobs\n";
  }

  // Every job's result, and every money operation the dialogs queued, done.
  void await_settlement() {
    std::set<std::string> pending_jobs;
    for (const auto& [id, hold] : job_holds) pending_jobs.insert(id);
    read_until(
        "gen.results",
        [&](const json& r) {
          auto id = r.value("job_id", "");
          if (!job_holds.count(id)) return false;
          outcomes[id].insert(r.value("status", ""));
          if (r.value("status", "") == "failed" && pending_jobs.count(id) && r["error"].is_object()) {
            ++failure_codes[r["error"].value("code", "")];
          }
          pending_jobs.erase(id);
          return pending_jobs.empty();
        },
        120s);
    EXPECT_TRUE(pending_jobs.empty()) << pending_jobs.size() << " jobs without a result";
    auto settled = [&] {
      for (std::size_t i = 0; i < ingress.size(); ++i) {
        if (!ingress[i]->running()) continue;
        if (metric(i, "money_operations_pending") != 0) return false;
      }
      return true;
    };
    for (int i = 0; i < 900 && !settled(); ++i) std::this_thread::sleep_for(100ms);
    EXPECT_TRUE(settled()) << "money operations still pending";
  }

  // The grant made while accounts was down landed once.
  void expect_the_grant_once() {
    wait_text(test::kAdmin, "Granted 50 ₽ to " + std::to_string(kFirstUser), 60s);
    std::size_t grants = 0;
    auto granted = accounts_call("GET", "/v1/users/" + std::to_string(kFirstUser) + "/ledger?limit=1000")["entries"];
    for (const auto& e : granted) grants += e.value("reason", "") == "admin_grant";
    EXPECT_EQ(grants, 1u);
  }

  bool read_stars_credits() {
    credited.clear();
    stars_credited = 0;
    each_user([&](std::int64_t u) {
      auto entries = accounts_call("GET", "/v1/users/" + std::to_string(u) + "/ledger?limit=1000")["entries"];
      for (const auto& e : entries) {
        if (e.value("op", "") == "credit" && e.value("reason", "") == "stars") {
          ++credited[e.value("key", "")];
          stars_credited += e.value("delta", std::int64_t{0});
        }
      }
    });
    return credited.size() >= charges.size();
  }

  // Every payment credited exactly once. The last ones were produced just
  // before the polling ingress stopped: they wait for the group's rebalance,
  // so this waits until every charge is in a ledger (or a minute passed).
  void expect_payments_credited_once() {
    auto waited_from = std::chrono::steady_clock::now();
    while (!read_stars_credits() && std::chrono::steady_clock::now() - waited_from < 60s) {
      std::this_thread::sleep_for(500ms);
    }
    waited_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - waited_from);
    each_user([&](std::int64_t u) {
      EXPECT_GE(user(u)["balance"].get<std::int64_t>(), 0) << u << ": no balance below zero";
    });
    for (const auto& c : charges) {
      EXPECT_EQ(credited[c], 1) << c;
      stars_paid += 10'000;
    }
    EXPECT_EQ(stars_credited, stars_paid);
  }

  // A gift at most once per user, and every user who got one was told.
  void expect_gifts_once_and_told() {
    each_user([&](std::int64_t u) {
      std::size_t entries = 0;
      auto ledger = accounts_call("GET", "/v1/users/" + std::to_string(u) + "/ledger?limit=1000");
      for (const auto& e : ledger["entries"]) entries += e.value("op", "") == "gift";
      EXPECT_LE(entries, 1u) << u;
      bool told = false;
      for (const auto& m : transcript(u)) told = told || (m.value("from", "") == "bot" && test::has_text(m, "won"));
      if (entries == 1) {
        EXPECT_TRUE(told) << u << ": a gift credited is a gift announced";
      }
      gifts += entries;
    });
  }

  // Every job ended one way, its hold settled that way once.
  void expect_holds_settled_once() {
    for (const auto& [id, hold_id] : job_holds) {
      ASSERT_EQ(outcomes[id].size(), 1u) << id << " ended more than one way";
      auto status = *outcomes[id].begin();
      auto hold = accounts_call("GET", "/v1/holds/" + hold_id);
      if (status == "succeeded") {
        ++succeeded;
        EXPECT_EQ(hold["state"], "committed") << id;
      } else {
        ++failed;
        EXPECT_TRUE(hold["state"] == "released" || hold["state"] == "expired") << id << ": " << hold.dump();
      }
    }
    kie_tasks = request("GET", url(kie_port, "/control/stats")).json()["tasks_created"].get<int>();
    EXPECT_LE(kie_tasks, static_cast<int>(job_holds.size())) << "no second KIE task for a job";
  }

  // The audit finds no drift.
  void audit() {
    test::Process run({std::string(KIEBOT_BIN_DIR) + "/accounts", "audit"},
                      {{"ACCOUNTS_TOKEN", test::kAccountsToken},
                       {"REDIS_URL", "redis://127.0.0.1:" + std::to_string(redis.port()) + "/1"}});
    std::string report;
    while (auto line = run.read_line(20s)) report += *line + "\n";
    EXPECT_EQ(run.stop(SIGTERM, 20s), 0) << report;
    audited = json::parse(report, nullptr, false);
    if (!audited.is_object()) audited = json::object();
  }

  // Nobody ended but those the test stopped.
  void expect_everyone_else_running() {
    EXPECT_TRUE(accounts->running());
    for (std::size_t i = 0; i < ingress.size(); ++i) {
      if (i != polling) {
        EXPECT_TRUE(ingress[i]->running()) << "ingress " << i;
      }
    }
    for (std::size_t i = 1; i < generators.size(); ++i) EXPECT_TRUE(generators[i]->running()) << "generator " << i;
  }

  void print_figures() const {
    std::string by_code;
    for (const auto& [code, n] : failure_codes) by_code += " " + code + " " + std::to_string(n);
    std::cout << "chaos figures: payments " << charges.size() << ", credited once " << credited.size() << ", gifts "
              << gifts << " (at most one each)"
              << ", stars paid " << stars_paid << " kopecks = credited " << stars_credited << " (the last credited "
              << waited_ms.count() << " ms after the jobs ended); jobs " << job_holds.size() << ", succeeded "
              << succeeded << " (hold committed), failed " << failed << " (hold released), KIE tasks " << kie_tasks
              << " (failures by code:" << by_code << "); audit users " << audited.value("users", 0) << ", drifting "
              << audited.value("drifting", -1) << "\n";
  }
};

TEST_F(Chaos, MoneyIsNeverLostAndNeverFreeUnderFaults) {
  auto menus = start_users();
  pay_while_accounts_pauses(menus);
  kill_a_generator();
  grant_while_accounts_is_down();
  restart_redis_while_jobs_run();
  take_a_broker_down();
  stop_the_polling_ingress();

  await_settlement();
  expect_the_grant_once();
  expect_payments_credited_once();
  expect_gifts_once_and_told();
  expect_holds_settled_once();
  audit();
  expect_everyone_else_running();
  print_figures();
}
