// The sandbox: a web chat with the bot served by the emulator at `/`, the
// long poll that tells the page something changed, and the panel that shows
// what happens behind the chat (lease, jobs, balance, emulator counters).
#pragma once

#include <memory>

namespace kiebot::http {
class Router;
}

namespace kiebot::tg {

struct Emulator;

void add_sandbox_routes(http::Router& router, std::shared_ptr<Emulator> em);

}  // namespace kiebot::tg
