// The model catalog (libs/catalog/models.json, compiled in): models by
// category, their input fields and their prices in kopecks. The dialog
// builds its forms and prices from it, the generator checks that a job's
// hold pays for it. Depends on base only.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace kiebot::catalog {

struct Field {
  enum class Type { prompt, choice, boolean, image };
  std::string name;  // KIE's input field
  Type type = Type::prompt;
  std::vector<std::string> options;  // choice
  std::string default_value;         // choice and boolean ("true"/"false")
  std::size_t min_length = 1;        // prompt, in characters
  std::size_t max_length = 0;
};

struct PriceRule {
  std::map<std::string, std::string> when;  // all must match the form's values
  std::int64_t kopecks = 0;
};

struct Model {
  std::string id;    // KIE's model id
  std::string code;  // short id for callback data
  std::string category;
  bool free = false;                               // free generations may pay for it
  std::map<std::string, std::string> name, about;  // by language
  std::vector<Field> fields;
  std::vector<PriceRule> prices;  // first match wins; the last has no `when`

  const std::string& name_in(const std::string& lang) const;
  const std::string& about_in(const std::string& lang) const;
  const Field* field(std::string_view field_name) const;
  // The form's values as they start: every choice and boolean at its default.
  nlohmann::json default_values() const;
};

// A form's values are strings by field name: options, "true"/"false",
// the prompt, and for images the Telegram file id.
class Catalog {
 public:
  // Throws std::invalid_argument naming what is wrong.
  static Catalog parse(std::string_view text);

  const std::vector<std::string>& categories() const { return categories_; }
  const std::vector<Model>& models() const { return models_; }
  std::vector<const Model*> in_category(std::string_view category) const;
  const Model* by_code(std::string_view code) const;
  const Model* by_id(std::string_view id) const;

  std::int64_t price(const Model& model, const nlohmann::json& values) const;
  // What admins pay (KIE's cost, without the users' markup).
  std::int64_t admin_price(const Model& model, const nlohmann::json& values) const;
  // KIE's createTask input: booleans as JSON booleans, an image (the URL it
  // was uploaded to) as a one-element list.
  nlohmann::json kie_input(const Model& model, const nlohmann::json& values) const;
  // The missing or invalid field that keeps the form from being sent, if any.
  std::string incomplete_field(const Model& model, const nlohmann::json& values) const;

 private:
  std::vector<std::string> categories_;
  std::vector<Model> models_;
  std::int64_t admin_divisor_ = 1;
};

// The catalog compiled into the binary.
const Catalog& builtin_catalog();

// Length in Unicode code points (what Telegram and KIE count).
std::size_t utf8_length(std::string_view text);

}  // namespace kiebot::catalog
