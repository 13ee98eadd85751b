// sendPhoto, sendVideo, sendAudio, sendDocument and sendMediaGroup.
#pragma once

#include <memory>
#include <string>

#include "kiebot/http/http.hpp"
#include "kiebot/runtime/net.hpp"
#include "params.hpp"
#include "state.hpp"

namespace kiebot::tg {

bool is_media_method(const std::string& method);
net::awaitable<http::Response> send_media(std::shared_ptr<Emulator> em, std::string token, std::string method,
                                          Params params);

}  // namespace kiebot::tg
