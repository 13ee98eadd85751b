// The model catalog (libs/catalog/models.json, compiled in): models by
// category, their input fields as KIE documents them (each model names the
// page it was checked against), and their prices in kopecks. The dialog
// builds its forms and prices from it; the generator checks a job's input
// against it and that the job's hold pays for it. Depends on base only.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiebot::catalog {

struct Field {
  // What the form asks for: buttons (choice, boolean, number presets),
  // typed text (the prompt, other texts), or files.
  // constant: a value always sent and never asked (Suno's customMode).
  enum class Type { prompt, text, choice, boolean, number, image, audio, video, constant };
  // How KIE takes the value (its documented JSON type): a choice "5" goes
  // as 5 to an integer field; a file as a URL, or as an array of URLs.
  enum class Kie { string, integer, number, boolean, url, url_array };
  std::string name;   // KIE's input field
  std::string label;  // the text key's suffix ("field.<label>"), when not the name (Suno's prompt: lyrics)
  Type type = Type::prompt;
  Kie kie = Kie::string;
  bool required = true;  // a job must carry it (the form asks for every required one)
  std::vector<std::string> options;           // choice; number: the preset buttons
  std::map<std::string, std::string> labels;  // a button's text for an option (a voice's name), else the option
  std::string default_value;                  // choice, boolean ("true"/"false"), number (a preset, or none)
  std::size_t min_length = 1;                 // prompt, text: in characters
  std::size_t max_length = 0;
  double min = 0, max = 0;    // number
  std::size_t max_files = 1;  // image, audio, video
  nlohmann::json constant;    // constant

  // Its name in the texts: "field.<label or name>".
  std::string text_key() const { return "field." + (label.empty() ? name : label); }
  bool is_file() const { return type == Type::image || type == Type::audio || type == Type::video; }
  // Asked one at a time after the buttons: typed text, files, and numbers
  // without presets (typed). A number with presets is a row of buttons,
  // with "type a value" for the rest of its range.
  bool asked() const {
    return type == Type::prompt || type == Type::text || is_file() || (type == Type::number && options.empty());
  }
  bool has_buttons() const { return type == Type::choice || type == Type::number || type == Type::boolean; }
};

struct PriceRule {
  std::map<std::string, std::string> when;  // all must match the form's values
  std::int64_t kopecks = 0;
  double credits = 0;  // what KIE charges for it, in KIE credits (0: not recorded)
};

struct Model {
  std::string id;    // KIE's model id
  std::string code;  // short id for callback data
  std::string category;
  std::string doc;      // KIE's documentation page its fields were checked against
  std::string checked;  // when (YYYY-MM-DD)
  // How results reach the chat: "photo", "document" (the original file:
  // transparency, upscales), "video" or "audio".
  std::string deliver = "photo";
  // Which of KIE's APIs runs it: "market" (createTask with model and input),
  // or a family of its own whose body is the input's fields: "suno", "veo",
  // "runway", "gpt4o_image", "flux_kontext", "midjourney".
  std::string api = "market";
  bool free = false;  // free generations may pay for it (with free_when: only for those values)
  std::map<std::string, std::string> free_when;
  std::map<std::string, std::string> name, about;  // by language
  std::vector<Field> fields;
  std::vector<PriceRule> prices;  // first match wins; the last has no `when`
  // Combinations of values KIE refuses (Runway: 10 s only at 720p).
  std::vector<std::map<std::string, std::string>> exclude;

  const std::string& name_in(const std::string& lang) const;
  const std::string& about_in(const std::string& lang) const;
  const Field* field(std::string_view field_name) const;
  // The form's values as they start: every choice and boolean at its default.
  nlohmann::json default_values() const;
  // The excluded combination the values make, if any.
  const std::map<std::string, std::string>* excluded(const nlohmann::json& values) const;
};

// A form's values are by field name: strings (options, "true"/"false",
// numbers, texts, a file's URL at KIE's upload) or, for a field that takes
// several files, a list of URLs.
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
  // Whether a free generation may pay for the model with these values.
  bool is_free(const Model& model, const nlohmann::json& values) const;
  // What admins pay (KIE's cost, without the users' markup).
  std::int64_t admin_price(const Model& model, const nlohmann::json& values) const;
  // KIE's createTask input: each value in the JSON type KIE documents for
  // its field (booleans, numbers, a URL or a one-URL list).
  nlohmann::json kie_input(const Model& model, const nlohmann::json& values) const;
  // The form's values (strings) of a KIE input: kie_input's inverse, for
  // pricing a job. Fields of the wrong type are left out.
  nlohmann::json form_values(const Model& model, const nlohmann::json& input) const;
  // What is wrong with a job's KIE input for the model, as a precise reason
  // ("input.image_urls: expected an array of 1..1 URL"); "" when it is valid.
  // Unknown fields, missing required ones, wrong types, values outside the
  // options or lengths, and too many files are all refused.
  std::string input_problem(const Model& model, const nlohmann::json& input) const;
  // The missing (required) or invalid field that keeps the form from being sent, if any.
  std::string incomplete_field(const Model& model, const nlohmann::json& values) const;

 private:
  std::vector<std::string> categories_;
  std::vector<Model> models_;
  std::int64_t admin_divisor_ = 1;
};

// A number the user typed for a number field, as the form keeps it: a
// preset's own spelling when it is one, else the shortest decimal ("0.65",
// "12"); a comma works as the decimal point. nullopt for anything else: not a
// plain decimal (exponents, NaN, infinities, non-ASCII digits), outside the
// field's min..max, a fraction for an integer field, or over 64 bytes.
std::optional<std::string> typed_number(const Field& field, std::string_view text);
// The shortest decimal of a number ("0.5", "10"), as typed_number writes it.
std::string number_text(double x);

// The catalog compiled into the binary.
const Catalog& builtin_catalog();

// Length in Unicode code points (what Telegram and KIE count).
std::size_t utf8_length(std::string_view text);

}  // namespace kiebot::catalog
