// tg-emulator: the Telegram Bot API for local runs and tests (no account needed).
#include <nlohmann/json.hpp>

#include <charconv>
#include <iostream>
#include <string_view>

#include "api.hpp"
#include "kiebot/base/config.hpp"
#include "kiebot/base/log.hpp"
#include "kiebot/http/client.hpp"
#include "kiebot/http/health.hpp"
#include "kiebot/http/server.hpp"
#include "kiebot/runtime/lifecycle.hpp"
#include "kiebot/runtime/task_group.hpp"
#include "params.hpp"
#include "sandbox.hpp"

using namespace kiebot;

namespace {

// TG_EMULATOR_TOKENS: a bot for each "<bot id>:<secret>"; false (and a line
// on stderr) for a list that names none or a malformed one.
bool add_bots(tg::Emulator& em, const std::vector<std::string>& tokens, std::int64_t first_update) {
  if (tokens.empty()) {
    std::cerr << "tg-emulator: config error: TG_EMULATOR_TOKENS names no token\n";
    return false;
  }
  for (const auto& token : tokens) {
    auto colon = token.find(':');
    std::int64_t id = 0;
    auto digits = std::string_view(token).substr(0, colon == std::string::npos ? 0 : colon);
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
    if (colon == std::string::npos || digits.empty() || error != std::errc() || end != digits.data() + digits.size() ||
        id <= 0) {
      std::cerr << "tg-emulator: config error: TG_EMULATOR_TOKENS must be <bot id>:<secret>, got '" << token << "'\n";
      return false;
    }
    auto& bot = em.bots[token];
    bot.token = token;
    bot.id = id;
    bot.username = "sandbox_" + token.substr(0, colon) + "_bot";
    bot.next_update_id = first_update;
    if (em.default_token.empty()) em.default_token = token;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Config config("tg-emulator", "Telegram Bot API emulator with a control API", argc, argv);
  auto port = config.port("HTTP_PORT", 8090, "Bot API and control port; 0 = any free port");
  auto tokens = config.list("TG_EMULATOR_TOKENS", "111111:sandbox-token", "comma-separated bot tokens served");
  auto local_api =
      config.flag("TG_EMULATOR_LOCAL_API", false, "behave as a local Bot API server: uploads up to 2000 MB, streamed");
  auto first_update =
      config.integer("TG_EMULATOR_FIRST_UPDATE_ID", 1,
                     "the first update_id (./dev run uses the time, so that ids never repeat across runs "
                     "while Redis keeps the last stored offset and the handled ids)",
                     1, (std::int64_t{1} << 31) - 1);
  auto level = config.log_level();
  auto instance = config.instance_id();
  if (auto code = config.finish()) return *code;
  log::init({"tg-emulator", instance, log::parse_level(level), {}});

  net::io_context io(1);
  TaskGroup background(io.get_executor(), "tg-emulator");
  auto em = std::make_shared<tg::Emulator>();
  em->executor = io.get_executor();
  em->background = &background;
  em->client = std::make_unique<http::Client>(io.get_executor());
  em->local_api = local_api;
  if (!add_bots(*em, tokens, first_update)) return 2;
  http::Router router;
  add_health_routes(router, nullptr);
  tg::add_bot_routes(router, em);
  tg::add_control_routes(router, em);
  tg::add_sandbox_routes(router, em);
  http::ServerOptions options;
  options.port = port;
  options.name = "tg-emulator";
  // Uploads (50 MB, or 2000 MB from a local Bot API server) and multipart overhead.
  options.body_limit = local_api ? std::size_t{2010} << 20 : std::size_t{60} << 20;
  // Large multipart uploads are read as they arrive (their files' sizes
  // counted, their first MB kept), never whole.
  options.stream_body = [](const http::Request& head) { return tg::streams_body(head); };
  options.request_timeout = std::chrono::seconds(70);  // long polls of up to 50 s
  options.drain_timeout = std::chrono::seconds(1);     // a waiting long poll need not be awaited
  http::Server server(io.get_executor(), std::move(router), options);
  server.bind();
  Lifecycle lifecycle(io, std::chrono::seconds(2));
  lifecycle.spawn("http", server.run());
  lifecycle.spawn("background", background.join_at_shutdown(std::chrono::seconds(1)));
  return lifecycle.run();
}
