// The emulator's model catalog: the models the bot offers first, with their
// input fields as KIE's market API documents them (docs.kie.ai, "Market").
#include "catalog.hpp"

#include <nlohmann/json.hpp>

namespace kiebot::kie {

namespace {

using T = Field::Type;

Field text(std::string name, bool required, double max, double min = 0) {
  return Field{std::move(name), T::string, required, min > 0 ? std::optional(min) : std::nullopt, max, {}};
}
Field choice(std::string name, bool required, std::vector<std::string> values) {
  return Field{std::move(name), T::choice, required, std::nullopt, std::nullopt, std::move(values)};
}
Field urls(std::string name) { return Field{std::move(name), T::array, true, 1, 10, {}}; }
Field flag(std::string name, bool required) { return Field{std::move(name), T::boolean, required, {}, {}, {}}; }

std::vector<Model> build() {
  const std::vector<std::string> ratios = {"1:1", "4:3", "3:4", "16:9", "9:16"};
  return {
      {"z-image", "image", 1, {text("prompt", true, 1000), choice("aspect_ratio", true, ratios)}},
      {"google/nano-banana", "image", 4,
       {text("prompt", true, 5000), choice("output_format", false, {"png", "jpeg"}),
        choice("image_size", false, {"1:1", "9:16", "16:9", "3:4", "4:3", "3:2", "2:3", "5:4", "4:5", "21:9", "auto"})}},
      {"google/nano-banana-edit", "image", 4,
       {text("prompt", true, 5000), urls("image_urls"), choice("output_format", false, {"png", "jpeg"})}},
      {"flux-2/pro-text-to-image", "image", 5,
       {text("prompt", true, 5000, 3), choice("aspect_ratio", true, {"1:1", "4:3", "3:4", "16:9", "9:16", "3:2", "2:3", "auto"}),
        choice("resolution", true, {"1K", "2K"})}},
      {"bytedance/seedream-v4-text-to-image", "image", 5,
       {text("prompt", true, 5000),
        choice("image_size", false, {"square", "square_hd", "portrait_4_3", "portrait_16_9", "landscape_4_3", "landscape_16_9"}),
        choice("image_resolution", false, {"1K", "2K", "4K"}), Field{"max_images", T::number, false, 1, 6, {}}}},
      {"google/imagen4-fast", "image", 4,
       {text("prompt", true, 5000), text("negative_prompt", false, 5000), choice("aspect_ratio", false, ratios),
        Field{"seed", T::integer, false, {}, {}, {}}}},
      {"recraft/remove-background", "image", 1, {urls("image_input")}},
      {"topaz/image-upscale", "image", 10, {urls("image_input"), choice("upscale_factor", true, {"1", "2", "4", "8"})}},
      {"kling-2.6/text-to-video", "video", 55,
       {text("prompt", true, 1000), flag("sound", true), choice("aspect_ratio", true, {"1:1", "16:9", "9:16"}),
        choice("duration", true, {"5", "10"})}},
      {"kling-2.6/image-to-video", "video", 55,
       {text("prompt", true, 1000), urls("image_input"), flag("sound", true), choice("duration", true, {"5", "10"})}},
      {"wan/2-5-text-to-video", "video", 60,
       {text("prompt", true, 800), choice("duration", false, {"5", "10"}), choice("aspect_ratio", false, {"16:9", "9:16", "1:1"}),
        choice("resolution", false, {"720p", "1080p"}), text("negative_prompt", false, 500)}},
      {"elevenlabs/text-to-speech", "audio", 6, {text("text", true, 5000)}},
      {"elevenlabs/sound-effect", "audio", 2, {text("prompt", true, 450)}},
  };
}

}  // namespace

const std::vector<Model>& catalog() {
  static const std::vector<Model> models = build();
  return models;
}

const Model* find_model(std::string_view id) {
  for (const auto& m : catalog()) {
    if (m.id == id) return &m;
  }
  return nullptr;
}

std::optional<std::string> validate_input(const Model& model, const nlohmann::json& input) {
  if (!input.is_object()) return "input must be an object";
  for (const auto& f : model.fields) {
    auto it = input.find(f.name);
    if (it == input.end() || it->is_null()) {
      if (f.required) return f.name + " is required";
      continue;
    }
    const auto& v = *it;
    switch (f.type) {
      case T::string: {
        if (!v.is_string()) return f.name + " must be a string";
        auto length = static_cast<double>(v.get_ref<const std::string&>().size());
        if (f.min && length < *f.min) return f.name + " is too short";
        if (f.max && length > *f.max) return f.name + " exceeds the maximum length of " + std::to_string(static_cast<int>(*f.max));
        break;
      }
      case T::choice: {
        if (!v.is_string()) return f.name + " must be a string";
        bool known = false;
        for (const auto& option : f.values) known = known || option == v.get<std::string>();
        if (!known) return f.name + " must be one of the allowed values";
        break;
      }
      case T::array:
        if (!v.is_array() || v.empty()) return f.name + " must be a non-empty array";
        if (f.max && static_cast<double>(v.size()) > *f.max) return f.name + " has too many items";
        for (const auto& item : v) {
          if (!item.is_string()) return f.name + " items must be strings";
        }
        break;
      case T::boolean:
        if (!v.is_boolean()) return f.name + " must be a boolean";
        break;
      case T::number:
      case T::integer:
        if (!v.is_number() || (f.type == T::integer && !v.is_number_integer())) return f.name + " must be a number";
        if ((f.min && v.get<double>() < *f.min) || (f.max && v.get<double>() > *f.max)) return f.name + " is out of range";
        break;
    }
  }
  return std::nullopt;
}

}  // namespace kiebot::kie
