// The conversation as a pure function: (state, event) -> (state, effects).
// It reads no clock, socket or Redis: time, randomness and who is talking
// come in the Context, what it needs from outside goes out as an Ask and
// comes back as an event. Tested without I/O (tests/unit/dialog_machine_test.cpp).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "effects.hpp"
#include "events.hpp"
#include "state.hpp"

namespace kiebot::catalog {
class Catalog;
}

namespace kiebot::dialog {

using catalog::Catalog;
class Screens;
class Texts;

// The configured rules the conversation follows.
struct Rules {
  std::string bot_username;  // for referral links
  std::int64_t stars_per_100_rub = 160;
  std::vector<std::int64_t> top_up_presets = {5'000, 10'000, 15'000};
  std::int64_t top_up_min = 5'000;
  std::int64_t top_up_max = 5'000'000;
  std::int64_t referral_bonus = 10;
  std::int64_t max_running = 5;
};

struct Context {
  const Catalog& catalog;
  const Texts& texts;
  const Screens& screens;
  const Rules& rules;
  std::int64_t user_id = 0;
  std::int64_t chat_id = 0;
  std::int64_t update_id = 0;
  std::int64_t message_id = 0;  // a message's own id (a description: the result answers it)
  std::string first_name;  // as Telegram sent it
  bool pressed = false;    // the event came with a button press (there is a query to answer)
  std::string nonce;       // 8 hex digits of randomness, for a new form
  std::int64_t now_ms = 0;
};

struct Step {
  Conversation next;
  std::vector<Effect> effects;
};

Step reduce(const Conversation& state, const Event& event, const Context& ctx);

// The notices a money operation's outcome gives (the reducer's for this
// chat, the money queue's for operations retried later).
std::vector<Effect> money_notice(const MoneyOp& op, std::optional<int> status, const nlohmann::json& body,
                                 const Texts& texts, const Screens& screens, const Rules& rules);

}  // namespace kiebot::dialog
