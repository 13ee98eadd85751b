// Parsing and pricing of the model catalog (see catalog.hpp).
#include "kiebot/catalog/catalog.hpp"

#include "kiebot/base/json.hpp"

#include <set>
#include <stdexcept>

namespace kiebot::catalog {

extern const char* const kCatalogJson;  // generated from libs/catalog/models.json

namespace {

using nlohmann::json;

[[noreturn]] void invalid(const std::string& where, const std::string& what) {
  throw std::invalid_argument("catalog: " + where + ": " + what);
}

std::map<std::string, std::string> by_language(const json& j, const std::string& where) {
  if (!j.is_object() || !j.contains("ru") || !j.contains("en")) invalid(where, "needs ru and en");
  return {{"ru", j["ru"].get<std::string>()}, {"en", j["en"].get<std::string>()}};
}

Field parse_field(const json& j, const std::string& where) {
  Field f;
  f.name = j.at("name").get<std::string>();
  auto type = j.at("type").get<std::string>();
  if (type == "prompt") {
    f.type = Field::Type::prompt;
    f.min_length = j.value("min_length", std::size_t{1});
    f.max_length = j.at("max_length").get<std::size_t>();
  } else if (type == "choice") {
    f.type = Field::Type::choice;
    f.options = j.at("options").get<std::vector<std::string>>();
    f.default_value = j.at("default").get<std::string>();
    if (f.options.empty() || f.options.size() > 12) invalid(where + "." + f.name, "1-12 options");
    bool known = false;
    for (const auto& o : f.options) known = known || o == f.default_value;
    if (!known) invalid(where + "." + f.name, "default is not an option");
  } else if (type == "boolean") {
    f.type = Field::Type::boolean;
    f.default_value = j.at("default").get<bool>() ? "true" : "false";
  } else if (type == "image") {
    f.type = Field::Type::image;
  } else {
    invalid(where + "." + f.name, "unknown type " + type);
  }
  return f;
}

bool matches(const PriceRule& rule, const json& values) {
  for (const auto& [name, value] : rule.when) {
    if (!values.contains(name) || values[name] != value) return false;
  }
  return true;
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
  if (j.value("version", 0) != 1) invalid("version", "must be 1");
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
      model.name = by_language(m.at("name"), model.id + ".name");
      model.about = by_language(m.at("about"), model.id + ".about");
      for (const auto& f : m.at("fields")) model.fields.push_back(parse_field(f, model.id));
      for (const auto& p : m.at("prices")) {
        PriceRule rule;
        if (p.contains("when")) rule.when = p["when"].get<std::map<std::string, std::string>>();
        rule.kopecks = p.at("kopecks").get<std::int64_t>();
        if (rule.kopecks < 1) invalid(model.id + ".prices", "kopecks must be positive");
        model.prices.push_back(std::move(rule));
      }
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
    if (matches(rule, values)) return rule.kopecks;
  }
  return model.prices.back().kopecks;
}

std::int64_t Catalog::admin_price(const Model& model, const json& values) const {
  return (price(model, values) + admin_divisor_ - 1) / admin_divisor_;
}

json Catalog::kie_input(const Model& model, const json& values) const {
  json input = json::object();
  for (const auto& f : model.fields) {
    if (!values.contains(f.name) || !values[f.name].is_string()) continue;
    const auto& v = values[f.name].get_ref<const std::string&>();
    switch (f.type) {
      case Field::Type::boolean:
        input[f.name] = v == "true";
        break;
      case Field::Type::image:
        input[f.name] = json::array({v});
        break;
      default:
        input[f.name] = v;
    }
  }
  return input;
}

std::string Catalog::incomplete_field(const Model& model, const json& values) const {
  for (const auto& f : model.fields) {
    if (!values.contains(f.name) || !values[f.name].is_string()) return f.name;
    const auto& v = values[f.name].get_ref<const std::string&>();
    if (f.type == Field::Type::prompt) {
      auto n = utf8_length(v);
      if (n < f.min_length || n > f.max_length) return f.name;
    }
    if (f.type == Field::Type::choice) {
      bool known = false;
      for (const auto& o : f.options) known = known || o == v;
      if (!known) return f.name;
    }
    if (v.empty()) return f.name;
  }
  return {};
}

const Catalog& builtin_catalog() {
  static const Catalog catalog = Catalog::parse(kCatalogJson);
  return catalog;
}

}  // namespace kiebot::catalog
