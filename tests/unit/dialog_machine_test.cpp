// The conversation's state machine without I/O: every screen with every kind
// of event stays within the table's declared targets, presses are answered
// once, screens render within Telegram's limits; flows, stale buttons and
// the stored state's versions.
#include <gtest/gtest.h>

#include <set>

#include "dialog/catalog.hpp"
#include "dialog/machine/reducer.hpp"
#include "dialog/machine/table.hpp"
#include "dialog/screens.hpp"
#include "dialog/texts.hpp"

using namespace kiebot::dialog;
using kiebot::ChatId;
using kiebot::Kopecks;
using kiebot::UserId;
using nlohmann::json;

namespace {

constexpr std::int64_t kUser = 42;
constexpr const char* kNonce = "0123abcd";

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

json user(bool admin = false, bool owner = false, std::int64_t balance = 100'000) {
  json u = {{"user_id", kUser}, {"exists", true}, {"balance", balance}, {"held", 0}, {"language", "en"},
            {"free", {{"remaining", 3}, {"daily_limit", 5}, {"bank", 0}}}, {"referrals", 2},
            {"is_admin", admin || owner}, {"is_owner", owner}};
  if (admin) u["admin"] = {{"limit", 100'000}, {"spent", 0}, {"remaining", 100'000}};
  return u;
}

Conversation at(ScreenId screen, bool with_form) {
  Conversation c;
  c.screen = screen;
  c.lang = "en";
  if (with_form || in_form(screen)) {
    // The photo step with a model that takes one; the others with a text model.
    const char* model = screen == ScreenId::form_photo ? "ne" : "zi";
    c.form = Form{kNonce, model, builtin_catalog().by_code(model)->default_values(), 0};
    if (screen == ScreenId::form_confirm || screen == ScreenId::form_photo) c.form->values["prompt"] = "a harbour";
  }
  return c;
}

// One sample of every kind of event, and a few variants of the kinds whose
// payload changes the outcome.
std::vector<Event> samples() {
  std::vector<Event> out;
  for (const char* cmd : {"/start", "/help", "/balance", "/status", "/history", "/language", "/admin", "/cancel", "/nope"}) {
    out.push_back(CommandIn{cmd, ""});
  }
  out.push_back(CommandIn{"/start", "ref_7"});
  out.push_back(CommandIn{"/start", "ref_42"});
  for (std::string text : {"a quiet harbour", "150", "7 100", "7 charge-1"}) out.push_back(TextIn{text});
  out.push_back(TextIn{std::string(2000, 'x')});
  out.push_back(PhotoIn{"file-1"});
  out.push_back(OtherIn{});
  out.push_back(StaleIn{});
  out.push_back(RetryIn{"dlg-42-0123abcd"});
  for (const auto& d : verbs()) {
    std::vector<std::vector<std::string>> variants;
    switch (d.verb) {
      case Verb::category:
      case Verb::about: variants = {{"text_to_image"}, {"nope"}}; break;
      case Verb::model: variants = {{"zi"}, {"kt"}, {"nope"}}; break;
      case Verb::pay: variants = {{"5000"}, {"123"}}; break;
      case Verb::repeat: variants = {{"dlg-42-0123abcd"}}; break;
      case Verb::language: variants = {{}, {"ru"}}; break;
      case Verb::admin: variants = {{"stats"}, {"user"}, {"limit"}, {"kie"}, {"nope"}}; break;
      case Verb::option: variants = {{kNonce, "1", "2"}, {kNonce, "9", "0"}, {"ffffffff", "1", "2"}}; break;
      case Verb::toggle: variants = {{kNonce, "1"}, {"ffffffff", "0"}}; break;
      case Verb::next:
      case Verb::edit:
      case Verb::cancel:
      case Verb::confirm: variants = {{kNonce}, {"ffffffff"}}; break;
      default: variants = {{}};
    }
    for (auto& args : variants) out.push_back(PressIn{Press{d.verb, args}});
  }
  json paid = {{"invoice_payload", "topup:42:5000:80"}, {"telegram_payment_charge_id", "ch-1"}};
  out.push_back(PreCheckoutIn{{{"id", "q1"}, {"invoice_payload", "topup:42:5000:80"}, {"currency", "XTR"}, {"total_amount", 80}}});
  out.push_back(PreCheckoutIn{{{"id", "q2"}, {"invoice_payload", "topup:43:5000:80"}, {"currency", "XTR"}, {"total_amount", 80}}});
  out.push_back(PaymentIn{paid});
  out.push_back(PaymentIn{{{"invoice_payload", "nonsense"}}});
  out.push_back(RefundIn{paid});
  out.push_back(RefundIn{json::object()});
  for (int n = 0; n <= static_cast<int>(Need::chat_lang); ++n) {
    auto need = static_cast<Need>(n);
    for (bool admin : {false, true}) {
      Answered a{need, kUser, "stats", 5'000, 200, user(admin, admin)};
      if (need == Need::history || need == Need::running || need == Need::repeat) {
        a.jobs.push_back(JobRecord{"dlg-42-0123abcd", "z-image", {{"prompt", "x"}, {"aspect_ratio", "1:1"}}, "succeeded", 63, 1, 2});
      }
      if (need == Need::gift) a.status = admin ? 409 : 200;
      if (need == Need::kie_credits) a.data = admin ? json(1234) : json();
      if (need == Need::chat_lang) a.data = admin ? json("ru") : json();
      if (need == Need::admin_text) a.arg = admin ? "7 100" : "x";
      out.push_back(std::move(a));
    }
  }
  MoneyOp op{"ch-1", "credit", UserId(kUser), Kopecks(5'000), "stars", "ch-1", std::nullopt, ChatId(kUser), "en"};
  out.push_back(MoneyAnswered{op, std::nullopt, json::object()});
  out.push_back(MoneyAnswered{op, 200, {{"balance", 5'000}}});
  out.push_back(MoneyAnswered{op, 200, {{"balance", 5'000}, {"replayed", true}}});
  out.push_back(MoneyAnswered{op, 409, {{"error", "conflict"}}});
  out.push_back(MoneyAnswered{op, 200, {{"balance", 5'000}}, true});
  MoneyOp grant{"grant:42:1", "credit", UserId(7), Kopecks(10'000), "admin_grant", "admin:42", UserId(kUser), ChatId(kUser), "en"};
  out.push_back(MoneyAnswered{grant, std::nullopt, json::object()});
  out.push_back(MoneyAnswered{grant, 409, {{"error", "over_admin_limit"}, {"remaining", 5}}});
  MoneyOp referral{"referral:42", "referral", UserId(kUser), Kopecks(0), "referral", "7", std::nullopt, ChatId(kUser), "en", "Ann"};
  out.push_back(MoneyAnswered{referral, 200, {{"rewarded", true}}});
  MoneyOp refund{"refund:ch-1", "debit", UserId(kUser), Kopecks(5'000), "stars_refund", "ch-1", std::nullopt, ChatId(kUser), "en"};
  out.push_back(MoneyAnswered{refund, 200, {{"balance", 0}}});
  out.push_back(PhotoUploaded{"https://tempfile.example/a.jpg"});
  out.push_back(PhotoUploaded{""});
  for (auto r : {Submitted::Result::started, Submitted::Result::waiting, Submitted::Result::not_queued,
                 Submitted::Result::too_many, Submitted::Result::duplicate, Submitted::Result::insufficient}) {
    out.push_back(Submitted{r, 500, 100});
  }
  for (auto r : {Refunded::Result::unknown_charge, Refunded::Result::failed, Refunded::Result::done}) {
    out.push_back(Refunded{r, "CHARGE_NOT_FOUND", 7, 5'000});
  }
  return out;
}

bool from_user(const Event& e) {
  return std::holds_alternative<CommandIn>(e) || std::holds_alternative<TextIn>(e) ||
         std::holds_alternative<PhotoIn>(e) || std::holds_alternative<OtherIn>(e) ||
         std::holds_alternative<PressIn>(e) || std::holds_alternative<StaleIn>(e) || std::holds_alternative<RetryIn>(e);
}

bool pressed(const Event& e) {
  return std::holds_alternative<PressIn>(e) || std::holds_alternative<StaleIn>(e) || std::holds_alternative<RetryIn>(e);
}

// Every message within Telegram's limits, with no key or placeholder left
// unrendered, and every button one this release decodes.
void check_screen(const Screen& s, const std::string& where) {
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

}  // namespace

TEST(DialogMachine, TheTableDeclaresEveryScreenOnceAndInOrder) {
  ASSERT_EQ(screens().size(), kScreenCount);
  for (std::size_t i = 0; i < kScreenCount; ++i) {
    EXPECT_EQ(static_cast<std::size_t>(screens()[i].id), i);
    EXPECT_EQ(screen_named(name(screens()[i].id)), screens()[i].id);
  }
  // Every verb is routed by a global rule.
  for (const auto& d : verbs()) EXPECT_NE(find_rule(ScreenId::menu, "press " + std::string(d.wire)), nullptr) << d.wire;
}

TEST(DialogMachine, EveryScreenWithEveryEventStaysWithinTheTable) {
  Machine m;
  auto events = samples();
  std::size_t pairs = 0;
  for (const auto& decl : screens()) {
    for (bool with_form : {false, true}) {
      auto state = at(decl.id, with_form);
      for (const auto& event : events) {
        auto kind = event_kind(event);
        auto where = std::string(name(decl.id)) + (with_form ? "+form" : "") + " / " + kind;
        const auto* rule = find_rule(decl.id, kind);
        ASSERT_NE(rule, nullptr) << where << " has no rule";
        Step step;
        ASSERT_NO_THROW(step = reduce(state, event, m.ctx(pressed(event)))) << where;
        ++pairs;
        auto to = step.next.screen;
        bool declared = to == decl.id || std::find(rule->to.begin(), rule->to.end(), to) != rule->to.end();
        EXPECT_TRUE(declared) << where << " went to " << name(to) << ", which the table does not declare";
        EXPECT_TRUE(!in_form(to) || step.next.form.has_value()) << where << ": a form screen without a form";
        EXPECT_EQ(step.next.lang.empty(), false) << where;
        EXPECT_TRUE(!from_user(event) || !step.effects.empty()) << where << ": the user hears nothing";
        std::size_t answers = 0;
        for (const auto& effect : step.effects) {
          if (std::holds_alternative<Answer>(effect)) ++answers;
          if (const auto* s = std::get_if<Send>(&effect)) check_screen(s->screen, where);
          if (const auto* s = std::get_if<Show>(&effect)) check_screen(s->screen, where);
          if (const auto* s = std::get_if<SendTo>(&effect)) check_screen(s->screen, where);
        }
        EXPECT_EQ(answers, pressed(event) ? 1u : 0u) << where << ": a press is answered once, nothing else";
      }
    }
  }
  EXPECT_GT(pairs, 4000u);
}

TEST(DialogMachine, AGenerationFromModelToSubmit) {
  Machine m;
  Conversation c;
  c.lang = "en";
  auto s = reduce(c, PressIn{Press{Verb::model, {"zi"}}}, m.ctx(true));
  ASSERT_EQ(s.next.screen, ScreenId::form_params);
  ASSERT_TRUE(s.next.form);
  EXPECT_EQ(s.next.form->nonce, "feedbeef");
  s = reduce(s.next, PressIn{Press{Verb::option, {"feedbeef", "1", "3"}}}, m.ctx(true));
  EXPECT_EQ(s.next.form->values["aspect_ratio"], "16:9");
  s = reduce(s.next, PressIn{Press{Verb::next, {"feedbeef"}}}, m.ctx(true));
  EXPECT_EQ(s.next.screen, ScreenId::form_prompt);
  s = reduce(s.next, TextIn{"a quiet harbour at dawn"}, m.ctx());
  EXPECT_EQ(s.next.screen, ScreenId::form_confirm);
  EXPECT_EQ(s.next.form->reply_to, 77);
  ASSERT_EQ(s.effects.size(), 1u);
  EXPECT_EQ(std::get<Ask>(s.effects[0]).need, Need::confirm);
  s = reduce(s.next, Answered{Need::confirm, kUser, "", 0, 200, user()}, m.ctx());
  ASSERT_TRUE(std::holds_alternative<Send>(s.effects.at(0)));
  EXPECT_NE(std::get<Send>(s.effects[0]).screen.text.find("a quiet harbour"), std::string::npos);
  s = reduce(s.next, PressIn{Press{Verb::confirm, {"feedbeef"}}}, m.ctx(true));
  ASSERT_EQ(s.effects.size(), 2u);
  const auto& submit = std::get<Submit>(s.effects[1]);
  EXPECT_EQ(submit.job_id, "dlg-42-feedbeef");
  EXPECT_EQ(submit.reply_to, 77);
  s = reduce(s.next, Submitted{Submitted::Result::started}, m.ctx());
  EXPECT_FALSE(s.next.form);
  EXPECT_EQ(s.next.screen, ScreenId::menu);
}

TEST(DialogMachine, AButtonOfAnotherFormIsStaleAndShowsTheMenu) {
  Machine m;
  auto c = at(ScreenId::form_confirm, true);
  auto s = reduce(c, PressIn{Press{Verb::confirm, {"ffffffff"}}}, m.ctx(true));
  EXPECT_EQ(s.next.screen, ScreenId::menu);
  EXPECT_FALSE(s.next.form);
  ASSERT_GE(s.effects.size(), 3u);
  EXPECT_EQ(std::get<Count>(s.effects[0]).what, "expired_callback");
  EXPECT_EQ(std::get<Answer>(s.effects[1]).toast, m.texts.get("en", "expired"));
  EXPECT_TRUE(std::holds_alternative<Send>(s.effects[2]));  // a new message: the old one may be far up
  // Confirming on another screen shows the confirmation again (a fresh price).
  c.screen = ScreenId::balance;
  s = reduce(c, PressIn{Press{Verb::confirm, {kNonce}}}, m.ctx(true));
  EXPECT_EQ(s.next.screen, ScreenId::form_confirm);
  EXPECT_EQ(std::get<Ask>(s.effects.back()).need, Need::confirm);
}

TEST(DialogMachine, TypedAmountsAndAdminInputFollowTheScreen) {
  Machine m;
  auto c = at(ScreenId::top_up_amount, false);
  auto s = reduce(c, TextIn{"150,50"}, m.ctx());
  ASSERT_EQ(s.effects.size(), 1u);
  EXPECT_EQ(std::get<Invoice>(s.effects[0]).payload, "topup:42:15050:241");
  s = reduce(c, TextIn{"10"}, m.ctx());
  EXPECT_EQ(s.next.screen, ScreenId::top_up_amount);  // below the minimum: asked again
  c.screen = ScreenId::admin_grant;
  s = reduce(c, TextIn{"7 100"}, m.ctx());
  const auto& op = std::get<Money>(s.effects.at(0)).op;
  EXPECT_EQ(op.key, "grant:42:1000");
  EXPECT_EQ(op.amount, Kopecks(10'000));
  EXPECT_EQ(op.admin_id, UserId(kUser));
  c.screen = ScreenId::admin_limit;
  s = reduce(c, TextIn{"7 100"}, m.ctx());
  EXPECT_EQ(std::get<Ask>(s.effects.at(0)).need, Need::admin_text);
  s = reduce(s.next, Answered{Need::admin_text, kUser, "7 100", 0, 200, user(false, false)}, m.ctx());
  EXPECT_EQ(s.next.screen, ScreenId::menu);  // not an admin (any more)
  s = reduce(c, Answered{Need::admin_text, kUser, "7 100", 0, 200, user(true, true)}, m.ctx());
  EXPECT_EQ(std::get<Ask>(s.effects.back()).need, Need::set_admin);
  EXPECT_EQ(std::get<Ask>(s.effects.back()).amount, 10'000);
}

TEST(DialogMachine, MoneyOutcomesTellTheRightChat) {
  Machine m;
  MoneyOp referral{"referral:42", "referral", UserId(kUser), Kopecks(0), "referral", "7", std::nullopt, ChatId(kUser), "en", "Ann"};
  auto notices = money_notice(referral, 200, {{"rewarded", true}}, m.texts, m.screens, m.rules);
  ASSERT_EQ(notices.size(), 3u);
  EXPECT_EQ(std::get<SendTo>(notices[1]).chat_id, kUser);
  EXPECT_EQ(std::get<Ask>(notices[2]).need, Need::chat_lang);
  EXPECT_EQ(std::get<Ask>(notices[2]).id, 7);
  EXPECT_TRUE(money_notice(referral, 200, {{"rewarded", false}}, m.texts, m.screens, m.rules).empty());
  EXPECT_TRUE(money_notice(referral, std::nullopt, json::object(), m.texts, m.screens, m.rules).empty());
  auto c = at(ScreenId::menu, false);
  auto s = reduce(c, Answered{Need::chat_lang, 7, "Ann", 0, 200, "ru"}, m.ctx());
  const auto& news = std::get<SendTo>(s.effects.at(0));
  EXPECT_EQ(news.chat_id, 7);
  EXPECT_EQ(news.screen.text, m.texts.format("ru", "referral.joined", {{"name", "Ann"}, {"bonus", "10"}}));
}

TEST(DialogMachine, StoredStateIsVersionedMigratedOrReset) {
  Conversation c;
  c.screen = ScreenId::form_prompt;
  c.lang = "ru";
  c.form = Form{kNonce, "zi", {{"aspect_ratio", "1:1"}}, 5};
  auto read = read_conversation(to_json(c));
  EXPECT_EQ(read.conversation, c);
  EXPECT_TRUE(read.reset.empty());
  EXPECT_FALSE(read.migrated);
  // Version 1: untyped, with the form's step and the awaited input.
  auto v1 = read_conversation({{"lang", "en"}, {"form", {{"nonce", kNonce}, {"model", "zi"}, {"values", json::object()}, {"step", "image"}}}});
  EXPECT_TRUE(v1.migrated);
  EXPECT_EQ(v1.conversation.screen, ScreenId::form_photo);
  EXPECT_EQ(v1.conversation.lang, "en");
  EXPECT_EQ(read_conversation({{"lang", "ru"}, {"await", "topup"}}).conversation.screen, ScreenId::top_up_amount);
  EXPECT_EQ(read_conversation({{"await", "admin_grant"}}).conversation.screen, ScreenId::admin_grant);
  // A newer version, a bad screen, a form screen without a form: reset, never a crash.
  auto future = read_conversation({{"v", 3}, {"lang", "en"}});
  EXPECT_FALSE(future.reset.empty());
  EXPECT_EQ(future.conversation.lang, "en");
  EXPECT_FALSE(read_conversation({{"v", 2}, {"screen", "nope"}}).reset.empty());
  EXPECT_EQ(read_conversation({{"v", 2}, {"screen", "form_confirm"}}).conversation.screen, ScreenId::menu);
  EXPECT_EQ(read_conversation({{"v", 2}, {"screen", 5}, {"form", 1}}).conversation.screen, ScreenId::menu);
  EXPECT_EQ(read_conversation(json::array()).conversation, Conversation{});
}

TEST(DialogMachine, TheDiagramShowsEveryScreen) {
  auto diagram = mermaid();
  EXPECT_TRUE(diagram.starts_with("stateDiagram-v2"));
  for (const auto& d : screens()) EXPECT_NE(diagram.find(std::string(name(d.id)) + ":"), std::string::npos);
}

TEST(DialogMachine, HelpExplainsEachCategorysModels) {
  Machine m;
  auto c = at(ScreenId::menu, false);
  auto s = reduce(c, CommandIn{"/help", ""}, m.ctx());
  EXPECT_EQ(s.next.screen, ScreenId::help);
  const auto& help = std::get<Send>(s.effects.at(0)).screen;
  std::size_t about_buttons = 0;
  for (const auto& row : help.markup["inline_keyboard"]) {
    for (const auto& b : row) about_buttons += decode(b.value("callback_data", ""))->verb == Verb::about;
  }
  EXPECT_EQ(about_buttons, m.catalog.categories().size());
  s = reduce(s.next, PressIn{Press{Verb::about, {"text_to_image"}}}, m.ctx(true));
  EXPECT_EQ(s.next.screen, ScreenId::about);
  const auto& about = std::get<Show>(s.effects.at(1)).screen;
  for (const auto* model : m.catalog.in_category("text_to_image")) {
    EXPECT_NE(about.text.find(model->about_in("en")), std::string::npos) << model->id;
  }
}

// Found by fuzz/dialog_machine: a stored form of a model this release does
// not sell (an older catalog) leads to the menu, which the table declares.
TEST(DialogMachine, AStoredFormOfAnUnknownModelLeadsToTheMenu) {
  Machine m;
  auto c = at(ScreenId::form_prompt, true);
  c.form->model = "np";
  for (const Event& e : {Event{TextIn{"make it winter"}}, Event{PressIn{Press{Verb::confirm, {kNonce}}}},
                         Event{PressIn{Press{Verb::next, {kNonce}}}}, Event{PhotoIn{"AgAC"}}}) {
    auto s = reduce(c, e, m.ctx(std::holds_alternative<PressIn>(e)));
    EXPECT_EQ(s.next.screen, ScreenId::menu) << event_kind(e);
    EXPECT_FALSE(s.next.form) << event_kind(e);
  }
}
