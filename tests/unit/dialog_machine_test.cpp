// The conversation's state machine without I/O: every screen with every kind
// of event stays within the table's declared targets, presses are answered
// once, screens render within Telegram's limits; flows, stale buttons and
// the stored state's versions.
#include <gtest/gtest.h>

#include <algorithm>

#include "dialog/catalog.hpp"
#include "dialog/machine/reducer.hpp"
#include "dialog/machine/table.hpp"
#include "dialog/screens.hpp"
#include "dialog/texts.hpp"
#include "dialog_machine_fixture.hpp"

using namespace kiebot::dialog;
using namespace kiebot::dialog::test;
using kiebot::ChatId;
using kiebot::Kopecks;
using kiebot::UserId;
using nlohmann::json;

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
  EXPECT_EQ(s.next.screen, ScreenId::form_text);
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
  MoneyOp referral{"referral:42", "referral",   UserId(kUser), Kopecks(0), "referral",
                   "7",           std::nullopt, ChatId(kUser), "en",       "Ann"};
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
  c.screen = ScreenId::form_text;
  c.lang = "ru";
  c.form = Form{kNonce, "zi", {{"aspect_ratio", "1:1"}}, 5};
  auto read = read_conversation(to_json(c));
  EXPECT_EQ(read.conversation, c);
  EXPECT_TRUE(read.reset.empty());
  EXPECT_FALSE(read.migrated);
  // Version 1: untyped, with the form's step and the awaited input.
  auto v1 = read_conversation(
      {{"lang", "en"}, {"form", {{"nonce", kNonce}, {"model", "zi"}, {"values", json::object()}, {"step", "image"}}}});
  EXPECT_TRUE(v1.migrated);
  EXPECT_EQ(v1.conversation.screen, ScreenId::form_file);
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
// Found by fuzz/dialog_machine: a stored form of a model this release does
// not sell (an older catalog) leads to the menu, which the table declares.
TEST(DialogMachine, AStoredFormOfAnUnknownModelLeadsToTheMenu) {
  Machine m;
  auto c = at(ScreenId::form_text, true);
  c.form->model = "np";
  for (const Event& e : {Event{TextIn{"make it winter"}}, Event{PressIn{Press{Verb::confirm, {kNonce}}}},
                         Event{PressIn{Press{Verb::next, {kNonce}}}}, Event{FileIn{"AgAC"}}}) {
    auto s = reduce(c, e, m.ctx(std::holds_alternative<PressIn>(e)));
    EXPECT_EQ(s.next.screen, ScreenId::menu) << event_kind(e);
    EXPECT_FALSE(s.next.form) << event_kind(e);
  }
}
