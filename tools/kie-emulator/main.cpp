// kie-emulator: the KIE API for local runs and tests (no key, no money).
#include <nlohmann/json.hpp>

#include "emulator.hpp"
#include "kiebot/base/config.hpp"
#include "kiebot/base/log.hpp"
#include "kiebot/http/server.hpp"
#include "kiebot/runtime/lifecycle.hpp"
#include "kiebot/runtime/task_group.hpp"

using namespace kiebot;

int main(int argc, char** argv) {
  Config config("kie-emulator", "KIE API emulator: createTask, recordInfo, callbacks, result files", argc, argv);
  auto port = config.port("HTTP_PORT", 8091, "API and control port; 0 = any free port");
  auto keys = config.list("KIE_EMULATOR_KEYS", "sandbox-key", "comma-separated API keys accepted as Bearer");
  auto public_url =
      config.optional("KIE_EMULATOR_PUBLIC_URL", "base URL of result files; default http://127.0.0.1:<port>");
  auto level = config.log_level();
  auto instance = config.instance_id();
  if (auto code = config.finish()) return *code;
  log::init({"kie-emulator", instance, log::parse_level(level), {}});

  kie::EmulatorOptions options;
  auto webhook_key = config.optional("KIE_EMULATOR_WEBHOOK_HMAC_KEY",
                                     "sign callbacks as KIE does with a webhook HMAC key (unset = unsigned)", true);
  options.keys = std::move(keys);
  if (webhook_key) options.webhook_hmac_key = *webhook_key;
  if (public_url) options.public_url = *public_url;
  net::io_context io(1);
  TaskGroup background(io.get_executor(), "kie-emulator");
  http::ServerOptions server_options;
  server_options.port = port;
  server_options.name = "kie-emulator";
  server_options.body_limit = 32 << 20;  // base64 uploads
  http::Server server(io.get_executor(), kie::make_router(background, io.get_executor(), options), server_options);
  server.bind();
  Lifecycle lifecycle(io, std::chrono::seconds(5));
  lifecycle.spawn("http", server.run());
  lifecycle.spawn("tasks", background.join_at_shutdown(std::chrono::seconds(1)));
  return lifecycle.run();
}
