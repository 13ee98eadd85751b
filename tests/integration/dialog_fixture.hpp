// The dialog's test bed: ingress replicas (poller and dialog) against
// tg-emulator, accounts, kie-emulator, kafka-dev and a real redis-server,
// and helpers that talk as Telegram users through the emulator's control API.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kafka_dev.hpp"
#include "kiebot/http/client.hpp"
#include "kiebot/kafka/kafka.hpp"
#include "process.hpp"
#include "redis_server.hpp"

namespace kiebot::test {

using nlohmann::json;

inline constexpr const char* kBotToken = "111111:sandbox-token";
// Every scope: the tests' own reads and writes at accounts.
inline constexpr const char* kAccountsToken = "dialog-accounts-token";
// The services' own tokens, with only the scopes each needs (as deployed).
inline constexpr const char* kIngressAccountsToken = "ingress-accounts-token-0001";
inline constexpr const char* kGeneratorAccountsToken = "generator-accounts-token-01";
inline constexpr const char* kAccountsCallers =
    "ingress:ingress-accounts-token-0001:read,hold,settle,user,admin,credit:stars,credit:referral,credit:admin_grant,"
    "debit:stars_refund,debit:admin_debit;generator:generator-accounts-token-01:read,settle";
inline constexpr const char* kAdminApiToken = "ingress-admin-api-token";
inline constexpr std::int64_t kOwner = 900;
inline constexpr std::int64_t kAdmin = 901;

// True when the message's text contains `needle`.
inline bool has_text(const json& m, const std::string& needle) {
  return m.value("text", "").find(needle) != std::string::npos;
}

struct DialogTest : testing::Test {
  RedisServer redis{{"--appendonly", "yes", "--appendfsync", "always"}};
  KafkaDev kafka;
  std::unique_ptr<Process> tg, kie, accounts;
  std::uint16_t tg_port = 0, kie_port = 0, accounts_port = 0;
  std::vector<std::unique_ptr<Process>> ingress, generators;
  std::vector<std::uint16_t> ingress_ports;
  net::io_context io;
  http::Client client{io.get_executor()};
  std::unique_ptr<kafka::Producer> producer;
  int groups = 0;

  void SetUp() override;
  void TearDown() override;

  std::string url(std::uint16_t port, const std::string& path) const;
  http::Response request(const std::string& method, const std::string& u, const std::string& body = "",
                         http::Headers headers = {});
  std::size_t start_ingress(std::map<std::string, std::string> extra = {});
  std::size_t start_generator();
  // accounts on `accounts_port` (any free port the first time); a restart
  // keeps the port, so the services find it again.
  void start_accounts();
  void kill_accounts();
  // An ingress's /metrics value of `series` (its full name with labels), or -1.
  double metric(std::size_t ingress_index, const std::string& series);

  json control(const std::string& method, const std::string& path, const json& body = json::object());
  json accounts_call(const std::string& method, const std::string& path, const json& body = json::object());
  json user(std::int64_t id) { return accounts_call("GET", "/v1/users/" + std::to_string(id)); }
  void fund(std::int64_t id, std::int64_t kopecks);

  // A message from the user; returns its update id.
  std::int64_t say(std::int64_t user, const std::string& text, const std::string& language = "en");
  // Presses the button of the bot's message whose callback_data is `data`; returns the callback query id.
  std::string press(std::int64_t user, std::int64_t message_id, const std::string& data);
  json transcript(std::int64_t chat);
  // Bot messages of the chat after the first `skip`; waits until `pred` holds for one of them.
  json wait_for(std::int64_t chat, const std::function<bool(const json&)>& pred,
                std::chrono::milliseconds timeout = std::chrono::seconds(15));
  json wait_text(std::int64_t chat, const std::string& needle,
                 std::chrono::milliseconds timeout = std::chrono::seconds(15));
  std::size_t bot_messages(std::int64_t chat);
  // The callback_data of the button whose text contains `label` (empty when none).
  static std::string button(const json& message, const std::string& label);
  static std::string button_data(const json& message, const std::string& prefix);
  bool answered(const std::string& callback_id);

  // Every message of `topic` (a new consumer group) until `pred` holds for one; returns them.
  std::vector<json> read_until(const std::string& topic, const std::function<bool(const json&)>& pred,
                               std::chrono::milliseconds timeout = std::chrono::seconds(20));
  void produce_update(const json& update);
  // From /start to the model's parameter form.
  json open_model(std::int64_t user, const std::string& category, const std::string& model_code);
};

}  // namespace kiebot::test
