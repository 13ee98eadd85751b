// The reducer's handlers, one per kind of event (table.cpp routes to them),
// and the helpers they share. Internal to the machine.
#pragma once

#include <string>
#include <string_view>

#include "../catalog.hpp"
#include "../screens.hpp"
#include "../texts.hpp"
#include "table.hpp"

namespace kiebot::dialog::machine {

// Helpers (navigation.cpp).
std::string tr(const Context& ctx, const Conversation& c, std::string_view key, const Args& args = {});
Screen with_menu(const Context& ctx, const Conversation& c, std::string text);
// Answers the pressed button's query (when there is one).
void answer(Step& s, const Context& ctx, std::string toast = {});
Step stay(const Conversation& c);
// The main menu: the form and any awaited input dropped. `fresh`: a new
// message even when a button was pressed.
Step to_menu(Conversation c, const Context& ctx, std::string greeting, bool fresh = false);
// A button of a finished, replaced or unknown form or menu.
Step expired(const Conversation& c, const Context& ctx);
// The user record as accounts answered it (Answered::data).
bool is_admin(const nlohmann::json& user);
bool is_owner(const nlohmann::json& user);

// Commands (navigation.cpp).
Step on_start(const Conversation&, const Event&, const Context&);
Step on_help(const Conversation&, const Event&, const Context&);
Step on_balance_command(const Conversation&, const Event&, const Context&);
Step on_status(const Conversation&, const Event&, const Context&);
Step on_history_command(const Conversation&, const Event&, const Context&);
Step on_language_command(const Conversation&, const Event&, const Context&);
Step on_admin_command(const Conversation&, const Event&, const Context&);
Step on_cancel(const Conversation&, const Event&, const Context&);
Step on_unknown_command(const Conversation&, const Event&, const Context&);
// Messages and presses anywhere (navigation.cpp).
Step on_text_elsewhere(const Conversation&, const Event&, const Context&);
Step on_file_elsewhere(const Conversation&, const Event&, const Context&);
Step on_other(const Conversation&, const Event&, const Context&);
Step on_stale(const Conversation&, const Event&, const Context&);
Step on_retry(const Conversation&, const Event&, const Context&);
Step on_menu(const Conversation&, const Event&, const Context&);
Step on_nop(const Conversation&, const Event&, const Context&);
Step on_category(const Conversation&, const Event&, const Context&);
Step on_about(const Conversation&, const Event&, const Context&);
Step on_language(const Conversation&, const Event&, const Context&);
Step on_help_press(const Conversation&, const Event&, const Context&);
Step on_page(const Conversation&, const Event&, const Context&);
Step on_ask_press(const Conversation&, const Event&, const Context&);  // bal, free, ref, hist, gift, rep, adm
Step on_listed(const Conversation&, const Event&, const Context&);     // answered history / running

// The form (form.cpp).
Step on_model(const Conversation&, const Event&, const Context&);
Step on_form_press(const Conversation&, const Event&, const Context&);  // opt, tog, go, edit, no, ok
Step on_prompt_text(const Conversation&, const Event&, const Context&);
Step on_number_text(const Conversation&, const Event&, const Context&);  // form_number.cpp
Step on_form_text(const Conversation&, const Event&, const Context&);   // params and confirm: use the buttons
Step on_file_text(const Conversation&, const Event&, const Context&);  // a text where a photo is awaited
Step on_file(const Conversation&, const Event&, const Context&);
Step on_file_uploaded(const Conversation&, const Event&, const Context&);
Step on_confirm_user(const Conversation&, const Event&, const Context&);
Step on_repeat_job(const Conversation&, const Event&, const Context&);
Step on_submitted(const Conversation&, const Event&, const Context&);

// Money (money.cpp).
Step on_user_screen(const Conversation&, const Event&, const Context&);  // answered balance, free, referral
Step on_top_up(const Conversation&, const Event&, const Context&);
Step on_pay(const Conversation&, const Event&, const Context&);
Step on_pay_custom(const Conversation&, const Event&, const Context&);
Step on_amount_text(const Conversation&, const Event&, const Context&);
Step on_gift(const Conversation&, const Event&, const Context&);
Step on_pre_checkout(const Conversation&, const Event&, const Context&);
Step on_payment(const Conversation&, const Event&, const Context&);
Step on_refund(const Conversation&, const Event&, const Context&);
Step on_money(const Conversation&, const Event&, const Context&);
Step on_chat_lang(const Conversation&, const Event&, const Context&);

// Admins (admin.cpp).
Step on_admin_user(const Conversation&, const Event&, const Context&);    // answered admin_menu
Step on_admin_action(const Conversation&, const Event&, const Context&);  // answered admin_action
Step on_admin_text(const Conversation&, const Event&, const Context&);    // a typed admin input
Step on_admin_checked(const Conversation&, const Event&, const Context&); // answered admin_text
Step on_admin_answer(const Conversation&, const Event&, const Context&);  // answered stats, lookup, set_admin, kie_credits
Step on_refunded(const Conversation&, const Event&, const Context&);

}  // namespace kiebot::dialog::machine
