// getUpdates and webhooks.
#pragma once

#include <memory>
#include <string>

#include "kiebot/http/http.hpp"
#include "params.hpp"
#include "state.hpp"

namespace kiebot::tg {

http::Response webhook_info(Emulator& em, Bot& bot);
http::Response set_webhook(std::shared_ptr<Emulator> em, Bot& bot, const Params& p);
http::Response delete_webhook(Bot& bot, const Params& p);
net::awaitable<http::Response> get_updates(std::shared_ptr<Emulator> em, std::string token, Params p);

}  // namespace kiebot::tg
