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

// Each upload is remembered with its Telegram file_id and time, kept across
// a restart and handed to the submission, which uploads it again once KIE
// may have deleted it.
TEST_F(FormTest, UploadsAreRememberedForTheSubmission) {
  c.lang = "en";
  press(Verb::model, {"ev"});
  press(Verb::next, {"0123abcd"});
  on(TextIn{"x"});
  press(Verb::next, {"0123abcd"});
  on(FileUploaded{"https://files.example/1.jpg", "tg-photo-1", "image_urls.jpg", 1'000});
  press(Verb::next, {"0123abcd"});  // Done
  on(FileUploaded{"https://files.example/v.ogg", "tg-voice-1", "audio_url.ogg", 2'000});
  ASSERT_EQ(c.screen, ScreenId::form_confirm);
  json files = {{"https://files.example/1.jpg", {{"id", "tg-photo-1"}, {"name", "image_urls.jpg"}, {"at", 1'000}}},
                {"https://files.example/v.ogg", {{"id", "tg-voice-1"}, {"name", "audio_url.ogg"}, {"at", 2'000}}}};
  EXPECT_EQ(c.form->files, files);
  EXPECT_EQ(read_conversation(to_json(c)).conversation, c);
  auto confirmed = press(Verb::confirm, {"0123abcd"});
  const Submit* submit = nullptr;
  for (const auto& e : confirmed) {
    if (const auto* s = std::get_if<Submit>(&e)) submit = s;
  }
  ASSERT_NE(submit, nullptr);
  EXPECT_EQ(submit->files, files);
  // Stored uploads are read with bounds: a wrong type is dropped, the rest kept.
  json stored = files;
  stored["https://files.example/x"] = {{"id", 5}, {"name", "x"}, {"at", 1}};
  EXPECT_EQ(read_files(stored), files);
}

// Repeating a failed job: its uploads are suspected gone (KIE may have
// failed for want of one), so the submission uploads them all again.
TEST_F(FormTest, RepeatingAFailedJobUploadsItsFilesAgain) {
  c.lang = "en";
  json values = {{"steps", "10"}, {"prompt", "x"}, {"negative_prompt", ""},
                 {"image_urls", {"https://files.example/1.jpg"}}, {"audio_url", "https://files.example/v.ogg"}};
  json files = {{"https://files.example/1.jpg", {{"id", "p"}, {"name", "image_urls.jpg"}, {"at", 1'000}}},
                {"https://files.example/v.ogg", {{"id", "v"}, {"name", "audio_url.ogg"}, {"at", 2'000}}}};
  for (std::string status : {"succeeded", "failed"}) {
    Answered answered{Need::repeat, 42, "dlg-42-0000aaaa"};
    answered.jobs.push_back(JobRecord{"dlg-42-0000aaaa", "test/every-input", values, status, 1000, 1, 2, files});
    on(answered);
    ASSERT_TRUE(c.form.has_value());
    EXPECT_EQ(c.screen, ScreenId::form_confirm);
    EXPECT_EQ(c.form->files["https://files.example/1.jpg"]["at"], status == "failed" ? 0 : 1'000) << status;
    EXPECT_EQ(c.form->files["https://files.example/v.ogg"]["at"], status == "failed" ? 0 : 2'000) << status;
  }
}

// Telegram no longer gives a file KIE deleted: the user is told and asked
// for that file again; the rest of the form stays.
TEST_F(FormTest, AFileTelegramNoLongerGivesIsAskedForAgain) {
  c.lang = "en";
  press(Verb::model, {"ev"});
  press(Verb::next, {"0123abcd"});
  on(TextIn{"x"});
  press(Verb::next, {"0123abcd"});
  on(FileUploaded{"https://files.example/1.jpg", "p", "image_urls.jpg", 1'000});
  press(Verb::next, {"0123abcd"});
  on(FileUploaded{"https://files.example/v.ogg", "v", "audio_url.ogg", 2'000});
  press(Verb::confirm, {"0123abcd"});
  Submitted gone{Submitted::Result::file_gone};
  gone.field = "image_urls";
  auto said = on(gone);
  EXPECT_EQ(c.screen, ScreenId::form_file);
  EXPECT_EQ(c.form->asking, "image_urls");
  EXPECT_FALSE(c.form->values.contains("image_urls"));
  EXPECT_EQ(c.form->values["audio_url"], "https://files.example/v.ogg");
  EXPECT_FALSE(c.form->files.contains("https://files.example/1.jpg"));
  EXPECT_TRUE(c.form->files.contains("https://files.example/v.ogg"));
  ASSERT_GE(said.size(), 2u);
  EXPECT_NE(sent(said).find("send it again"), std::string::npos) << sent(said);
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
