// The libs/http server with the standard health routes, on one
// thread, for bench/run.sh to load with wrk next to nginx.
#include <nlohmann/json.hpp>

#include "kiebot/base/config.hpp"
#include "kiebot/base/log.hpp"
#include "kiebot/http/health.hpp"
#include "kiebot/http/server.hpp"
#include "kiebot/runtime/lifecycle.hpp"

using namespace kiebot;

int main(int argc, char** argv) {
  Config config("bench-http-server", "HTTP server benchmark target", argc, argv);
  auto port = config.port("HTTP_PORT", 0, "port to listen on; 0 = any free port");
  if (auto code = config.finish()) return *code;
  log::init({"bench-http-server", "bench", log::Level::info, {}});
  net::io_context io(1);
  http::Router router;
  add_health_routes(router, nullptr);
  http::ServerOptions options;
  options.address = "127.0.0.1";
  options.port = port;
  http::Server server(io.get_executor(), std::move(router), options);
  server.bind();
  Lifecycle lifecycle(io, std::chrono::seconds(2));
  lifecycle.spawn("http", server.run());
  return lifecycle.run();
}
