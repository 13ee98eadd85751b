// Parsing and pricing of the model catalog (see catalog.hpp).
#include "kiebot/catalog/catalog.hpp"

#include "kiebot/base/json.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
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

Field::Kie kie_type(const json& j, Field::Kie fallback, const std::string& where) {
  if (!j.contains("kie")) return fallback;
  static const std::pair<const char*, Field::Kie> kNames[] = {
      {"string", Field::Kie::string}, {"integer", Field::Kie::integer}, {"number", Field::Kie::number},
      {"boolean", Field::Kie::boolean}, {"url", Field::Kie::url},       {"url_array", Field::Kie::url_array}};
  auto name = j.at("kie").get<std::string>();
  for (const auto& [n, k] : kNames) {
    if (name == n) return k;
  }
  invalid(where, "unknown kie type " + name);
}

void check_kie_type(const Field& f, const std::string& where) {
  using K = Field::Kie;
  bool ok = false;
  switch (f.type) {
    case Field::Type::prompt: ok = f.kie == K::string; break;
    case Field::Type::choice: ok = f.kie == K::string || f.kie == K::integer || f.kie == K::number; break;
    case Field::Type::boolean: ok = f.kie == K::boolean; break;
    case Field::Type::image: ok = f.kie == K::url || f.kie == K::url_array; break;
  }
  if (!ok) invalid(where, "this kie type does not fit the field's type");
  if (f.type == Field::Type::choice && f.kie != K::string) {
    for (const auto& o : f.options) {
      double x = 0;
      auto [end, ec] = std::from_chars(o.data(), o.data() + o.size(), x);
      if (ec != std::errc() || end != o.data() + o.size() || (f.kie == K::integer && std::floor(x) != x))
        invalid(where, "option " + o + " is not a " + (f.kie == K::integer ? "integer" : "number"));
    }
  }
}

Field parse_field(const json& j, const std::string& model) {
  Field f;
  f.name = j.at("name").get<std::string>();
  auto where = model + "." + f.name;
  auto type = j.at("type").get<std::string>();
  if (type == "prompt") {
    f.type = Field::Type::prompt;
    f.min_length = j.value("min_length", std::size_t{1});
    f.max_length = j.at("max_length").get<std::size_t>();
  } else if (type == "choice") {
    f.type = Field::Type::choice;
    f.options = j.at("options").get<std::vector<std::string>>();
    f.default_value = j.at("default").get<std::string>();
    if (f.options.empty() || f.options.size() > 12) invalid(where, "1-12 options");
    bool known = false;
    for (const auto& o : f.options) known = known || o == f.default_value;
    if (!known) invalid(where, "default is not an option");
    if (j.contains("labels")) f.labels = j["labels"].get<std::map<std::string, std::string>>();
    for (const auto& [option, label] : f.labels) {
      if (std::find(f.options.begin(), f.options.end(), option) == f.options.end())
        invalid(where, "a label for " + option + ", which is not an option");
    }
  } else if (type == "boolean") {
    f.type = Field::Type::boolean;
    f.default_value = j.at("default").get<bool>() ? "true" : "false";
  } else if (type == "image") {
    f.type = Field::Type::image;
    if (!j.contains("kie")) invalid(where, "an image says how KIE takes it (kie: url or url_array)");
    f.max_files = j.value("max_files", std::size_t{1});
    if (f.max_files < 1) invalid(where, "max_files must be at least 1");
  } else {
    invalid(where, "unknown type " + type);
  }
  auto fallback = f.type == Field::Type::boolean ? Field::Kie::boolean : Field::Kie::string;
  f.kie = kie_type(j, fallback, where);
  check_kie_type(f, where);
  bool asked = f.type == Field::Type::prompt || f.type == Field::Type::image;
  f.required = j.value("required", asked);
  return f;
}

bool is_url(const json& v) {
  if (!v.is_string()) return false;
  const auto& s = v.get_ref<const std::string&>();
  return (s.rfind("https://", 0) == 0 || s.rfind("http://", 0) == 0) && s.size() <= 2048;
}

// A KIE value's form (string) value, or "" when it has the wrong JSON type.
std::string form_value(const Field& f, const json& v) {
  using K = Field::Kie;
  switch (f.kie) {
    case K::string:
    case K::url:
      return v.is_string() ? v.get<std::string>() : "";
    case K::boolean:
      return v.is_boolean() ? (v.get<bool>() ? "true" : "false") : "";
    case K::integer:
      return v.is_number_integer() ? std::to_string(v.get<std::int64_t>()) : "";
    case K::number:
      if (v.is_number_integer()) return std::to_string(v.get<std::int64_t>());
      if (!v.is_number_float()) return "";
      for (const auto& o : f.options) {
        double x = 0;
        std::from_chars(o.data(), o.data() + o.size(), x);
        if (x == v.get<double>()) return o;
      }
      return v.dump();
    case K::url_array:
      return v.is_array() && v.size() == 1 && v[0].is_string() ? v[0].get<std::string>() : "";
  }
  return "";
}

std::string expected(const Field& f) {
  using K = Field::Kie;
  switch (f.kie) {
    case K::url: return "a URL";
    case K::url_array: return "an array of 1.." + std::to_string(f.max_files) + " URL";
    case K::boolean: return "a boolean";
    case K::integer: return "an integer";
    case K::number: return "a number";
    case K::string: break;
  }
  return "a string";
}

std::string value_problem(const Field& f, const json& v) {
  auto at = "input." + f.name + ": ";
  if (f.kie == Field::Kie::url_array) {
    bool ok = v.is_array() && !v.empty() && v.size() <= f.max_files;
    for (const auto& item : v) ok = ok && is_url(item);
    return ok ? "" : at + "expected " + expected(f);
  }
  if (f.kie == Field::Kie::url && !is_url(v)) return at + "expected a URL";
  auto value = form_value(f, v);
  if (value.empty()) return at + "expected " + expected(f);
  if (f.type == Field::Type::prompt) {
    auto n = utf8_length(value);
    if (n < f.min_length || n > f.max_length)
      return at + "expected " + std::to_string(f.min_length) + ".." + std::to_string(f.max_length) + " characters";
  }
  if (f.type == Field::Type::choice) {
    bool known = false;
    for (const auto& o : f.options) known = known || o == value;
    if (!known) {
      std::string list;
      for (const auto& o : f.options) list += (list.empty() ? "" : ", ") + o;
      return at + "expected one of " + list;
    }
  }
  return "";
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

bool Catalog::is_free(const Model& model, const json& values) const {
  return model.free && matches(PriceRule{model.free_when, 0}, values);
}

std::int64_t Catalog::admin_price(const Model& model, const json& values) const {
  return (price(model, values) + admin_divisor_ - 1) / admin_divisor_;
}

json Catalog::kie_input(const Model& model, const json& values) const {
  using K = Field::Kie;
  json input = json::object();
  for (const auto& f : model.fields) {
    if (!values.contains(f.name) || !values[f.name].is_string()) continue;
    const auto& v = values[f.name].get_ref<const std::string&>();
    switch (f.kie) {
      case K::boolean:
        input[f.name] = v == "true";
        break;
      case K::url_array:
        input[f.name] = json::array({v});
        break;
      case K::integer: {
        std::int64_t n = 0;
        auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
        if (ec == std::errc() && end == v.data() + v.size()) input[f.name] = n;
        break;
      }
      case K::number: {
        double x = 0;
        auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
        if (ec == std::errc() && end == v.data() + v.size()) input[f.name] = x;
        break;
      }
      case K::string:
      case K::url:
        input[f.name] = v;
    }
  }
  return input;
}

json Catalog::form_values(const Model& model, const json& input) const {
  json values = json::object();
  if (!input.is_object()) return values;
  for (const auto& f : model.fields) {
    auto it = input.find(f.name);
    if (it == input.end()) continue;
    auto value = form_value(f, *it);
    if (!value.empty()) values[f.name] = std::move(value);
  }
  return values;
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
    if (auto problem = value_problem(f, *it); !problem.empty()) return problem;
  }
  return "";
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
