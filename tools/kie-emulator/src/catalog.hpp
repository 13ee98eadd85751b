// The models the emulator accepts, with the input fields KIE validates.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiebot::kie {

struct Field {
  enum class Type { string, choice, array, boolean, number, integer };
  std::string name;
  Type type = Type::string;
  bool required = false;
  std::optional<double> min;  // length for strings, value for numbers
  std::optional<double> max;
  std::vector<std::string> values;  // for choices
};

struct Model {
  std::string id;
  std::string output;  // "image", "video" or "audio": what resultUrls point at
  int credits = 0;     // charged per task
  std::vector<Field> fields;
};

const Model* find_model(std::string_view id);
const std::vector<Model>& catalog();

// Checks `input` against the model; returns what is wrong, as KIE words it.
std::optional<std::string> validate_input(const Model& model, const nlohmann::json& input);

}  // namespace kiebot::kie
