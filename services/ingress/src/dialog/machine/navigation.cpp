// The reducer's entry, its helpers, commands and the navigation buttons.
#include "handlers.hpp"

#include "../input.hpp"

namespace kiebot::dialog {

using nlohmann::json;

namespace {

const Press& press_of(const Event& e) {
  return std::get<PressIn>(e).press;
}

bool known_category(const Context& ctx, const std::string& category) {
  for (const auto& c : ctx.catalog.categories()) {
    if (c == category) return true;
  }
  return false;
}

}  // namespace

namespace machine {

std::string tr(const Context& ctx, const Conversation& c, std::string_view key, const Args& args) {
  return ctx.texts.format(c.lang, key, args);
}

Screen with_menu(const Context& ctx, const Conversation& c, std::string text) {
  return ctx.screens.text_with_menu(std::move(text), c.lang);
}

void answer(Step& s, const Context& ctx, std::string toast) {
  if (ctx.pressed) s.effects.push_back(Answer{std::move(toast)});
}

Step stay(const Conversation& c) {
  return Step{c, {}};
}

Step to_menu(Conversation c, const Context& ctx, std::string greeting, bool fresh) {
  c.form.reset();
  c.screen = ScreenId::menu;
  auto screen = ctx.screens.main_menu(c.lang, greeting);
  Step s{std::move(c), {}};
  if (fresh) {
    s.effects.push_back(Send{std::move(screen)});
  } else {
    s.effects.push_back(Show{std::move(screen)});
  }
  return s;
}

Step expired(const Conversation& c, const Context& ctx) {
  auto said = tr(ctx, c, "expired");
  Step s{c, {Count{"expired_callback"}}};
  answer(s, ctx, said);
  auto menu = to_menu(c, ctx, said, true);
  s.next = std::move(menu.next);
  for (auto& e : menu.effects) s.effects.push_back(std::move(e));
  return s;
}

bool is_admin(const json& user) {
  return user.is_object() && user.value("is_admin", false);
}

bool is_owner(const json& user) {
  return user.is_object() && user.value("is_owner", false);
}

Step on_start(const Conversation& c, const Event& e, const Context& ctx) {
  const auto& command = std::get<CommandIn>(e);
  Step s{c, {}};
  if (command.payload.starts_with("ref_")) {
    auto referrer = parse_positive_id(command.payload.substr(4)).value_or(0);
    if (referrer > 0 && referrer != ctx.user_id) {
      // Free generations for both, kept for retries like money when accounts is away.
      MoneyOp op;
      op.key = "referral:" + std::to_string(ctx.user_id);
      op.kind = "referral";
      op.user_id = UserId(ctx.user_id);
      op.reason = "referral";
      op.ref = std::to_string(referrer);
      op.notify_chat = ChatId(ctx.chat_id);
      op.lang = c.lang;
      op.name = shown_name(ctx.first_name.empty() ? std::string("?") : ctx.first_name);
      s.effects.push_back(Money{std::move(op)});
    }
  }
  auto menu = to_menu(c, ctx, tr(ctx, c, "menu.greeting", {{"name", shown_name(ctx.first_name)}}), true);
  s.next = std::move(menu.next);
  for (auto& effect : menu.effects) s.effects.push_back(std::move(effect));
  return s;
}

Step on_help(const Conversation& c, const Event&, const Context& ctx) {
  Step s{c, {Send{ctx.screens.help(c.lang)}}};
  s.next.screen = ScreenId::help;
  return s;
}

Step on_balance_command(const Conversation& c, const Event&, const Context& ctx) {
  return Step{c, {Ask{Need::balance, ctx.user_id}}};
}

Step on_status(const Conversation& c, const Event&, const Context& ctx) {
  return Step{c, {Ask{Need::running, ctx.user_id}}};
}

Step on_history_command(const Conversation& c, const Event&, const Context& ctx) {
  return Step{c, {Ask{Need::history, ctx.user_id}}};
}

Step on_language_command(const Conversation& c, const Event&, const Context& ctx) {
  Step s{c, {Send{ctx.screens.language(c.lang)}}};
  s.next.screen = ScreenId::language;
  return s;
}

Step on_admin_command(const Conversation& c, const Event&, const Context& ctx) {
  return Step{c, {Ask{Need::admin_menu, ctx.user_id}}};
}

Step on_cancel(const Conversation& c, const Event&, const Context& ctx) {
  bool busy = c.form.has_value() || c.screen == ScreenId::top_up_amount || c.screen == ScreenId::admin_user ||
              c.screen == ScreenId::admin_grant || c.screen == ScreenId::admin_limit ||
              c.screen == ScreenId::admin_refund;
  return to_menu(c, ctx, tr(ctx, c, busy ? "cancel.done" : "cancel.nothing"));
}

Step on_unknown_command(const Conversation& c, const Event& e, const Context& ctx) {
  if (const auto* page = page_for_command(std::get<CommandIn>(e).name)) {
    Step s{c, {Send{ctx.screens.page(c.lang, *page)}}};
    s.next.screen = ScreenId::page;
    return s;
  }
  return to_menu(c, ctx, tr(ctx, c, "unknown.command"));
}

Step on_text_elsewhere(const Conversation& c, const Event&, const Context& ctx) {
  return to_menu(c, ctx, tr(ctx, c, "unknown.text"));
}

Step on_file_elsewhere(const Conversation& c, const Event&, const Context& ctx) {
  return to_menu(c, ctx, tr(ctx, c, "unknown.photo"));
}

Step on_other(const Conversation& c, const Event&, const Context& ctx) {
  return Step{c, {Send{with_menu(ctx, c, tr(ctx, c, "unknown.message"))}}};
}

Step on_stale(const Conversation& c, const Event&, const Context& ctx) {
  return expired(c, ctx);
}

Step on_retry(const Conversation& c, const Event& e, const Context& ctx) {
  Step s{c, {}};
  answer(s, ctx);
  s.effects.push_back(Ask{Need::repeat, ctx.user_id, std::get<RetryIn>(e).job_id});
  return s;
}

Step on_menu(const Conversation& c, const Event&, const Context& ctx) {
  Step s{c, {}};
  answer(s, ctx);
  auto menu = to_menu(c, ctx, "");
  s.next = std::move(menu.next);
  for (auto& effect : menu.effects) s.effects.push_back(std::move(effect));
  return s;
}

Step on_nop(const Conversation& c, const Event&, const Context& ctx) {
  Step s{c, {}};
  answer(s, ctx);
  return s;
}

Step on_category(const Conversation& c, const Event& e, const Context& ctx) {
  const auto& category = press_of(e).arg(0);
  if (!known_category(ctx, category)) return expired(c, ctx);
  Step s{c, {}};
  answer(s, ctx);
  s.effects.push_back(Show{ctx.screens.category(c.lang, category)});
  s.next.screen = ScreenId::category;
  return s;
}

Step on_about(const Conversation& c, const Event& e, const Context& ctx) {
  const auto& category = press_of(e).arg(0);
  if (!known_category(ctx, category)) return expired(c, ctx);
  Step s{c, {}};
  answer(s, ctx);
  s.effects.push_back(Show{ctx.screens.about(c.lang, category)});
  s.next.screen = ScreenId::about;
  return s;
}

Step on_language(const Conversation& c, const Event& e, const Context& ctx) {
  const auto& lang = press_of(e).arg(0);
  Step s{c, {}};
  answer(s, ctx);
  if (lang.empty()) {
    s.effects.push_back(Show{ctx.screens.language(c.lang)});
    s.next.screen = ScreenId::language;
    return s;
  }
  auto chosen = c;
  chosen.lang = lang;
  s.effects.push_back(SetLanguage{lang});
  auto menu = to_menu(chosen, ctx, ctx.texts.format(lang, "language.set", {}));
  s.next = std::move(menu.next);
  for (auto& effect : menu.effects) s.effects.push_back(std::move(effect));
  return s;
}

Step on_help_press(const Conversation& c, const Event&, const Context& ctx) {
  Step s{c, {}};
  answer(s, ctx);
  s.effects.push_back(Show{ctx.screens.help(c.lang)});
  s.next.screen = ScreenId::help;
  return s;
}

Step on_page(const Conversation& c, const Event& e, const Context& ctx) {
  const auto* page = page_named(press_of(e).arg(0));
  if (page == nullptr) return expired(c, ctx);  // a page this release no longer has
  Step s{c, {}};
  answer(s, ctx);
  s.effects.push_back(Show{ctx.screens.page(c.lang, *page)});
  s.next.screen = ScreenId::page;
  return s;
}

Step on_ask_press(const Conversation& c, const Event& e, const Context& ctx) {
  const auto& p = press_of(e);
  Step s{c, {}};
  answer(s, ctx);
  Ask ask{Need::balance, ctx.user_id};
  switch (p.verb) {
    case Verb::free: ask.need = Need::free; break;
    case Verb::referral: ask.need = Need::referral; break;
    case Verb::history: ask.need = Need::history; break;
    case Verb::gift: ask.need = Need::gift; break;
    case Verb::repeat: ask = {Need::repeat, ctx.user_id, p.arg(0)}; break;
    case Verb::admin: ask = {Need::admin_action, ctx.user_id, p.arg(0)}; break;
    default: break;
  }
  s.effects.push_back(std::move(ask));
  return s;
}

Step on_listed(const Conversation& c, const Event& e, const Context& ctx) {
  const auto& a = std::get<Answered>(e);
  Step s{c, {}};
  if (a.need == Need::history) {
    s.effects.push_back(Show{ctx.screens.history(c.lang, a.jobs)});
    s.next.screen = ScreenId::history;
  } else {
    s.effects.push_back(Show{ctx.screens.running(c.lang, a.jobs)});
    s.next.screen = ScreenId::running;
  }
  return s;
}

}  // namespace machine

Step reduce(const Conversation& state, const Event& event, const Context& ctx) {
  const auto* rule = find_rule(state.screen, event_kind(event));
  if (rule == nullptr) return machine::stay(state);
  return rule->step(state, event, ctx);
}

}  // namespace kiebot::dialog
