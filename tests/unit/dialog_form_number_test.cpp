// Typed numbers and the questions of the form, in the pure reducer: "type a
// value" under a number's presets, a number without presets asked in turn
// (optional: Skip), each refusal naming the range and asking again, hostile
// text refused, and each field asked with its own text and limits.
#include <gtest/gtest.h>

#include "dialog/machine/reducer.hpp"
#include "dialog/machine/verbs.hpp"
#include "dialog/questions.hpp"
#include "dialog/screens.hpp"
#include "dialog/texts.hpp"

namespace kiebot::dialog {
namespace {

using nlohmann::json;

constexpr const char* kCatalog = R"({"version": 2, "categories": ["image_to_image"], "models": [
  {"id": "test/numbers", "code": "nu", "category": "image_to_image",
   "name": {"ru": "Числа", "en": "Numbers"}, "about": {"ru": "тест", "en": "test"},
   "doc": "https://docs.kie.ai/market/test/numbers", "checked": "2026-12-05",
   "fields": [
     {"name": "num_inference_steps", "type": "number", "kie": "integer", "min": 2, "max": 50, "presets": ["10", "25"], "default": "25"},
     {"name": "strength", "type": "number", "kie": "number", "min": 0.01, "max": 1, "presets": ["0.3", "0.8"], "default": "0.8"},
     {"name": "prompt", "type": "prompt", "max_length": 100},
     {"name": "seed", "type": "number", "kie": "integer", "min": 0, "max": 2147483647}
   ],
   "prices": [{"kopecks": 1000}]}]})";

constexpr const char* kNonce = "0123abcd";

struct FormNumberTest : ::testing::Test {
  Catalog catalog = Catalog::parse(kCatalog);
  const Texts& texts = builtin_texts();
  Screens screens{catalog, texts};
  Rules rules;
  Conversation c;

  void SetUp() override { c.lang = "en"; }
  std::vector<Effect> on(Event e, bool pressed = false) {
    Context x{catalog, texts, screens, rules};
    x.user_id = x.chat_id = 42;
    x.message_id = 7;
    x.pressed = pressed;
    x.nonce = kNonce;
    auto step = reduce(c, e, x);
    c = step.next;
    return step.effects;
  }
  std::vector<Effect> press(Verb verb, std::vector<std::string> args) { return on(PressIn{Press{verb, std::move(args)}}, true); }
  static const Screen* shown(const std::vector<Effect>& effects) {
    for (const auto& e : effects) {
      if (const auto* s = std::get_if<Send>(&e)) return &s->screen;
      if (const auto* s = std::get_if<Show>(&e)) return &s->screen;
    }
    return nullptr;
  }
  static std::string text(const std::vector<Effect>& effects) { return shown(effects) ? shown(effects)->text : ""; }
  static bool has_button(const std::vector<Effect>& effects, const std::string& data) {
    return shown(effects) && shown(effects)->markup.dump().find(data) != std::string::npos;
  }
  const Model& model() const { return *catalog.by_code("nu"); }
};

TEST_F(FormNumberTest, TypeAValueUnderThePresetsTakesAnyNumberInTheRange) {
  auto form = press(Verb::model, {"nu"});
  ASSERT_EQ(c.screen, ScreenId::form_params);
  auto type_steps = encode(Verb::type_value, {kNonce, "0"});
  ASSERT_TRUE(has_button(form, type_steps)) << "a number's presets come with \"type a value\"";
  EXPECT_FALSE(has_button(form, encode(Verb::type_value, {kNonce, "3"}))) << "a number without presets is asked in turn";

  auto asked = press(Verb::type_value, {kNonce, "0"});
  ASSERT_EQ(c.screen, ScreenId::form_number);
  EXPECT_EQ(text(asked), "🔢 Steps: more are slower and add detail (a whole number from 2 to 50).");
  EXPECT_TRUE(has_button(asked, encode(Verb::edit, {kNonce}))) << "back to the parameters";

  // Each refusal is one message: the range, an example, and the question again.
  for (const std::string& bad : std::vector<std::string>{"abc", "1", "51", "12.5", "1e1", "NaN", "inf", "-0x10", "١٢", "１２", "", "   ",
                          std::string(10'000, '9'), "12 steps"}) {
    auto refused = on(TextIn{bad});
    EXPECT_EQ(c.screen, ScreenId::form_number) << bad;
    EXPECT_EQ(text(refused),
              "⚠️ That is not a whole number from 2 to 50. Type just the number, for example 25.\n\n"
              "🔢 Steps: more are slower and add detail (a whole number from 2 to 50).")
        << bad;
    EXPECT_EQ(c.form->values["num_inference_steps"], "25") << bad;
  }
  auto back = on(TextIn{" 33 "});
  EXPECT_EQ(c.screen, ScreenId::form_params);
  EXPECT_EQ(c.form->values["num_inference_steps"], "33");
  EXPECT_EQ(c.form->asking, "");
  ASSERT_NE(shown(back), nullptr);
  EXPECT_NE(shown(back)->markup.dump().find("✅ 33 ✏️"), std::string::npos) << "the typed value shows as chosen";

  // A preset's own spelling when the typed value is one: prices match options as written.
  press(Verb::type_value, {kNonce, "1"});
  EXPECT_EQ(text(on(TextIn{"2"})).rfind("⚠️", 0), 0u);
  on(TextIn{"0,80"});
  EXPECT_EQ(c.form->values["strength"], "0.8");
  press(Verb::type_value, {kNonce, "1"});
  on(TextIn{".65"});
  EXPECT_EQ(c.form->values["strength"], "0.65");

  // Back keeps the value it had; a preset pressed while typing ends the typing.
  press(Verb::type_value, {kNonce, "1"});
  press(Verb::edit, {kNonce});
  EXPECT_EQ(c.screen, ScreenId::form_params);
  press(Verb::type_value, {kNonce, "0"});
  press(Verb::option, {kNonce, "0", "0"});
  EXPECT_EQ(c.form->asking, "");
  EXPECT_EQ(c.form->values["num_inference_steps"], "10");
  EXPECT_EQ(c.form->values["strength"], "0.65");
  // Not a number field, or no field: the press is stale.
  press(Verb::type_value, {kNonce, "2"});
  EXPECT_EQ(c.screen, ScreenId::form_params);
}

TEST_F(FormNumberTest, ANumberWithoutPresetsIsAskedInTurnAndMayBeSkipped) {
  press(Verb::model, {"nu"});
  press(Verb::next, {kNonce});
  ASSERT_EQ(c.form->asking, "prompt");
  auto asked = on(TextIn{"a lighthouse"});
  ASSERT_EQ(c.screen, ScreenId::form_number);
  EXPECT_EQ(c.form->asking, "seed");
  EXPECT_EQ(text(asked),
            "🔢 Seed: the same number with the same settings repeats a result (a whole number from 0 to 2147483647).\n"
            "It is optional: type it, or press Skip.");
  EXPECT_TRUE(has_button(asked, encode(Verb::next, {kNonce})));
  EXPECT_EQ(text(on(TextIn{"2147483648"})).rfind("⚠️", 0), 0u);
  EXPECT_EQ(text(on(TextIn{"-1"})).rfind("⚠️", 0), 0u);
  auto done = on(TextIn{"+0042"});
  EXPECT_EQ(c.screen, ScreenId::form_confirm);
  EXPECT_TRUE(std::holds_alternative<Ask>(done.back()));
  EXPECT_EQ(catalog.kie_input(model(), c.form->values),
            json({{"num_inference_steps", 25}, {"strength", 0.8}, {"prompt", "a lighthouse"}, {"seed", 42}}));
  EXPECT_EQ(catalog.input_problem(model(), catalog.kie_input(model(), c.form->values)), "");

  // Skipped: not sent to KIE, and the form is complete.
  press(Verb::model, {"nu"});
  press(Verb::next, {kNonce});
  on(TextIn{"a lighthouse"});
  press(Verb::next, {kNonce});
  EXPECT_EQ(c.screen, ScreenId::form_confirm);
  EXPECT_EQ(c.form->values["seed"], "");
  EXPECT_EQ(catalog.incomplete_field(model(), c.form->values), "");
  EXPECT_FALSE(catalog.kie_input(model(), c.form->values).contains("seed"));
  // The state survives a restart on the number's screen.
  c.screen = ScreenId::form_number;
  c.form->asking = "strength";
  EXPECT_EQ(read_conversation(to_json(c)).conversation, c);
}

TEST_F(FormNumberTest, EachFieldIsAskedWithItsOwnTextAndLimits) {
  const auto& m = model();
  EXPECT_EQ(question(texts, "ru", m, *m.field("strength")),
            "🔢 Сила изменения: насколько результат может уйти от вашего фото (меньше — ближе к фото) (от 0.01 до 1).");
  EXPECT_EQ(question(texts, "en", m, *m.field("prompt")),
            "✍️ Describe what you want made from your photo: what to change, add or keep (up to 100 characters).");
  // The builtin catalog: scoped by model and category, in both languages, never the same words for two fields of a model.
  const auto& builtin = builtin_catalog();
  for (const auto& bm : builtin.models()) {
    for (const char* lang : {"ru", "en"}) {
      std::set<std::string> asked;
      for (const auto& f : bm.fields) {
        if (!has_question(f)) continue;
        auto q = question(texts, lang, bm, f);
        EXPECT_EQ(q.find("ask."), std::string::npos) << bm.id << "." << f.name << ": " << q;
        EXPECT_TRUE(asked.insert(texts.get(lang, question_key(texts, lang, bm, f))).second)
            << bm.id << " asks two fields with the same words: " << q;
      }
    }
  }
  const auto* remix = builtin.by_id("ideogram/character-remix");
  ASSERT_NE(remix, nullptr);
  EXPECT_EQ(question(texts, "en", *remix, *remix->field("reference_image_urls")).rfind("📎 Send photos of the character: ", 0), 0u);
}

TEST_F(FormNumberTest, AFieldWithoutItsQuestionStopsTheStart) {
  auto broken = Catalog::parse(R"({"version": 2, "categories": ["tools"], "models": [
    {"id": "test/unasked", "code": "un", "category": "tools",
     "name": {"ru": "x", "en": "x"}, "about": {"ru": "x", "en": "x"},
     "doc": "https://docs.kie.ai/market/test/unasked", "checked": "2026-12-05",
     "fields": [{"name": "mystery_url", "type": "image", "kie": "url"},
                {"name": "guidance_scale", "type": "number", "kie": "number", "min": 1, "max": 10}],
     "prices": [{"kopecks": 1}]}]})");
  EXPECT_EQ(missing_form_texts(broken, texts),
            (std::vector<std::string>{"test/unasked.mystery_url: no ask.mystery_url in ru",
                                      "test/unasked.mystery_url: no ask.mystery_url in en",
                                      "test/unasked.guidance_scale: no ask.guidance_scale in ru",
                                      "test/unasked.guidance_scale: no field.guidance_scale in ru",
                                      "test/unasked.guidance_scale: no ask.guidance_scale in en",
                                      "test/unasked.guidance_scale: no field.guidance_scale in en"}));
  try {
    check_form_texts(broken, texts);
    ADD_FAILURE() << "a field without its question must stop the start";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("test/unasked.guidance_scale: no ask.guidance_scale in ru"), std::string::npos);
  }
  EXPECT_NO_THROW(check_form_texts(builtin_catalog(), texts));
}

}  // namespace
}  // namespace kiebot::dialog
