// The dialog's test bed (see dialog_fixture.hpp).
#include "dialog_fixture.hpp"

#include <csignal>
#include <sstream>
#include <thread>

#include "run.hpp"

namespace kiebot::test {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {
std::string bin(const char* name) {
  return std::string(KIEBOT_BIN_DIR) + "/" + name;
}
}  // namespace

void DialogTest::SetUp() {
  tg = std::make_unique<Process>(std::vector<std::string>{bin("tg-emulator")},
                                 std::map<std::string, std::string>{{"HTTP_PORT", "0"}});
  kie = std::make_unique<Process>(std::vector<std::string>{bin("kie-emulator")},
                                  std::map<std::string, std::string>{{"HTTP_PORT", "0"}});
  start_accounts();
  kie_port = kie->listening_port(10s);
  tg_port = tg->listening_port(10s);
  // Telegram's flood control is the rate limiter's business; the scripted
  // conversations press buttons faster than a person.
  control("POST", "/config", {{"flood_control", false}});
  kafka::ProducerOptions o;
  o.brokers = kafka.bootstrap();
  producer = std::make_unique<kafka::Producer>(io.get_executor(), o);
}

void DialogTest::start_accounts() {
  accounts = std::make_unique<Process>(
      std::vector<std::string>{bin("accounts")},
      std::map<std::string, std::string>{{"HTTP_PORT", std::to_string(accounts_port)},
                                         {"ACCOUNTS_TOKEN", kAccountsToken},
                                         {"ACCOUNTS_TOKENS", kAccountsCallers},
                                         {"REDIS_URL", "redis://127.0.0.1:" + std::to_string(redis.port()) + "/1"},
                                         {"OWNER_ID", std::to_string(kOwner)},
                                         {"ADMIN_IDS", std::to_string(kAdmin)},
                                         {"ADMIN_DEFAULT_LIMIT", "50000"}});
  accounts_port = accounts->listening_port(10s);
}

void DialogTest::kill_accounts() {
  accounts->stop(SIGKILL, 5s);
}

double DialogTest::metric(std::size_t index, const std::string& series) {
  auto r = request("GET", url(ingress_ports.at(index), "/metrics"));
  std::istringstream lines(r.body);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 && line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return -1;
}

void DialogTest::TearDown() {
  if (!HasFailure()) return;
  bool verbose = std::getenv("KIEBOT_TEST_VERBOSE") != nullptr;
  auto dump = [&](const char* name, Process& p) {
    auto text = p.stderr_text();
    if (!verbose && text.size() > 6000) text = text.substr(text.size() - 6000);
    std::cerr << "--- " << name << " stderr ---\n" << text << "\n";
  };
  for (auto& p : ingress) dump("ingress", *p);
  for (auto& p : generators) dump("generator", *p);
}

std::string DialogTest::url(std::uint16_t port, const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port) + path;
}

http::Response DialogTest::request(const std::string& method, const std::string& u, const std::string& body,
                                   http::Headers headers) {
  http::ClientRequest r{method, u, std::move(headers), body, 20s};
  if (!body.empty()) r.headers.emplace_back("Content-Type", "application/json");
  return run(io, client.send(std::move(r)), 30s);
}

std::size_t DialogTest::start_ingress(std::map<std::string, std::string> extra) {
  std::map<std::string, std::string> env{{"HTTP_PORT", "0"},
                                         {"INSTANCE_ID", "ingress-" + std::to_string(ingress.size())},
                                         {"REDIS_URL", redis.url()},
                                         {"KAFKA_BROKERS", kafka.bootstrap()},
                                         {"TELEGRAM_BOT_TOKEN", kBotToken},
                                         {"TELEGRAM_API_BASE", url(tg_port, "")},
                                         {"ACCOUNTS_URL", url(accounts_port, "")},
                                         {"ACCOUNTS_TOKEN", kIngressAccountsToken},
                                         {"ADMIN_API_TOKEN", kAdminApiToken},
                                         {"KIE_API_KEY", "sandbox-key"},
                                         {"KIE_API_BASE", url(kie_port, "")},
                                         {"KIE_UPLOAD_BASE", url(kie_port, "")},
                                         {"LEASE_TTL_MS", "2000"},
                                         {"LONG_POLL_S", "1"},
                                         {"TELEGRAM_CHAT_INTERVAL_MS", "50"},
                                         {"TELEGRAM_GLOBAL_RATE", "100000"},
                                         {"KAFKA_CFG_SESSION_TIMEOUT_MS", "6000"},
                                         {"KAFKA_CFG_HEARTBEAT_INTERVAL_MS", "500"},
                                         {"KAFKA_CFG_TOPIC_METADATA_REFRESH_INTERVAL_MS", "1000"},
                                         // kafka-dev holds fetches this long even when messages arrive.
                                         {"KAFKA_CFG_FETCH_WAIT_MAX_MS", "10"}};
  if (std::getenv("KIEBOT_TEST_VERBOSE") != nullptr) env["LOG_LEVEL"] = "debug";
  for (auto& [k, v] : extra) env[k] = v;
  ingress.push_back(std::make_unique<Process>(std::vector<std::string>{bin("ingress")}, std::move(env)));
  ingress_ports.push_back(ingress.back()->listening_port(20s));
  EXPECT_TRUE(ingress.back()->wait_for_stderr("dialog_started", 20s)) << ingress.back()->stderr_text();
  return ingress.size() - 1;
}

std::size_t DialogTest::start_generator() {
  // KIE's Suno API requires a callback URL: kie-emulator calls this one.
  auto port = test::free_port();
  std::map<std::string, std::string> env{{"HTTP_PORT", std::to_string(port)},
                                         {"PUBLIC_BASE_URL", url(port, "")},
                                         {"CALLBACK_SECRET", "dialog-test-callback-secret"},
                                         {"INSTANCE_ID", "generator-" + std::to_string(generators.size())},
                                         {"REDIS_URL", redis.url()},
                                         {"KAFKA_BROKERS", kafka.bootstrap()},
                                         {"TELEGRAM_BOT_TOKEN", kBotToken},
                                         {"TELEGRAM_API_BASE", url(tg_port, "")},
                                         {"KIE_API_KEY", "sandbox-key"},
                                         {"KIE_API_BASE", url(kie_port, "")},
                                         {"ACCOUNTS_URL", url(accounts_port, "")},
                                         {"ACCOUNTS_TOKEN", kGeneratorAccountsToken},
                                         {"FIRST_CHECK_MS", "200"},
                                         {"MAX_CHECK_MS", "1000"},
                                         {"TELEGRAM_CHAT_INTERVAL_MS", "50"},
                                         {"KAFKA_CFG_SESSION_TIMEOUT_MS", "6000"},
                                         {"KAFKA_CFG_HEARTBEAT_INTERVAL_MS", "500"},
                                         {"KAFKA_CFG_FETCH_WAIT_MAX_MS", "10"},
                                         {"KAFKA_CFG_TOPIC_METADATA_REFRESH_INTERVAL_MS", "1000"}};
  generators.push_back(std::make_unique<Process>(std::vector<std::string>{bin("generator")}, std::move(env)));
  generators.back()->listening_port(20s);
  return generators.size() - 1;
}

json DialogTest::control(const std::string& method, const std::string& path, const json& body) {
  auto r = request(method, url(tg_port, "/control" + path), method == "GET" ? "" : body.dump());
  EXPECT_EQ(r.status, 200) << path << ": " << r.body;
  return r.json();
}

json DialogTest::accounts_call(const std::string& method, const std::string& path, const json& body) {
  auto r = request(method, url(accounts_port, path), method == "GET" ? "" : body.dump(),
                   {{"Authorization", std::string("Bearer ") + kAccountsToken}});
  EXPECT_EQ(r.status, 200) << path << ": " << r.body;
  return r.json();
}

void DialogTest::fund(std::int64_t id, std::int64_t kopecks) {
  accounts_call("POST", "/v1/users/" + std::to_string(id) + "/credits",
                {{"amount", kopecks}, {"reason", "topup"}, {"idempotency_key", "fund-" + std::to_string(id)}});
}

std::int64_t DialogTest::say(std::int64_t user, const std::string& text, const std::string& language) {
  auto r = control("POST", "/users/" + std::to_string(user) + "/messages",
                   {{"text", text}, {"language_code", language}, {"first_name", "User" + std::to_string(user)}});
  return r.value("update_id", std::int64_t{0});
}

std::string DialogTest::press(std::int64_t user, std::int64_t message_id, const std::string& data) {
  auto r = control("POST", "/users/" + std::to_string(user) + "/press",
                   {{"message_id", message_id}, {"callback_data", data}});
  return r.value("callback_query_id", "");
}

json DialogTest::transcript(std::int64_t chat) {
  return control("GET", "/chats/" + std::to_string(chat) + "/transcript");
}

std::size_t DialogTest::bot_messages(std::int64_t chat) {
  std::size_t n = 0;
  for (const auto& m : transcript(chat)) n += m["from"] == "bot";
  return n;
}

json DialogTest::wait_for(std::int64_t chat, const std::function<bool(const json&)>& pred,
                          std::chrono::milliseconds timeout) {
  auto until = Clock::now() + timeout;
  json last;
  while (Clock::now() < until) {
    last = transcript(chat);
    for (auto it = last.rbegin(); it != last.rend(); ++it) {
      if ((*it)["from"] == "bot" && pred(*it)) return *it;
    }
    std::this_thread::sleep_for(50ms);
  }
  ADD_FAILURE() << "no such bot message in chat " << chat << "; transcript: " << last.dump(1);
  return json::object();
}

json DialogTest::wait_text(std::int64_t chat, const std::string& needle, std::chrono::milliseconds timeout) {
  return wait_for(
      chat, [&](const json& m) { return m.value("text", "").find(needle) != std::string::npos; }, timeout);
}

std::string DialogTest::button(const json& message, const std::string& label) {
  if (!message.contains("reply_markup")) return {};
  for (const auto& row : message["reply_markup"]["inline_keyboard"]) {
    for (const auto& b : row) {
      if (b.value("text", "").find(label) != std::string::npos) return b.value("callback_data", "");
    }
  }
  return {};
}

std::string DialogTest::button_data(const json& message, const std::string& prefix) {
  if (!message.contains("reply_markup")) return {};
  for (const auto& row : message["reply_markup"]["inline_keyboard"]) {
    for (const auto& b : row) {
      if (b.value("callback_data", "").rfind(prefix, 0) == 0) return b.value("callback_data", "");
    }
  }
  return {};
}

bool DialogTest::answered(const std::string& callback_id) {
  return control("GET", "/callbacks/" + callback_id).value("answered", false);
}

std::vector<json> DialogTest::read_until(const std::string& topic, const std::function<bool(const json&)>& pred,
                                         std::chrono::milliseconds timeout) {
  kafka::ConsumerOptions o;
  o.brokers = kafka.bootstrap();
  o.group_id = "dialog-test-" + std::to_string(++groups);
  o.topics = {topic};
  o.properties = {{"auto.offset.reset", "earliest"}};
  kafka::Consumer consumer(io.get_executor(), o);
  std::vector<json> out;
  auto until = Clock::now() + timeout;
  while (Clock::now() < until) {
    for (auto& m : run(io, consumer.poll(100, 200ms))) {
      out.push_back(json::parse(m.value));
      if (pred(out.back())) return out;
    }
  }
  ADD_FAILURE() << "no matching message on " << topic << " (" << out.size() << " read)";
  return out;
}

void DialogTest::produce_update(const json& update) {
  std::int64_t chat = 0;
  if (update.contains("message")) chat = update["message"]["chat"]["id"];
  if (update.contains("callback_query")) chat = update["callback_query"]["from"]["id"];
  run(io, producer->send("tg.updates", std::to_string(chat), update.dump(), {}));
}

json DialogTest::open_model(std::int64_t user, const std::string& category, const std::string& model_code) {
  say(user, "/start");
  auto menu = wait_for(user, [](const json& m) { return !button_data(m, "1|cat|").empty(); });
  press(user, menu["message_id"], "1|cat|" + category);
  auto list = wait_for(user, [&](const json& m) { return !button_data(m, "1|mdl|" + model_code).empty(); });
  press(user, list["message_id"], "1|mdl|" + model_code);
  return wait_for(user, [](const json& m) { return !button_data(m, "1|go|").empty(); });
}

}  // namespace kiebot::test
