// A catalog field's rules (see fields.hpp).
#include "fields.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace kiebot::catalog::detail {

using nlohmann::json;
using K = Field::Kie;
using T = Field::Type;

namespace {

K kie_type(const json& j, K fallback, const std::string& where) {
  if (!j.contains("kie")) return fallback;
  static const std::pair<const char*, K> kNames[] = {{"string", K::string},   {"integer", K::integer},
                                                     {"number", K::number},   {"boolean", K::boolean},
                                                     {"url", K::url},         {"url_array", K::url_array}};
  auto name = j.at("kie").get<std::string>();
  for (const auto& [n, k] : kNames) {
    if (name == n) return k;
  }
  invalid(where, "unknown kie type " + name);
}

T type_named(const std::string& name, const std::string& where) {
  static const std::pair<const char*, T> kNames[] = {{"prompt", T::prompt}, {"text", T::text},   {"choice", T::choice},
                                                     {"boolean", T::boolean}, {"number", T::number}, {"image", T::image},
                                                     {"audio", T::audio},   {"video", T::video},
                                                     {"const", T::constant}};
  for (const auto& [n, t] : kNames) {
    if (name == n) return t;
  }
  invalid(where, "unknown type " + name);
}

std::optional<double> number_of(std::string_view s) {
  double x = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), x);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(x)) return std::nullopt;
  return x;
}

bool is_url(const json& v) {
  if (!v.is_string()) return false;
  const auto& s = v.get_ref<const std::string&>();
  return (s.rfind("https://", 0) == 0 || s.rfind("http://", 0) == 0) && s.size() <= 2048;
}

void check_kie_type(const Field& f, const std::string& where) {
  bool ok = false;
  switch (f.type) {
    case T::prompt:
    case T::text: ok = f.kie == K::string; break;
    case T::choice: ok = f.kie == K::string || f.kie == K::integer || f.kie == K::number; break;
    case T::number: ok = f.kie == K::integer || f.kie == K::number; break;
    case T::boolean: ok = f.kie == K::boolean; break;
    case T::image:
    case T::audio:
    case T::video: ok = f.kie == K::url || f.kie == K::url_array; break;
    case T::constant: ok = true; break;
  }
  if (!ok) invalid(where, "this kie type does not fit the field's type");
  if (f.kie == K::url && f.max_files != 1) invalid(where, "a url field takes one file");
  if (f.kie != K::integer && f.kie != K::number) return;
  for (const auto& o : f.options) {
    auto x = number_of(o);
    if (!x || (f.kie == K::integer && std::floor(*x) != *x)) invalid(where, "option " + o + " is not a " + (f.kie == K::integer ? "integer" : "number"));
    if (f.type == T::number && (*x < f.min || *x > f.max)) invalid(where, "preset " + o + " is outside min..max");
  }
}

void parse_options(Field& f, const json& j, const std::string& where, const char* key) {
  f.options = j.value(key, std::vector<std::string>{});
  if (f.type == T::choice && f.options.empty()) invalid(where, "a choice needs options");
  if (f.options.size() > 12) invalid(where, "at most 12 options");
  if (j.contains("default")) f.default_value = j["default"].get<std::string>();
  if (f.type == T::choice && f.default_value.empty()) invalid(where, "a choice needs a default");
  if (!f.default_value.empty() && std::find(f.options.begin(), f.options.end(), f.default_value) == f.options.end())
    invalid(where, "default is not an option");
  if (j.contains("labels")) f.labels = j["labels"].get<std::map<std::string, std::string>>();
  for (const auto& [option, label] : f.labels) {
    if (std::find(f.options.begin(), f.options.end(), option) == f.options.end())
      invalid(where, "a label for " + option + ", which is not an option");
  }
}

std::string expected(const Field& f) {
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

std::string option_list(const Field& f) {
  std::string list;
  for (const auto& o : f.options) list += (list.empty() ? "" : ", ") + o;
  return list;
}

// The problem of a form (string) value, without the "input.<name>: " prefix.
std::string string_problem(const Field& f, const std::string& value) {
  if (f.type == T::prompt || f.type == T::text) {
    auto n = utf8_length(value);
    if (n < f.min_length || n > f.max_length)
      return "expected " + std::to_string(f.min_length) + ".." + std::to_string(f.max_length) + " characters";
  }
  if (f.type == T::choice && std::find(f.options.begin(), f.options.end(), value) == f.options.end())
    return "expected one of " + option_list(f);
  if (f.type == T::number) {
    auto x = number_of(value);
    if (!x || (f.kie == K::integer && std::floor(*x) != *x) || *x < f.min || *x > f.max)
      return "expected " + std::string(f.kie == K::integer ? "an integer" : "a number") + " in " + number_text(f.min) +
             ".." + number_text(f.max);
  }
  return "";
}

}  // namespace

void invalid(const std::string& where, const std::string& what) {
  throw std::invalid_argument("catalog: " + where + ": " + what);
}

Field parse_field(const json& j, const std::string& model) {
  Field f;
  f.name = j.at("name").get<std::string>();
  auto where = model + "." + f.name;
  f.type = type_named(j.at("type").get<std::string>(), where);
  switch (f.type) {
    case T::prompt:
    case T::text:
      f.min_length = j.value("min_length", std::size_t{1});
      f.max_length = j.at("max_length").get<std::size_t>();
      if (f.min_length < 1 || f.min_length > f.max_length) invalid(where, "1 <= min_length <= max_length");
      break;
    case T::choice:
      parse_options(f, j, where, "options");
      break;
    case T::number:
      f.min = j.at("min").get<double>();
      f.max = j.at("max").get<double>();
      if (f.min > f.max) invalid(where, "min above max");
      // Whole numbers a double holds exactly: a typed integer converts without loss.
      if (std::fabs(f.min) > 9007199254740992.0 || std::fabs(f.max) > 9007199254740992.0) invalid(where, "min and max within ±2^53");
      parse_options(f, j, where, "presets");
      break;
    case T::boolean:
      f.default_value = j.at("default").get<bool>() ? "true" : "false";
      break;
    case T::constant:
      f.constant = j.at("value");
      if (!f.constant.is_boolean() && !f.constant.is_string() && !f.constant.is_number()) invalid(where, "a constant is a boolean, string or number");
      break;
    case T::image:
    case T::audio:
    case T::video:
      if (!j.contains("kie")) invalid(where, "a file says how KIE takes it (kie: url or url_array)");
      f.max_files = j.value("max_files", std::size_t{1});
      if (f.max_files < 1 || f.max_files > 10) invalid(where, "max_files must be 1..10");
      break;
  }
  auto fallback = f.type == T::boolean || f.constant.is_boolean() ? K::boolean
                  : f.constant.is_number_integer()                ? K::integer
                  : f.constant.is_number()                        ? K::number
                                                                  : K::string;
  f.kie = kie_type(j, fallback, where);
  check_kie_type(f, where);
  f.label = j.value("label", std::string());
  // Typed texts and numbers are optional unless the model says so; the
  // description, files and constants are required.
  bool typed = f.type == T::text || f.type == T::number;
  f.required = j.value("required", (f.asked() && !typed) || f.type == T::constant);
  return f;
}

json to_kie(const Field& f, const json& value) {
  if (f.type == T::constant) return f.constant;
  if (f.kie == K::url_array) {
    if (value.is_string()) return json::array({value});
    return value.is_array() ? value : json();
  }
  if (!value.is_string()) return json();
  const auto& v = value.get_ref<const std::string&>();
  if (v.empty() && !f.required) return json();  // an optional text the user skipped
  switch (f.kie) {
    case K::boolean:
      return v == "true";
    case K::integer: {
      std::int64_t n = 0;
      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      return ec == std::errc() && end == v.data() + v.size() ? json(n) : json();
    }
    case K::number: {
      auto x = number_of(v);
      if (!x) return json();
      if (std::floor(*x) == *x && std::fabs(*x) < 1e15) return json(static_cast<std::int64_t>(*x));
      return json(*x);
    }
    default:
      return v;
  }
}

std::string form_value(const Field& f, const json& v) {
  switch (f.kie) {
    case K::string:
      return v.is_string() ? v.get<std::string>() : "";
    case K::boolean:
      return v.is_boolean() ? (v.get<bool>() ? "true" : "false") : "";
    case K::integer:
      return v.is_number_integer() ? std::to_string(v.get<std::int64_t>()) : "";
    case K::number:
      if (v.is_number_integer()) return std::to_string(v.get<std::int64_t>());
      if (!v.is_number_float()) return "";
      for (const auto& o : f.options) {
        if (number_of(o) == v.get<double>()) return o;
      }
      return number_text(v.get<double>());
    case K::url:
    case K::url_array:
      return "";
  }
  return "";
}

std::string value_problem(const Field& f, const json& v) {
  auto at = "input." + f.name + ": ";
  if (f.type == T::constant) return v == f.constant ? "" : at + "expected " + f.constant.dump();
  if (f.kie == K::url_array) {
    bool ok = v.is_array() && !v.empty() && v.size() <= f.max_files;
    for (const auto& item : v) ok = ok && is_url(item);
    return ok ? "" : at + "expected " + expected(f);
  }
  if (f.kie == K::url) return is_url(v) ? "" : at + "expected a URL";
  auto value = form_value(f, v);
  if (value.empty()) return at + "expected " + expected(f);
  auto problem = string_problem(f, value);
  return problem.empty() ? "" : at + problem;
}

bool form_value_ok(const Field& f, const json& value) {
  if (f.type == T::constant) return true;
  if (f.is_file()) {
    if (value.is_string()) return is_url(value);
    if (!value.is_array() || value.empty() || value.size() > f.max_files) return false;
    return std::all_of(value.begin(), value.end(), is_url);
  }
  if (!value.is_string()) return false;
  if (value.get_ref<const std::string&>().empty()) {
    return (f.type == T::text || f.type == T::number) && !f.required;  // skipped
  }
  if (f.type == T::boolean) return value == "true" || value == "false";
  return string_problem(f, value.get<std::string>()).empty();
}

}  // namespace kiebot::catalog::detail
