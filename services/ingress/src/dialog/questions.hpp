// The form's question for each field it asks (typed texts, typed numbers,
// files), in the user's language: the field's own text, which says what it
// is, and its limits, generated from its type and range ("🔢 Strength: ...
// (from 0 to 1)."). Buttons are headed by the field's name (field.<key>).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "catalog.hpp"
#include "texts.hpp"

namespace kiebot::dialog {

// The key of what the field is: "ask.<model code>.<key>", else
// "ask.<category>.<key>", else "ask.<key>" (key: the field's label or name),
// the first the locale has ("ask.<key>" when none has it).
std::string question_key(const Texts& texts, std::string_view lang, const Model& model, const Field& field);
// The question, with the files received so far for a field taking several.
std::string question(const Texts& texts, const std::string& lang, const Model& model, const Field& field,
                     std::size_t files_received = 0);
// Whether the form asks the field with a question of its own: typed texts,
// files and numbers (typed, with or without presets).
bool has_question(const Field& field);
// What the catalog's forms need and a locale lacks, one line each:
// "<model id>.<field>: no ask.<key> in ru" (questions), or "... no field.<key> in en" (button headers).
std::vector<std::string> missing_form_texts(const Catalog& catalog, const Texts& texts);
// Throws std::invalid_argument listing missing_form_texts (the dialog's start check).
void check_form_texts(const Catalog& catalog, const Texts& texts);

}  // namespace kiebot::dialog
