// The models the emulator accepts, with the input fields KIE validates:
// its own table (tools/kie-emulator/kie-models.json, compiled in), written
// from KIE's documentation of each model (the page is in `doc`), never from
// the project's catalog, so that a wrong field name in the catalog fails here
// as it would at KIE.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiebot::kie {

struct Field {
  enum class Type { string, enumeration, integer, number, boolean, url, url_array, object };
  std::string name;
  Type type = Type::string;
  bool required = false;
  std::optional<double> min, max;                     // integer, number
  std::optional<std::size_t> min_length, max_length;  // string (characters)
  std::optional<std::size_t> min_items, max_items;    // url_array
  std::vector<nlohmann::json> values;                 // enumeration: the exact JSON values
};

struct Model {
  std::string id;
  // market (createTask's input), or a family whose body is the input: suno,
  // veo, runway, gpt4o_image, flux_kontext, midjourney.
  std::string api = "market";
  std::string doc;             // the documentation page the fields come from
  std::string output;  // "image", "video" or "audio": what resultUrls point at
  int credits = 0;     // charged per task
  std::vector<Field> fields;

  const Field* field(std::string_view name) const;
};

const Model* find_model(std::string_view id);
// The entry that takes a catalog model's tasks: the market model of that id,
// or the one entry of its API family (each family has one route).
const Model* model_for(std::string_view api, std::string_view id);
const std::vector<Model>& catalog();

// Reads a table in kie-models.json's form; throws std::invalid_argument
// naming the model and field that is wrong.
std::vector<Model> parse_models(std::string_view text);

// Length in Unicode code points, as KIE counts a text's characters.
std::size_t characters(std::string_view text);

// Checks `input` against the model; returns what is wrong, as KIE words it.
std::optional<std::string> validate_input(const Model& model, const nlohmann::json& input);

}  // namespace kiebot::kie
