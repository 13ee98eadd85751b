// A catalog field's rules (internal to libs/catalog): reading it from
// models.json, and its values in the three forms they take: the form's
// (strings; a list of URLs for several files), KIE's (the JSON type KIE
// documents) and a public job's input (KIE's, checked).
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "kiebot/catalog/catalog.hpp"

namespace kiebot::catalog::detail {

[[noreturn]] void invalid(const std::string& where, const std::string& what);

Field parse_field(const nlohmann::json& j, const std::string& model);

// The form's value in KIE's JSON type; null when it cannot be converted.
nlohmann::json to_kie(const Field& f, const nlohmann::json& value);
// KIE's value as the form's string, "" when it has the wrong type (files:
// the form keeps no string for them).
std::string form_value(const Field& f, const nlohmann::json& kie_value);
// What is wrong with a job input's value ("input.<name>: expected ..."), "" when valid.
std::string value_problem(const Field& f, const nlohmann::json& kie_value);
// Whether the form's value is a complete, valid one.
bool form_value_ok(const Field& f, const nlohmann::json& value);

}  // namespace kiebot::catalog::detail
