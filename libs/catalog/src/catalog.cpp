// Parsing and pricing of the model catalog (see catalog.hpp).
#include "kiebot/catalog/catalog.hpp"

#include <algorithm>

#include "fields.hpp"
#include "kiebot/base/json.hpp"

#include <set>
#include <stdexcept>

namespace kiebot::catalog {

extern const char* const kCatalogJson;  // generated from libs/catalog/models.json

namespace {

using nlohmann::json;
using detail::invalid;
using detail::parse_field;

std::map<std::string, std::string> by_language(const json& j, const std::string& where) {
  if (!j.is_object() || !j.contains("ru") || !j.contains("en")) invalid(where, "needs ru and en");
  return {{"ru", j["ru"].get<std::string>()}, {"en", j["en"].get<std::string>()}};
}

bool matches(const std::map<std::string, std::string>& when, const json& values) {
  for (const auto& [name, value] : when) {
    if (!values.contains(name) || values[name] != value) return false;
  }
  return true;
}

// The families the generator calls (services/generator/src/kie_client.cpp).
constexpr std::string_view kApiNames[] = {"market", "suno", "veo", "runway", "gpt4o_image", "flux_kontext", "midjourney"};
const std::string kApis = "market, suno, veo, runway, gpt4o_image, flux_kontext, midjourney";

bool known_api(std::string_view api) {
  return std::find(std::begin(kApiNames), std::end(kApiNames), api) != std::end(kApiNames);
}

// A price depends on buttons only: a typed number that is no preset would
// match no rule and fall through to the last one.
void check_price_fields(const Model& model) {
  for (const auto& rule : model.prices) {
    for (const auto& [name, value] : rule.when) {
      const auto* f = model.field(name);
      if (f == nullptr) invalid(model.id + ".prices", "`when` names " + name + ", which is not a field");
      if (f->type == Field::Type::number) invalid(model.id + ".prices", "a price cannot depend on the typed number " + name);
    }
  }
}

}  // namespace

std::size_t utf8_length(std::string_view text) {
  std::size_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80;
  return n;
}

const std::string& Model::name_in(const std::string& lang) const {
  return name.count(lang) ? name.at(lang) : name.at("en");
}
const std::string& Model::about_in(const std::string& lang) const {
  return about.count(lang) ? about.at(lang) : about.at("en");
}

const Field* Model::field(std::string_view field_name) const {
  for (const auto& f : fields) {
    if (f.name == field_name) return &f;
  }
  return nullptr;
}

json Model::default_values() const {
  json values = json::object();
  for (const auto& f : fields) {
    if (!f.default_value.empty()) values[f.name] = f.default_value;
  }
  return values;
}

Catalog Catalog::parse(std::string_view text) {
  auto j = parse_untrusted(text, {64, 64u << 20});
  if (!j.is_object()) invalid("file", "not a JSON object");
  if (j.value("version", 0) != 2) invalid("version", "must be 2");
  Catalog c;
  try {
    c.categories_ = j.at("categories").get<std::vector<std::string>>();
    c.admin_divisor_ = j.value("admin_price_divisor", std::int64_t{1});
    if (c.admin_divisor_ < 1) invalid("admin_price_divisor", "must be at least 1");
    std::set<std::string> ids, codes;
    for (const auto& m : j.at("models")) {
      Model model;
      model.id = m.at("id").get<std::string>();
      model.code = m.at("code").get<std::string>();
      model.category = m.at("category").get<std::string>();
      model.free = m.value("free", false);
      if (m.contains("free_when")) model.free_when = m["free_when"].get<std::map<std::string, std::string>>();
      model.doc = m.at("doc").get<std::string>();
      model.checked = m.at("checked").get<std::string>();
      model.deliver = m.value("deliver", std::string("photo"));
      model.api = m.value("api", std::string("market"));
      if (!known_api(model.api)) invalid(model.id + ".api", "must be one of KIE's API families: " + kApis);
      if (m.contains("exclude")) model.exclude = m["exclude"].get<std::vector<std::map<std::string, std::string>>>();
      if (model.doc.rfind("https://docs.kie.ai/", 0) != 0) invalid(model.id + ".doc", "must be a docs.kie.ai page");
      if (model.checked.size() != 10) invalid(model.id + ".checked", "must be a date, YYYY-MM-DD");
      if (model.deliver != "photo" && model.deliver != "document" && model.deliver != "video" && model.deliver != "audio")
        invalid(model.id + ".deliver", "must be photo, document, video or audio");
      model.name = by_language(m.at("name"), model.id + ".name");
      model.about = by_language(m.at("about"), model.id + ".about");
      for (const auto& f : m.at("fields")) model.fields.push_back(parse_field(f, model.id));
      for (const auto& p : m.at("prices")) {
        PriceRule rule;
        if (p.contains("when")) rule.when = p["when"].get<std::map<std::string, std::string>>();
        rule.kopecks = p.at("kopecks").get<std::int64_t>();
        rule.credits = p.value("credits", 0.0);
        if (rule.kopecks < 1) invalid(model.id + ".prices", "kopecks must be positive");
        model.prices.push_back(std::move(rule));
      }
      for (const auto& combination : model.exclude) {
        if (combination.size() < 2) invalid(model.id + ".exclude", "each names two fields or more");
        for (const auto& [name, value] : combination) {
          if (model.field(name) == nullptr) invalid(model.id + ".exclude", "no field " + name);
        }
      }
      check_price_fields(model);
      if (model.prices.empty() || !model.prices.back().when.empty())
        invalid(model.id + ".prices", "the last rule needs no `when`");
      if (!ids.insert(model.id).second) invalid(model.id, "duplicate id");
      if (model.code.empty() || model.code.size() > 4 || !codes.insert(model.code).second)
        invalid(model.id, "code: unique, 1-4 characters");
      bool known = false;
      for (const auto& cat : c.categories_) known = known || cat == model.category;
      if (!known) invalid(model.id, "unknown category " + model.category);
      c.models_.push_back(std::move(model));
    }
  } catch (const json::exception& e) {
    invalid("file", e.what());
  }
  return c;
}

std::vector<const Model*> Catalog::in_category(std::string_view category) const {
  std::vector<const Model*> out;
  for (const auto& m : models_) {
    if (m.category == category) out.push_back(&m);
  }
  return out;
}

const Model* Catalog::by_code(std::string_view code) const {
  for (const auto& m : models_) {
    if (m.code == code) return &m;
  }
  return nullptr;
}

const Model* Catalog::by_id(std::string_view id) const {
  for (const auto& m : models_) {
    if (m.id == id) return &m;
  }
  return nullptr;
}

std::int64_t Catalog::price(const Model& model, const json& values) const {
  for (const auto& rule : model.prices) {
    if (matches(rule.when, values)) return rule.kopecks;
  }
  return model.prices.back().kopecks;
}

bool Catalog::is_free(const Model& model, const json& values) const {
  return model.free && matches(model.free_when, values);
}

std::int64_t Catalog::admin_price(const Model& model, const json& values) const {
  return (price(model, values) + admin_divisor_ - 1) / admin_divisor_;
}

json Catalog::kie_input(const Model& model, const json& values) const {
  json input = json::object();
  for (const auto& f : model.fields) {
    if (!values.contains(f.name) && f.type != Field::Type::constant) continue;
    auto value = detail::to_kie(f, values.value(f.name, json()));
    if (!value.is_null()) input[f.name] = std::move(value);
  }
  return input;
}

json Catalog::form_values(const Model& model, const json& input) const {
  json values = json::object();
  if (!input.is_object()) return values;
  for (const auto& f : model.fields) {
    auto it = input.find(f.name);
    if (it == input.end()) continue;
    auto value = detail::form_value(f, *it);
    if (!value.empty()) values[f.name] = std::move(value);
  }
  return values;
}

const std::map<std::string, std::string>* Model::excluded(const json& values) const {
  for (const auto& combination : exclude) {
    if (matches(combination, values)) return &combination;
  }
  return nullptr;
}

std::string Catalog::input_problem(const Model& model, const json& input) const {
  if (!input.is_object()) return "input: expected an object";
  for (const auto& [name, value] : input.items()) {
    if (model.field(name) == nullptr) return "input." + name + ": not a field of " + model.id;
  }
  for (const auto& f : model.fields) {
    auto it = input.find(f.name);
    if (it == input.end() || it->is_null()) {
      if (f.required) return "input." + f.name + ": required";
      continue;
    }
    if (auto problem = detail::value_problem(f, *it); !problem.empty()) return problem;
  }
  if (const auto* combination = model.excluded(form_values(model, input))) {
    std::string named;
    for (const auto& [name, value] : *combination) named += (named.empty() ? "" : " with ") + name + " " + value;
    return "input: " + named + " is not offered by " + model.id;
  }
  return "";
}

std::string Catalog::incomplete_field(const Model& model, const json& values) const {
  for (const auto& f : model.fields) {
    if (f.type == Field::Type::constant) continue;
    if (!values.contains(f.name)) {
      if (f.required) return f.name;
      continue;
    }
    if (!detail::form_value_ok(f, values[f.name])) return f.name;
  }
  // A combination KIE refuses: the field to change is the last it names.
  if (const auto* combination = model.excluded(values)) return combination->rbegin()->first;
  return {};
}

const Catalog& builtin_catalog() {
  static const Catalog catalog = Catalog::parse(kCatalogJson);
  return catalog;
}

}  // namespace kiebot::catalog
