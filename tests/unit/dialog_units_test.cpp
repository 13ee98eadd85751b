// The dialog's pure parts: the catalog (valid for KIE, priced right), the
// locales (complete in both languages, every key the code uses), callback
// data and the screens' buttons.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "catalog.hpp"  // kie-emulator's: the inputs KIE accepts
#include "dialog/catalog.hpp"
#include "dialog/input.hpp"
#include "dialog/machine/verbs.hpp"
#include "dialog/questions.hpp"
#include "dialog/screens.hpp"
#include "dialog/texts.hpp"

using namespace kiebot;
using nlohmann::json;

namespace {

json filled(const dialog::Model& m) {
  auto values = m.default_values();
  for (const auto& f : m.fields) {
    if (f.type == dialog::Field::Type::prompt) values[f.name] = "a quiet harbour at dawn";
    if (f.type == dialog::Field::Type::text) values[f.name] = "a few words";
    if (f.is_file()) values[f.name] = "https://tempfile.example/file-" + f.name;
  }
  return values;
}

// kie-emulator's table entry for a catalog model: its own id on the market,
// the one generate endpoint for Suno's models.
const kie::Model* kie_model_for(const dialog::Model& m) {
  return kie::model_for(m.api, m.id);
}

std::set<std::string> buttons_data(const json& markup) {
  std::set<std::string> out;
  if (!markup.is_object()) return out;
  for (const auto& row : markup["inline_keyboard"]) {
    for (const auto& b : row) out.insert(b.value("callback_data", ""));
  }
  return out;
}

}  // namespace

TEST(DialogCatalog, OffersAtLeastTenModelsInEveryCategoryThatKieAccepts) {
  const auto& catalog = dialog::builtin_catalog();
  EXPECT_GE(catalog.models().size(), 10u);
  for (const auto& category : catalog.categories()) EXPECT_FALSE(catalog.in_category(category).empty()) << category;
  for (const auto& m : catalog.models()) {
    const auto* kie_model = kie_model_for(m);
    ASSERT_NE(kie_model, nullptr) << m.id << " is not a model KIE offers";
    auto values = filled(m);
    EXPECT_EQ(catalog.incomplete_field(m, values), "") << m.id;
    auto input = catalog.kie_input(m, values);
    EXPECT_EQ(kie::validate_input(*kie_model, input), std::nullopt) << m.id << ": " << input.dump();
    for (const auto& f : m.fields) {
      if (f.type == dialog::Field::Type::choice) {
        for (const auto& option : f.options) {
          auto v = values;
          v[f.name] = option;
          EXPECT_EQ(kie::validate_input(*kie_model, catalog.kie_input(m, v)), std::nullopt)
              << m.id << " " << f.name << "=" << option;
        }
      }
      if (f.type == dialog::Field::Type::prompt) {
        for (const auto& kf : kie_model->fields) {
          if (kf.name == f.name && kf.max_length) {
            EXPECT_LE(f.max_length, *kf.max_length) << m.id;
          }
        }
      }
    }
  }
}

// Each catalog field is one KIE documents for the model (kie-emulator's
// table, written from KIE's pages), in the JSON type KIE takes; every field
// KIE requires is in the catalog and required of public jobs; and each
// model names the same documentation page.
TEST(DialogCatalog, FieldsAreKiesOwnWithKiesTypesAndRequiredFields) {
  using K = dialog::Field::Kie;
  using KT = kie::Field::Type;
  const auto& catalog = dialog::builtin_catalog();
  for (const auto& m : catalog.models()) {
    const auto* km = kie_model_for(m);
    ASSERT_NE(km, nullptr) << m.id;
    EXPECT_EQ(m.doc, km->doc) << m.id;
    for (const auto& f : m.fields) {
      const auto* kf = km->field(f.name);
      ASSERT_NE(kf, nullptr) << m.id << ": KIE documents no field " << f.name;
      bool fits = (f.kie == K::url && kf->type == KT::url) || (f.kie == K::url_array && kf->type == KT::url_array) ||
                  (f.kie == K::boolean && kf->type == KT::boolean) ||
                  (f.kie == K::string && (kf->type == KT::string || kf->type == KT::enumeration)) ||
                  (f.kie == K::integer && (kf->type == KT::integer || kf->type == KT::enumeration)) ||
                  (f.kie == K::number && (kf->type == KT::number || kf->type == KT::enumeration));
      EXPECT_TRUE(fits) << m.id << "." << f.name;
      if (kf->required) {
        EXPECT_TRUE(f.required) << m.id << "." << f.name << ": KIE requires it";
      }
      if (f.kie == K::url_array && kf->max_items) {
        EXPECT_LE(f.max_files, *kf->max_items) << m.id;
      }
    }
    for (const auto& kf : km->fields) {
      if (kf.required) {
        EXPECT_NE(m.field(kf.name), nullptr) << m.id << ": KIE requires " << kf.name;
      }
    }
  }
}

// The public job API's check (the generator's, before any KIE call).
TEST(DialogCatalog, JobInputsAreCheckedWithPreciseReasons) {
  const auto& c = dialog::builtin_catalog();
  const auto* kling = c.by_id("kling-2.6/image-to-video");
  ASSERT_NE(kling, nullptr);
  json ok = {{"prompt", "waves"}, {"image_urls", {"https://files.example/a.png"}}, {"sound", false}, {"duration", "5"}};
  EXPECT_EQ(c.input_problem(*kling, ok), "");
  EXPECT_EQ(c.form_values(*kling, ok)["sound"], "false");
  auto with = [&](const char* name, json value) {
    auto j = ok;
    if (value.is_null()) j.erase(name); else j[name] = std::move(value);
    return c.input_problem(*kling, j);
  };
  EXPECT_EQ(with("image_urls", "https://files.example/a.png"), "input.image_urls: expected an array of 1..1 URL");
  EXPECT_EQ(with("image_urls", json::array({"https://a.example/1.png", "https://a.example/2.png"})),
            "input.image_urls: expected an array of 1..1 URL");
  EXPECT_EQ(with("image_urls", json::array({"file:///etc/passwd"})), "input.image_urls: expected an array of 1..1 URL");
  EXPECT_EQ(with("image_input", json::array({"https://a.example/1.png"})),
            "input.image_input: not a field of kling-2.6/image-to-video");
  EXPECT_EQ(with("duration", "7"), "input.duration: expected one of 5, 10");
  EXPECT_EQ(with("duration", 5), "input.duration: expected a string");
  EXPECT_EQ(with("sound", "false"), "input.sound: expected a boolean");
  EXPECT_EQ(with("prompt", std::string(1001, 'x')), "input.prompt: expected 1..1000 characters");
  EXPECT_EQ(with("prompt", nullptr), "input.prompt: required");
  EXPECT_EQ(c.input_problem(*kling, json::array()), "input: expected an object");
  const auto* recraft = c.by_id("recraft/remove-background");
  ASSERT_NE(recraft, nullptr);
  EXPECT_EQ(c.input_problem(*recraft, {{"image", "https://files.example/a.png"}}), "");
  EXPECT_EQ(c.kie_input(*recraft, {{"image", "https://files.example/a.png"}}), json({{"image", "https://files.example/a.png"}}));
  EXPECT_EQ(recraft->deliver, "document");
  // Free only in the mode the old bot gave away.
  const auto* ideogram = c.by_id("ideogram/v3-text-to-image");
  ASSERT_NE(ideogram, nullptr);
  auto v = ideogram->default_values();
  EXPECT_TRUE(c.is_free(*ideogram, v));
  v["rendering_speed"] = "QUALITY";
  EXPECT_FALSE(c.is_free(*ideogram, v));
  EXPECT_EQ(c.price(*ideogram, v), 786);
}

TEST(DialogCatalog, PricesFollowTheChosenParameters) {
  const auto& c = dialog::builtin_catalog();
  const auto* kling = c.by_id("kling-2.6/text-to-video");
  ASSERT_NE(kling, nullptr);
  auto v = filled(*kling);
  EXPECT_EQ(c.price(*kling, v), 4321);
  v["duration"] = "10";
  EXPECT_EQ(c.price(*kling, v), 8643);
  v["sound"] = "true";
  EXPECT_EQ(c.price(*kling, v), 17285);
  EXPECT_EQ(c.admin_price(*kling, v), 8643);  // admins pay KIE's cost, without the x2 markup
  const auto* flux = c.by_code("fp");
  auto f = filled(*flux);
  f["resolution"] = "2K";
  EXPECT_EQ(c.price(*flux, f), 550);
  EXPECT_EQ(c.by_code("zi")->free, true);
  EXPECT_EQ(c.by_code("kt")->free, false);
  // The old bot's free models, and only those.
  std::set<std::string> free;
  for (const auto& m : c.models()) {
    if (m.free) free.insert(m.id);
  }
  EXPECT_EQ(free, (std::set<std::string>{"z-image", "bytedance/seedream", "ideogram/v3-text-to-image",
                                         "google/imagen4-fast", "google/nano-banana"}));
}

TEST(DialogCatalog, RefusesIncompleteFormsAndBadFiles) {
  const auto& c = dialog::builtin_catalog();
  const auto* z = c.by_code("zi");
  auto v = filled(*z);
  v["prompt"] = std::string(1001, 'x');
  EXPECT_EQ(c.incomplete_field(*z, v), "prompt");
  v["prompt"] = "ok";
  v["aspect_ratio"] = "7:3";
  EXPECT_EQ(c.incomplete_field(*z, v), "aspect_ratio");
  v.erase("aspect_ratio");
  EXPECT_EQ(c.incomplete_field(*z, v), "aspect_ratio");
  EXPECT_THROW(dialog::Catalog::parse("{\"version\": 1}"), std::invalid_argument);
  EXPECT_THROW(dialog::Catalog::parse(
                   "{\"version\": 2, \"categories\": [\"a\"], \"models\": [{\"id\": \"x\", \"code\": \"x\", "
                   "\"category\": \"b\", \"name\": {\"ru\": \"x\", \"en\": \"x\"}, \"about\": {\"ru\": \"x\", "
                   "\"en\": \"x\"}, \"doc\": \"https://docs.kie.ai/market/x\", \"checked\": \"2026-12-05\", "
                   "\"fields\": [], \"prices\": [{\"kopecks\": 1}]}]}"),
               std::invalid_argument);
  EXPECT_EQ(dialog::utf8_length("привет"), 6u);
}

TEST(DialogTexts, BothLocalesHaveEveryKeyTheCodeAndCatalogUse) {
  const auto& texts = dialog::builtin_texts();
  EXPECT_EQ(texts.inconsistencies(), std::vector<std::string>{});
  // Every field the forms ask has its own question (the dialog's start check).
  EXPECT_EQ(dialog::missing_form_texts(dialog::builtin_catalog(), texts), std::vector<std::string>{});
  std::set<std::string> keys;
  for (const auto& c : dialog::builtin_catalog().categories()) keys.insert("cat." + c);
  for (const auto& m : dialog::builtin_catalog().models()) {
    for (const auto& f : m.fields) {
      if (f.has_buttons() || f.type == dialog::Field::Type::text) keys.insert(f.text_key());
    }
  }
  for (const char* s : {"queued", "succeeded", "failed"}) keys.insert(std::string("status.") + s);
  for (const char* s : {"user", "grant", "limit"}) keys.insert(std::string("admin.ask_") + s);
  // Every literal key in the dialog's sources.
  std::regex key(
      R"re("((?:menu|about|money|flood|btn|cat|field|opt|form|pay|job|balance|topup|invoice|payment|free|gift|referral|history|status|running|language|help|cancel|unknown|error|admin|label)\.[a-z_0-9]+)")re");
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(std::string(KIEBOT_SOURCE_DIR) + "/services/ingress/src/dialog")) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    auto body = text.str();
    for (std::sregex_iterator it(body.begin(), body.end(), key), end; it != end; ++it) {
      std::string k = (*it)[1];
      if (k.ends_with(".hpp")) continue;  // an #include "form.hpp", not a text
      if (k.back() != '_') keys.insert(k);  // "admin.ask_" + what: a prefix, listed above
    }
  }
  keys.insert("expired");
  EXPECT_GT(keys.size(), 80u);
  for (const auto& k : keys) {
    for (const char* lang : {"ru", "en"}) EXPECT_NE(texts.get(lang, k), k) << lang << " lacks " << k;
  }
}

TEST(DialogTexts, FormatsMoneyLanguagesAndPlaceholders) {
  EXPECT_EQ(dialog::roubles(12345), "123.45 ₽");
  EXPECT_EQ(dialog::roubles(5000), "50 ₽");
  EXPECT_EQ(dialog::roubles(5), "0.05 ₽");
  EXPECT_EQ(dialog::roubles(-150), "-1.50 ₽");
  EXPECT_EQ(dialog::language_from_telegram("ru"), "ru");
  EXPECT_EQ(dialog::language_from_telegram("uk-UA"), "ru");
  EXPECT_EQ(dialog::language_from_telegram("en-GB"), "en");
  EXPECT_EQ(dialog::language_from_telegram(""), "en");
  auto t = dialog::Texts::parse(R"({"a": "{x} and {x}, {y}"})", R"({"a": "{x}"})");
  EXPECT_EQ(t.format("ru", "a", {{"x", "1"}, {"y", "{x}"}}), "1 and 1, {x}");
  EXPECT_EQ(t.inconsistencies(), std::vector<std::string>{"placeholders differ in a"});
  EXPECT_EQ(t.get("en", "missing"), "missing");
  EXPECT_EQ(dialog::stars_for(10'000, 160), 160);
  EXPECT_EQ(dialog::stars_for(5'000, 160), 80);
  EXPECT_EQ(dialog::stars_for(1, 160), 1);
}

TEST(DialogCallbackData, TypedVersionedCompactAndRefusesTheRest) {
  auto data = dialog::encode(dialog::Verb::option, {"a1b2c3d4", "1", "2"});
  EXPECT_EQ(data, "1|opt|a1b2c3d4|1|2");
  auto c = dialog::decode(data);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->verb, dialog::Verb::option);
  EXPECT_EQ(c->index(2), 2u);
  EXPECT_EQ(c->arg(9), "");
  EXPECT_EQ(dialog::decode("1|lang")->verb, dialog::Verb::language);  // its argument is optional
  EXPECT_FALSE(dialog::decode("0|opt|x"));
  EXPECT_FALSE(dialog::decode("1|"));
  EXPECT_FALSE(dialog::decode("1|zzz"));                 // no such verb
  EXPECT_FALSE(dialog::decode("1|opt|a1b2c3d4|1"));      // an argument missing
  EXPECT_FALSE(dialog::decode("1|opt|A1B2C3D4|1|2"));    // not a nonce
  EXPECT_FALSE(dialog::decode("1|opt|a1b2c3d4|1|2|3"));  // one too many
  EXPECT_FALSE(dialog::decode("1|lang|de"));
  EXPECT_FALSE(dialog::decode("1|pay|-5"));
  EXPECT_FALSE(dialog::decode("retry:job-1"));
  EXPECT_FALSE(dialog::decode(std::string(65, '1')));
  EXPECT_THROW(dialog::encode(dialog::Verb::repeat, {std::string(70, 'y')}), std::invalid_argument);
  EXPECT_THROW(dialog::encode(dialog::Verb::category, {"a|b"}), std::invalid_argument);
  EXPECT_FALSE(dialog::encodable(dialog::Verb::menu, {"x"}));
  // Every verb is declared once, in the order of the enum, under its own name.
  std::set<std::string_view> wires;
  for (std::size_t i = 0; i < dialog::verbs().size(); ++i) {
    EXPECT_EQ(static_cast<std::size_t>(dialog::verbs()[i].verb), i);
    EXPECT_TRUE(wires.insert(dialog::verbs()[i].wire).second) << dialog::verbs()[i].wire;
  }
}

TEST(DialogScreens, EveryButtonFitsTelegramsLimit) {
  const auto& catalog = dialog::builtin_catalog();
  dialog::Screens screens(catalog, dialog::builtin_texts());
  std::vector<json> markups;
  for (const char* lang : {"ru", "en"}) {
    markups.push_back(screens.main_menu(lang, "").markup);
    for (const auto& cat : catalog.categories()) markups.push_back(screens.category(lang, cat).markup);
    for (const auto& m : catalog.models()) {
      markups.push_back(screens.form(lang, m, m.default_values(), "ffffffff").markup);
      markups.push_back(screens.confirm(lang, m, filled(m), "ffffffff", {"paid", 100, "x"}, "1 ₽").markup);
    }
    markups.push_back(screens.top_up(lang, {5'000, 10'000, 15'000}, 160).markup);
    markups.push_back(screens.admin(lang, true).markup);
    markups.push_back(screens.language(lang).markup);
  }
  std::size_t buttons = 0;
  for (const auto& markup : markups) {
    for (const auto& data : buttons_data(markup)) {
      ++buttons;
      EXPECT_LE(data.size(), 64u) << data;
      EXPECT_TRUE(dialog::decode(data)) << data;
    }
  }
  EXPECT_GT(buttons, 100u);
}

// What Telegram and users send (dialog/input.hpp, fuzzed by fuzz/tg_update,
// fuzz/admin_input and fuzz/money_amount).
TEST(DialogInput, ReadsUpdatesWithoutThrowingOnOtherTypes) {
  auto in = dialog::read_update(json::parse(
      R"({"update_id":9,"message":{"message_id":3,"from":{"id":42,"language_code":"en"},"chat":{"id":42,"type":"private"},"text":"/start@kiebot ref_7"}})"));
  EXPECT_EQ(in.kind, "message");
  EXPECT_EQ(in.update_id, 9);
  EXPECT_EQ(in.user_id, 42);
  EXPECT_EQ(in.chat_id, 42);
  EXPECT_EQ(in.user_message_id, 3);
  auto button = dialog::read_update(json::parse(
      R"({"update_id":10,"callback_query":{"id":"q1","from":{"id":42},"message":{"message_id":5,"chat":{"id":42}},"data":"1|menu"}})"));
  EXPECT_EQ(button.kind, "callback_query");
  EXPECT_EQ(button.callback_id, "q1");
  EXPECT_EQ(button.message_id, 5);
  // Unreadable ones say why (the dispatcher logs it and skips them)...
  auto no_sender =
      dialog::read_update(json::parse(R"({"update_id":11,"message":{"from":"x","chat":[],"message_id":"y"}})"));
  EXPECT_TRUE(no_sender.kind.empty());
  EXPECT_EQ(no_sender.problem, "message.chat.type is missing");
  auto anonymous = dialog::read_update(
      json::parse(R"({"update_id":15,"message":{"from":{"id":"42"},"chat":{"id":42,"type":"private"}}})"));
  EXPECT_EQ(anonymous.problem, "message.from.id is not a positive integer");
  auto not_object = dialog::read_update(json::parse(R"({"update_id":13,"callback_query":5})"));
  EXPECT_TRUE(not_object.kind.empty());
  EXPECT_EQ(not_object.problem, "callback_query is not an object");
  // ...while those ignored on purpose are quiet.
  auto group = dialog::read_update(
      json::parse(R"({"update_id":12,"message":{"from":{"id":1},"chat":{"id":-5,"type":"group"}}})"));
  EXPECT_TRUE(group.kind.empty());
  EXPECT_TRUE(group.problem.empty());
  EXPECT_TRUE(dialog::read_update(json::parse(R"({"update_id":14,"edited_message":{"text":"x"}})")).problem.empty());
  EXPECT_TRUE(dialog::read_update(json::parse("[1]")).kind.empty());
  auto command = dialog::read_command("/start@kiebot ref_7");
  ASSERT_TRUE(command);
  EXPECT_EQ(command->name, "/start");
  EXPECT_EQ(command->payload, "ref_7");
  EXPECT_FALSE(dialog::read_command("hello"));
}

TEST(DialogInput, AmountsAndAdminInput) {
  EXPECT_EQ(dialog::parse_roubles("150"), 15'000);
  EXPECT_EQ(dialog::parse_roubles("150,5"), 15'050);
  EXPECT_EQ(dialog::parse_roubles("0.29"), 29);
  EXPECT_EQ(dialog::parse_roubles(" 150 "), 15'000);
  EXPECT_EQ(dialog::parse_roubles("1 500"), 150'000);
  EXPECT_EQ(dialog::parse_roubles("1000000000"), 100'000'000'000);
  EXPECT_FALSE(dialog::parse_roubles("1000000000.01"));
  EXPECT_FALSE(dialog::parse_roubles("150.555"));
  EXPECT_FALSE(dialog::parse_roubles("1e3"));
  EXPECT_FALSE(dialog::parse_roubles("0x10"));
  EXPECT_FALSE(dialog::parse_roubles("inf"));
  EXPECT_FALSE(dialog::parse_roubles("nan"));
  EXPECT_FALSE(dialog::parse_roubles("-1"));
  EXPECT_EQ(dialog::parse_id_and_amount("42 150.50"), (std::pair<std::int64_t, std::int64_t>{42, 15'050}));
  // Found by fuzz/admin_input: more than nothing in roubles, 0 kopecks.
  EXPECT_FALSE(dialog::parse_id_and_amount("42 0.001"));
  EXPECT_FALSE(dialog::parse_id_and_amount("0 5"));
  EXPECT_EQ(dialog::parse_id_and_amount("42 1 500"), (std::pair<std::int64_t, std::int64_t>{42, 150'000}));
  EXPECT_FALSE(dialog::parse_id_and_amount("42abc 5"));
  EXPECT_FALSE(dialog::parse_id_and_amount("42 10000000.01"));
  EXPECT_FALSE(dialog::parse_id_and_amount("42"));
  EXPECT_EQ(dialog::parse_positive_id("77"), 77);
  EXPECT_FALSE(dialog::parse_positive_id("99999999999999999999"));
  EXPECT_FALSE(dialog::parse_positive_id("x"));
  EXPECT_FALSE(dialog::parse_positive_id("12abc"));
  EXPECT_FALSE(dialog::parse_positive_id(" 12"));
  auto refund = dialog::parse_refund_input("42 stxAbC");
  ASSERT_TRUE(refund);
  EXPECT_EQ(refund->second, "stxAbC");
  EXPECT_FALSE(dialog::parse_refund_input("42 stxAbC more"));
  auto top_up = dialog::parse_invoice_payload("topup:42:10000:160");
  ASSERT_TRUE(top_up);
  EXPECT_EQ(top_up->kopecks, 10'000);
  EXPECT_FALSE(dialog::parse_invoice_payload("topup:-1:1:1"));
  EXPECT_FALSE(dialog::parse_invoice_payload("topup:42:10000:160:9"));
  EXPECT_FALSE(dialog::parse_invoice_payload("topup:42:10000"));
  EXPECT_FALSE(dialog::parse_invoice_payload("topup:42:99999999999999999999:1"));
}
