// The catalog against kie-emulator's own table (written from KIE's pages,
// never from the catalog): the input each model's form builds from its
// defaults, first options and the ends of its number ranges is accepted;
// KIE's documented example input of each model (libs/catalog/kie-examples.json,
// copied from KIE's pages) is accepted as documented, and so is the input the
// form builds from it. A field the emulator's table does not know fails, as a
// wrong name would at KIE.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "catalog.hpp"  // kie-emulator's
#include "kiebot/catalog/catalog.hpp"

using namespace kiebot;
using nlohmann::json;
using catalog::Field;

namespace {

const kie::Model* kie_model_for(const catalog::Model& m) {
  return kie::model_for(m.api, m.id);
}

// What the emulator says of an input, "" when it takes it; unlike the
// emulator's own check, a field its table does not know is refused.
std::string refusal(const kie::Model& km, const json& input) {
  for (const auto& [name, value] : input.items()) {
    if (km.field(name) == nullptr) return name + " is not a field KIE documents for " + km.id;
  }
  return kie::validate_input(km, input).value_or("");
}

// A value for each field the form asks, as a user would give it.
json answered(const catalog::Model& m, json values) {
  for (const auto& f : m.fields) {
    if (values.contains(f.name)) continue;
    if (f.type == Field::Type::prompt || f.type == Field::Type::text) values[f.name] = "a quiet harbour at dawn";
    if (f.type == Field::Type::choice) values[f.name] = f.options.front();
    if (f.is_file()) {
      json urls = json::array();
      for (std::size_t i = 0; i < f.max_files; ++i) urls.push_back("https://tempfile.example/" + f.name + std::to_string(i));
      values[f.name] = f.max_files > 1 ? urls : urls[0];
    }
  }
  return values;
}

json examples() {
  std::ifstream in(std::string(KIEBOT_SOURCE_DIR) + "/libs/catalog/kie-examples.json");
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str()).at("models");
}

}  // namespace

TEST(CatalogAgainstKie, EveryFormsDefaultsFirstOptionsAndRangeEndsAreAccepted) {
  const auto& c = catalog::builtin_catalog();
  for (const auto& m : c.models()) {
    const auto* km = kie_model_for(m);
    ASSERT_NE(km, nullptr) << m.id;
    auto values = answered(m, m.default_values());
    ASSERT_EQ(c.incomplete_field(m, values), "") << m.id;
    EXPECT_EQ(refusal(*km, c.kie_input(m, values)), "") << m.id << ": " << c.kie_input(m, values).dump();
    for (const auto& f : m.fields) {
      if (f.type != Field::Type::number) continue;
      for (double x : {f.min, f.max}) {
        auto v = values;
        v[f.name] = *catalog::typed_number(f, catalog::number_text(x));
        EXPECT_EQ(refusal(*km, c.kie_input(m, v)), "") << m.id << "." << f.name << " = " << x;
      }
    }
  }
}

TEST(CatalogAgainstKie, KiesDocumentedExamplesAndTheFormsBuiltFromThemAreAccepted) {
  const auto& c = catalog::builtin_catalog();
  auto documented = examples();
  std::size_t checked = 0;
  for (const auto& m : c.models()) {
    const auto* km = kie_model_for(m);
    ASSERT_NE(km, nullptr) << m.id;
    auto it = documented.find(km->id);
    if (it == documented.end()) continue;
    const auto& example = (*it)["input"];
    // The emulator takes what KIE documents...
    EXPECT_EQ(kie::validate_input(*km, example), std::nullopt) << km->id << ": " << example.dump();
    // ...and refuses what a page's example writes against the page's own schema (recorded with why).
    auto corrected = it->value("differs_from_page", json::object());
    for (const auto& [field, differs] : corrected.items()) {
      auto as_on_page = example;
      as_on_page[field] = differs["page"];
      EXPECT_NE(kie::validate_input(*km, as_on_page), std::nullopt) << km->id << "." << field;
    }
    // ...and the form built from it: each documented value the form can hold
    // (files keep their URLs), the rest as a user would choose.
    auto values = answered(m, m.default_values());
    auto from_example = c.form_values(m, example);
    for (const auto& f : m.fields) {
      auto file = example.find(f.name);
      json value = f.is_file() && file != example.end() ? *file : from_example.value(f.name, json());
      if (value.is_null()) continue;
      auto with = values;
      with[f.name] = value;
      if (c.incomplete_field(m, with).empty()) values = std::move(with);
    }
    ASSERT_EQ(c.incomplete_field(m, values), "") << m.id << ": " << values.dump();
    auto input = c.kie_input(m, values);
    EXPECT_EQ(refusal(*km, input), "") << m.id << ": " << input.dump();
    EXPECT_EQ(c.input_problem(m, input), "") << m.id;
    ++checked;
  }
  EXPECT_GE(checked, c.models().size() - 1) << "only elevenlabs/sound-effect-v2 has no documented example";
  // Every example is of a model the emulator knows.
  for (const auto& [id, example] : documented.items()) EXPECT_NE(kie::find_model(id), nullptr) << id;
}

// The check itself: a catalog whose field name or type disagrees with KIE's fails.
TEST(CatalogAgainstKie, AWrongFieldNameOrTypeIsRefused) {
  const auto* km = kie::find_model("recraft/remove-background");
  ASSERT_NE(km, nullptr);
  EXPECT_EQ(refusal(*km, {{"image", "https://files.example/a.png"}}), "");
  EXPECT_EQ(refusal(*km, {{"image_url", "https://files.example/a.png"}}), "image_url is not a field KIE documents for recraft/remove-background");
  EXPECT_NE(refusal(*km, {{"image", json::array({"https://files.example/a.png"})}}), "");
  const auto* kwi = kie::find_model("qwen/image-to-image");
  ASSERT_NE(kwi, nullptr);
  EXPECT_NE(refusal(*kwi, {{"prompt", "x"}, {"image_url", "https://files.example/a.png"}, {"strength", "0.5"}}), "");
}
