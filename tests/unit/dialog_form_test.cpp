// The form's inputs in the pure reducer, on a catalog of one model that
// takes every kind: number presets, the prompt, an optional text (skipped),
// several photos (one at a time, then Done) and an audio. Wrong kinds and
// files beyond what a bot may download are refused with a message; the
// job's input has each value in KIE's type.
#include <gtest/gtest.h>

#include "dialog/machine/reducer.hpp"
#include "dialog/machine/verbs.hpp"
#include "dialog/screens.hpp"
#include "dialog/texts.hpp"

namespace kiebot::dialog {
namespace {

using nlohmann::json;

constexpr const char* kCatalog = R"({"version": 2, "admin_price_divisor": 2, "categories": ["avatar"], "models": [
  {"id": "test/every-input", "code": "ev", "category": "avatar", "free": false,
   "name": {"ru": "Все входы", "en": "Every input"}, "about": {"ru": "тест", "en": "test"},
   "doc": "https://docs.kie.ai/market/test/every-input", "checked": "2026-12-05", "deliver": "video",
   "fields": [
     {"name": "steps", "type": "number", "kie": "integer", "min": 1, "max": 50, "presets": ["10", "25"], "default": "25"},
     {"name": "prompt", "type": "prompt", "max_length": 100},
     {"name": "negative_prompt", "type": "text", "max_length": 50},
     {"name": "image_urls", "type": "image", "kie": "url_array", "max_files": 3},
     {"name": "audio_url", "type": "audio", "kie": "url"}
   ],
   "prices": [{"kopecks": 1000}]}]})";

struct FormTest : ::testing::Test {
  Catalog catalog = Catalog::parse(kCatalog);
  const Texts& texts = builtin_texts();
  Screens screens{catalog, texts};
  Rules rules;
  Conversation c;

  Context ctx(bool pressed = false) const {
    Context x{catalog, texts, screens, rules};
    x.user_id = x.chat_id = 42;
    x.message_id = 7;
    x.pressed = pressed;
    x.nonce = "0123abcd";
    return x;
  }
  std::vector<Effect> on(Event e, bool pressed = false) {
    auto step = reduce(c, e, ctx(pressed));
    c = step.next;
    return step.effects;
  }
  std::vector<Effect> press(Verb verb, std::vector<std::string> args) { return on(PressIn{Press{verb, std::move(args)}}, true); }
  static std::string sent(const std::vector<Effect>& effects) {
    for (const auto& e : effects) {
      if (const auto* s = std::get_if<Send>(&e)) return s->screen.text;
    }
    return "";
  }
  static bool has_go_button(const std::vector<Effect>& effects) {
    for (const auto& e : effects) {
      if (const auto* s = std::get_if<Send>(&e)) return s->screen.markup.dump().find(encode(Verb::next, {"0123abcd"})) != std::string::npos;
    }
    return false;
  }
};

TEST_F(FormTest, AsksForEveryKindInOrderAndSendsKiesTypes) {
  c.lang = "en";
  press(Verb::model, {"ev"});
  ASSERT_EQ(c.screen, ScreenId::form_params);
  press(Verb::option, {"0123abcd", "0", "0"});  // steps = 10
  press(Verb::next, {"0123abcd"});
  ASSERT_EQ(c.screen, ScreenId::form_text);
  EXPECT_EQ(c.form->asking, "prompt");
  auto asked = on(TextIn{"a singing cat"});
  EXPECT_EQ(c.form->asking, "negative_prompt");
  EXPECT_TRUE(has_go_button(asked)) << "an optional text can be skipped";
  auto skipped = press(Verb::next, {"0123abcd"});
  ASSERT_EQ(c.screen, ScreenId::form_file);
  EXPECT_EQ(c.form->asking, "image_urls");
  EXPECT_FALSE(has_go_button(skipped)) << "Done only after a first photo";

  // A PDF is not a photo; a 25 MB photo is beyond what a bot may download.
  auto pdf = on(FileIn{"doc-1", FileIn::Kind::document, 1000, "application/pdf"});
  EXPECT_NE(sent(pdf).find("photos"), std::string::npos) << sent(pdf);
  auto large = on(FileIn{"big-1", FileIn::Kind::photo, 25 << 20, ""});
  EXPECT_NE(sent(large).find("25 MB"), std::string::npos) << sent(large);
  // A photo sent as a document (uncompressed) is a photo.
  auto upload = on(FileIn{"png-1", FileIn::Kind::document, 3000, "image/png"});
  ASSERT_EQ(upload.size(), 1u);
  EXPECT_EQ(std::get<UploadFile>(upload[0]).file_name, "image_urls.png");
  auto more = on(FileUploaded{"https://files.example/1.png"});
  EXPECT_EQ(c.screen, ScreenId::form_file);
  EXPECT_TRUE(has_go_button(more)) << "Done after the first photo";
  on(FileUploaded{"https://files.example/2.png"});
  press(Verb::next, {"0123abcd"});  // Done
  EXPECT_EQ(c.form->asking, "audio_url");

  EXPECT_TRUE(sent(on(FileIn{"vid-1", FileIn::Kind::video, 1000, "video/mp4"})).find("audio") != std::string::npos);
  auto voice = on(FileIn{"voice-1", FileIn::Kind::voice, 1000, "audio/ogg"});
  EXPECT_EQ(std::get<UploadFile>(voice.at(0)).file_name, "audio_url.ogg");
  auto done = on(FileUploaded{"https://files.example/v.ogg"});
  EXPECT_EQ(c.screen, ScreenId::form_confirm);
  ASSERT_FALSE(done.empty());
  EXPECT_TRUE(std::holds_alternative<Ask>(done.back()));

  const auto& model = *catalog.by_code("ev");
  EXPECT_EQ(catalog.incomplete_field(model, c.form->values), "");
  EXPECT_EQ(catalog.kie_input(model, c.form->values),
            json({{"steps", 10},
                  {"prompt", "a singing cat"},
                  {"image_urls", {"https://files.example/1.png", "https://files.example/2.png"}},
                  {"audio_url", "https://files.example/v.ogg"}}));
  EXPECT_EQ(catalog.input_problem(model, catalog.kie_input(model, c.form->values)), "");
  // The state keeps the list of files across a restart.
  EXPECT_EQ(read_conversation(to_json(c)).conversation, c);
}

TEST_F(FormTest, TheMostFilesEndsTheStepWithoutDone) {
  c.lang = "en";
  press(Verb::model, {"ev"});
  press(Verb::next, {"0123abcd"});
  on(TextIn{"x"});
  press(Verb::next, {"0123abcd"});
  for (int i = 0; i < 3; ++i) on(FileUploaded{"https://files.example/" + std::to_string(i) + ".jpg"});
  EXPECT_EQ(c.form->asking, "audio_url");
  EXPECT_EQ(c.form->values["image_urls"].size(), 3u);
}

TEST_F(FormTest, VersionTwoStatesAreMigrated) {
  json v2 = {{"v", 2}, {"screen", "form_photo"}, {"lang", "en"},
             {"form", {{"nonce", "0123abcd"}, {"model", "ev"}, {"values", {{"prompt", "x"}}}}}};
  auto loaded = read_conversation(v2);
  EXPECT_TRUE(loaded.migrated);
  EXPECT_EQ(loaded.reset, "");
  EXPECT_EQ(loaded.conversation.screen, ScreenId::form_file);
}

}  // namespace
}  // namespace kiebot::dialog
