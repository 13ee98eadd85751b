// The conversation's state machine without I/O, for its tests: the catalog,
// texts and screens of this release, a conversation at any screen, one sample
// of every kind of event, and the checks every rendered screen must pass.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "dialog/catalog.hpp"
#include "dialog/machine/reducer.hpp"
#include "dialog/machine/table.hpp"
#include "dialog/screens.hpp"
#include "dialog/texts.hpp"

namespace kiebot::dialog::test {

using nlohmann::json;

inline constexpr std::int64_t kUser = 42;
inline constexpr const char* kNonce = "0123abcd";

struct Machine {
  const Catalog& catalog = builtin_catalog();
  const Texts& texts = builtin_texts();
  Screens screens{catalog, texts};
  Rules rules;

  Machine() { rules.bot_username = "kiebot_test_bot"; }

  Context ctx(bool pressed = false) const {
    Context c{catalog, texts, screens, rules};
    c.user_id = kUser;
    c.chat_id = kUser;
    c.update_id = 1000;
    c.message_id = 77;
    c.first_name = "Ann";
    c.pressed = pressed;
    c.nonce = "feedbeef";
    c.now_ms = 1'700'000'000'000;
    return c;
  }
};

inline json user(bool admin = false, bool owner = false, std::int64_t balance = 100'000) {
  json u = {{"user_id", kUser},   {"exists", true},
            {"balance", balance}, {"held", 0},
            {"language", "en"},   {"free", {{"remaining", 3}, {"daily_limit", 5}, {"bank", 0}}},
            {"referrals", 2},     {"is_admin", admin || owner},
            {"is_owner", owner}};
  if (admin) u["admin"] = {{"limit", 100'000}, {"spent", 0}, {"remaining", 100'000}};
  return u;
}

inline Conversation at(ScreenId screen, bool with_form) {
  Conversation c;
  c.screen = screen;
  c.lang = "en";
  if (with_form || in_form(screen)) {
    // The photo step with a model that takes one; the others with a text model.
    const char* model = screen == ScreenId::form_file ? "ne" : "zi";
    c.form = Form{kNonce, model, builtin_catalog().by_code(model)->default_values(), 0};
    if (screen == ScreenId::form_confirm || screen == ScreenId::form_file) c.form->values["prompt"] = "a harbour";
  }
  return c;
}

// What a user sends: commands (the pages' too), texts, a photo, other
// messages, stale and retry buttons.
inline void user_samples(std::vector<Event>& out) {
  for (const char* cmd :
       {"/start", "/help", "/balance", "/status", "/history", "/language", "/admin", "/cancel", "/nope"}) {
    out.push_back(CommandIn{cmd, ""});
  }
  for (const auto& p : pages()) {
    if (!p.command.empty()) out.push_back(CommandIn{std::string(p.command), ""});
  }
  out.push_back(CommandIn{"/start", "ref_7"});
  out.push_back(CommandIn{"/start", "ref_42"});
  for (std::string text : {"a quiet harbour", "150", "7 100", "7 charge-1"}) out.push_back(TextIn{text});
  out.push_back(TextIn{std::string(2000, 'x')});
  out.push_back(FileIn{"file-1"});
  out.push_back(OtherIn{});
  out.push_back(StaleIn{});
  out.push_back(RetryIn{"dlg-42-0123abcd"});
}

// The arguments each verb is pressed with: valid ones and some that are not.
inline std::vector<std::vector<std::string>> press_variants(Verb verb) {
  std::vector<std::vector<std::string>> variants;
  switch (verb) {
    case Verb::category:
    case Verb::about:
      variants = {{"text_to_image"}, {"nope"}};
      break;
    case Verb::model:
      variants = {{"zi"}, {"kt"}, {"nope"}};
      break;
    case Verb::pay:
      variants = {{"5000"}, {"123"}};
      break;
    case Verb::repeat:
      variants = {{"dlg-42-0123abcd"}};
      break;
    case Verb::page:
      variants = {{"nope"}};
      for (const auto& p : pages()) variants.push_back({std::string(p.name)});
      break;
    case Verb::language:
      variants = {{}, {"ru"}};
      break;
    case Verb::admin:
      variants = {{"stats"}, {"user"}, {"limit"}, {"kie"}, {"nope"}};
      break;
    case Verb::option:
      variants = {{kNonce, "1", "2"}, {kNonce, "9", "0"}, {"ffffffff", "1", "2"}};
      break;
    case Verb::toggle:
      variants = {{kNonce, "1"}, {"ffffffff", "0"}};
      break;
    case Verb::next:
    case Verb::edit:
    case Verb::cancel:
    case Verb::confirm:
      variants = {{kNonce}, {"ffffffff"}};
      break;
    default:
      variants = {{}};
  }
  return variants;
}

// Pre-checkout queries, payments and refunds, ours and not.
inline void payment_samples(std::vector<Event>& out) {
  json paid = {{"invoice_payload", "topup:42:5000:80"}, {"telegram_payment_charge_id", "ch-1"}};
  out.push_back(PreCheckoutIn{
      {{"id", "q1"}, {"invoice_payload", "topup:42:5000:80"}, {"currency", "XTR"}, {"total_amount", 80}}});
  out.push_back(PreCheckoutIn{
      {{"id", "q2"}, {"invoice_payload", "topup:43:5000:80"}, {"currency", "XTR"}, {"total_amount", 80}}});
  out.push_back(PaymentIn{paid});
  out.push_back(PaymentIn{{{"invoice_payload", "nonsense"}}});
  out.push_back(RefundIn{paid});
  out.push_back(RefundIn{json::object()});
}

// What the interpreter answers the reducer with: every question, as a user and as an admin.
inline void answer_samples(std::vector<Event>& out) {
  for (int n = 0; n <= static_cast<int>(Need::chat_lang); ++n) {
    auto need = static_cast<Need>(n);
    for (bool admin : {false, true}) {
      Answered a{need, kUser, "stats", 5'000, 200, user(admin, admin)};
      if (need == Need::history || need == Need::running || need == Need::repeat) {
        a.jobs.push_back(
            JobRecord{"dlg-42-0123abcd", "z-image", {{"prompt", "x"}, {"aspect_ratio", "1:1"}}, "succeeded", 63, 1, 2});
      }
      if (need == Need::gift) a.status = admin ? 409 : 200;
      if (need == Need::kie_credits) a.data = admin ? json(1234) : json();
      if (need == Need::chat_lang) a.data = admin ? json("ru") : json();
      if (need == Need::admin_text) a.arg = admin ? "7 100" : "x";
      out.push_back(std::move(a));
    }
  }
}

// Money operations answered now, later, refused.
inline void money_samples(std::vector<Event>& out) {
  MoneyOp op{"ch-1", "credit", UserId(kUser), Kopecks(5'000), "stars", "ch-1", std::nullopt, ChatId(kUser), "en"};
  out.push_back(MoneyAnswered{op, std::nullopt, json::object()});
  out.push_back(MoneyAnswered{op, 200, {{"balance", 5'000}}});
  out.push_back(MoneyAnswered{op, 200, {{"balance", 5'000}, {"replayed", true}}});
  out.push_back(MoneyAnswered{op, 409, {{"error", "conflict"}}});
  out.push_back(MoneyAnswered{op, 200, {{"balance", 5'000}}, true});
  MoneyOp grant{"grant:42:1",  "credit",      UserId(7), Kopecks(10'000), "admin_grant", "admin:42",
                UserId(kUser), ChatId(kUser), "en"};
  out.push_back(MoneyAnswered{grant, std::nullopt, json::object()});
  out.push_back(MoneyAnswered{grant, 409, {{"error", "over_admin_limit"}, {"remaining", 5}}});
  MoneyOp referral{"referral:42", "referral",   UserId(kUser), Kopecks(0), "referral",
                   "7",           std::nullopt, ChatId(kUser), "en",       "Ann"};
  out.push_back(MoneyAnswered{referral, 200, {{"rewarded", true}}});
  MoneyOp refund{"refund:ch-1", "debit",       UserId(kUser), Kopecks(5'000), "stars_refund", "ch-1",
                 std::nullopt,  ChatId(kUser), "en"};
  out.push_back(MoneyAnswered{refund, 200, {{"balance", 0}}});
}

// Uploads, submissions and refunds as they ended.
inline void outcome_samples(std::vector<Event>& out) {
  out.push_back(FileUploaded{"https://tempfile.example/a.jpg"});
  out.push_back(FileUploaded{""});
  for (auto r : {Submitted::Result::started, Submitted::Result::waiting, Submitted::Result::not_queued,
                 Submitted::Result::too_many, Submitted::Result::duplicate, Submitted::Result::insufficient,
                 Submitted::Result::file_gone}) {
    out.push_back(Submitted{r, 500, 100});
  }
  for (auto r : {Refunded::Result::unknown_charge, Refunded::Result::failed, Refunded::Result::done}) {
    out.push_back(Refunded{r, "CHARGE_NOT_FOUND", 7, 5'000});
  }
}

// One sample of every kind of event, and a few variants of the kinds whose
// payload changes the outcome.
inline std::vector<Event> samples() {
  std::vector<Event> out;
  user_samples(out);
  for (const auto& d : verbs()) {
    for (auto& args : press_variants(d.verb)) out.push_back(PressIn{Press{d.verb, args}});
  }
  payment_samples(out);
  answer_samples(out);
  money_samples(out);
  outcome_samples(out);
  return out;
}

inline bool from_user(const Event& e) {
  return std::holds_alternative<CommandIn>(e) || std::holds_alternative<TextIn>(e) ||
         std::holds_alternative<FileIn>(e) || std::holds_alternative<OtherIn>(e) ||
         std::holds_alternative<PressIn>(e) || std::holds_alternative<StaleIn>(e) || std::holds_alternative<RetryIn>(e);
}

inline bool pressed(const Event& e) {
  return std::holds_alternative<PressIn>(e) || std::holds_alternative<StaleIn>(e) || std::holds_alternative<RetryIn>(e);
}

// Every message within Telegram's limits, with no key or placeholder left
// unrendered, and every button one this release decodes.
inline void check_screen(const Screen& s, const std::string& where) {
  EXPECT_FALSE(s.text.empty()) << where;
  EXPECT_LE(utf8_length(s.text), 4096u) << where;
  EXPECT_EQ(s.text.find("{"), std::string::npos) << where << ": " << s.text;
  if (!s.markup.is_object()) return;
  for (const auto& row : s.markup["inline_keyboard"]) {
    for (const auto& b : row) {
      auto data = b.value("callback_data", "");
      EXPECT_TRUE(decode(data)) << where << ": " << data;
    }
  }
}

}  // namespace kiebot::dialog::test
