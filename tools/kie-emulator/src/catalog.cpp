// The emulator's model table (see catalog.hpp).
#include "catalog.hpp"

#include <cmath>
#include <set>
#include <stdexcept>

namespace kiebot::kie {

extern const char* const kKieModelsJson;  // generated from tools/kie-emulator/kie-models.json

namespace {

using nlohmann::json;
using T = Field::Type;

[[noreturn]] void invalid(const std::string& where, const std::string& what) {
  throw std::invalid_argument("kie-models.json: " + where + ": " + what);
}

T type_named(const std::string& name, const std::string& where) {
  static const std::pair<const char*, T> kTypes[] = {
      {"string", T::string}, {"enum", T::enumeration}, {"integer", T::integer}, {"number", T::number},
      {"boolean", T::boolean}, {"url", T::url},        {"url_array", T::url_array}, {"object", T::object}};
  for (const auto& [n, t] : kTypes) {
    if (name == n) return t;
  }
  invalid(where, "unknown type " + name);
}

template <class V>
std::optional<V> optional_of(const json& j, const char* key) {
  if (!j.contains(key)) return std::nullopt;
  return j.at(key).get<V>();
}

Field parse_field(const json& j, const std::string& model) {
  Field f;
  f.name = j.at("name").get<std::string>();
  auto where = model + "." + f.name;
  f.type = type_named(j.at("type").get<std::string>(), where);
  f.required = j.value("required", false);
  f.min = optional_of<double>(j, "min");
  f.max = optional_of<double>(j, "max");
  f.min_length = optional_of<std::size_t>(j, "min_length");
  f.max_length = optional_of<std::size_t>(j, "max_length");
  f.min_items = optional_of<std::size_t>(j, "min_items");
  f.max_items = optional_of<std::size_t>(j, "max_items");
  if (f.type == T::enumeration) {
    f.values = j.at("values").get<std::vector<json>>();
    if (f.values.empty()) invalid(where, "an enum needs values");
  }
  return f;
}

bool is_url(const json& v) {
  if (!v.is_string()) return false;
  const auto& s = v.get_ref<const std::string&>();
  return s.rfind("http://", 0) == 0 || s.rfind("https://", 0) == 0;
}

std::string number_text(double v) {
  auto s = json(v).dump();
  if (s.size() > 2 && s.substr(s.size() - 2) == ".0") s.resize(s.size() - 2);
  return s;
}

std::optional<std::string> check_number(const Field& f, const json& v) {
  bool integral = v.is_number_integer() || (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>());
  if (!v.is_number() || (f.type == T::integer && !integral)) {
    return f.name + " must be " + (f.type == T::integer ? "an integer" : "a number");
  }
  auto x = v.get<double>();
  if ((f.min && x < *f.min) || (f.max && x > *f.max)) {
    return f.name + " must be between " + (f.min ? number_text(*f.min) : "-inf") + " and " +
           (f.max ? number_text(*f.max) : "inf");
  }
  return std::nullopt;
}

std::optional<std::string> check(const Field& f, const json& v) {
  switch (f.type) {
    case T::string: {
      if (!v.is_string()) return f.name + " must be a string";
      auto n = characters(v.get_ref<const std::string&>());
      if (f.min_length && n < *f.min_length) return f.name + " must be at least " + std::to_string(*f.min_length) + " characters";
      if (f.max_length && n > *f.max_length) return f.name + " exceeds the maximum length of " + std::to_string(*f.max_length);
      return std::nullopt;
    }
    case T::enumeration:
      for (const auto& allowed : f.values) {
        if (allowed == v) return std::nullopt;
      }
      return f.name + " must be one of " + json(f.values).dump();
    case T::integer:
    case T::number:
      return check_number(f, v);
    case T::boolean:
      return v.is_boolean() ? std::nullopt : std::optional(f.name + " must be a boolean");
    case T::url:
      return is_url(v) ? std::nullopt : std::optional(f.name + " must be a URL string");
    case T::url_array: {
      auto lo = f.min_items.value_or(1), hi = f.max_items.value_or(100);
      bool ok = v.is_array() && v.size() >= lo && v.size() <= hi;
      for (const auto& item : v) ok = ok && is_url(item);
      if (ok) return std::nullopt;
      return f.name + " must be an array of " + std::to_string(lo) + " to " + std::to_string(hi) + " URLs";
    }
    case T::object:
      return v.is_object() ? std::nullopt : std::optional(f.name + " must be an object");
  }
  return std::nullopt;
}

}  // namespace

std::size_t characters(std::string_view text) {
  std::size_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80;
  return n;
}

const Field* Model::field(std::string_view name) const {
  for (const auto& f : fields) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::vector<Model> parse_models(std::string_view text) {
  auto j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.value("version", 0) != 1) invalid("file", "not a version 1 table");
  std::vector<Model> models;
  std::set<std::string> ids;
  try {
    for (const auto& m : j.at("models")) {
      Model model;
      model.id = m.at("id").get<std::string>();
      model.api = m.value("api", std::string("market"));
      static const std::set<std::string> kApis = {"market", "suno", "veo", "runway", "gpt4o_image", "flux_kontext", "midjourney"};
      if (!kApis.count(model.api)) invalid(model.id, "api must be market, suno, veo, runway, gpt4o_image, flux_kontext or midjourney");
      model.doc = m.at("doc").get<std::string>();
      model.output = m.at("output").get<std::string>();
      model.credits = m.at("credits").get<int>();
      if (model.output != "image" && model.output != "video" && model.output != "audio" && model.output != "text")
        invalid(model.id, "output must be image, video, audio or text");
      if (model.doc.rfind("https://docs.kie.ai/", 0) != 0) invalid(model.id, "doc must be a docs.kie.ai page");
      for (const auto& f : m.at("input")) model.fields.push_back(parse_field(f, model.id));
      if (!ids.insert(model.id).second) invalid(model.id, "duplicate id");
      models.push_back(std::move(model));
    }
  } catch (const json::exception& e) {
    invalid("file", e.what());
  }
  return models;
}

const std::vector<Model>& catalog() {
  static const std::vector<Model> models = parse_models(kKieModelsJson);
  return models;
}

const Model* find_model(std::string_view id) {
  for (const auto& m : catalog()) {
    if (m.id == id) return &m;
  }
  return nullptr;
}

const Model* model_for(std::string_view api, std::string_view id) {
  if (api == "market") return find_model(id);
  for (const auto& m : catalog()) {
    if (m.api == api) return &m;
  }
  return nullptr;
}

std::optional<std::string> validate_input(const Model& model, const json& input) {
  if (!input.is_object()) return "input must be an object";
  for (const auto& f : model.fields) {
    auto it = input.find(f.name);
    // KIE's own examples send "" or [] for an optional file they leave out
    // (Kling's tail_image_url, Hailuo's end_image_url, Nano Banana Pro's image_input).
    bool absent = it == input.end() || it->is_null();
    bool no_file = !absent && ((f.type == T::url && *it == "") || (f.type == T::url_array && it->is_array() && it->empty()));
    if (absent || (no_file && !f.required)) {
      if (f.required) return f.name + " is required";
      continue;
    }
    if (auto problem = check(f, *it)) return problem;
  }
  return std::nullopt;
}

}  // namespace kiebot::kie
