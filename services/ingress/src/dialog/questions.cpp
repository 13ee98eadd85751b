// The form's questions (see questions.hpp).
#include "questions.hpp"

#include <stdexcept>

namespace kiebot::dialog {

namespace {

using T = Field::Type;

std::string key_of(const Field& f) {
  return f.label.empty() ? f.name : f.label;
}

const char* emoji(const Field& f) {
  switch (f.type) {
    case T::number: return "🔢";
    case T::image: return "📎";
    case T::audio: return "🎙";
    case T::video: return "🎬";
    default: return "✍️";
  }
}

// The limits, generated from the type and range, with the sentence's end.
std::string limits(const Texts& texts, const std::string& lang, const Field& f, std::size_t received) {
  switch (f.type) {
    case T::prompt:
    case T::text:
      if (f.min_length > 1) {
        return texts.format(lang, "form.limit_length",
                            {{"min", std::to_string(f.min_length)}, {"max", std::to_string(f.max_length)}});
      }
      return texts.format(lang, "form.limit_chars", {{"max", std::to_string(f.max_length)}});
    case T::number:
      return texts.format(lang, f.kie == Field::Kie::integer ? "form.limit_integer" : "form.limit_number",
                          {{"min", catalog::number_text(f.min)}, {"max", catalog::number_text(f.max)}});
    case T::image:
      if (f.max_files > 1) {
        return texts.format(lang, "form.limit_images",
                            {{"max", std::to_string(f.max_files)}, {"count", std::to_string(received)}});
      }
      return texts.get(lang, "form.limit_image");
    case T::audio: return texts.get(lang, "form.limit_audio");
    case T::video: return texts.get(lang, "form.limit_video");
    default: return ".";
  }
}

}  // namespace

bool has_question(const Field& field) {
  return field.asked() || field.type == T::number;
}

std::string question_key(const Texts& texts, std::string_view lang, const Model& model, const Field& field) {
  auto key = key_of(field);
  for (const auto& scope : {model.code + ".", model.category + "."}) {
    auto scoped = "ask." + scope + key;
    if (texts.has(lang, scoped)) return scoped;
  }
  return "ask." + key;
}

std::string question(const Texts& texts, const std::string& lang, const Model& model, const Field& field,
                     std::size_t files_received) {
  auto text = std::string(emoji(field)) + " " + texts.get(lang, question_key(texts, lang, model, field)) +
              limits(texts, lang, field, files_received);
  bool skippable = !field.required && (field.type == T::text || (field.type == T::number && field.options.empty()));
  if (skippable) text += "\n" + texts.get(lang, "form.skip_hint");
  return text;
}

std::vector<std::string> missing_form_texts(const Catalog& catalog, const Texts& texts) {
  std::vector<std::string> out;
  for (const auto& m : catalog.models()) {
    for (const auto& f : m.fields) {
      for (const char* lang : {"ru", "en"}) {
        if (has_question(f) && !texts.has(lang, question_key(texts, lang, m, f))) {
          out.push_back(m.id + "." + f.name + ": no " + question_key(texts, lang, m, f) + " in " + lang);
        }
        bool headed = f.has_buttons() || f.type == T::text;  // a button row's header, the confirmation's summary
        if (headed && !texts.has(lang, f.text_key())) out.push_back(m.id + "." + f.name + ": no " + f.text_key() + " in " + lang);
      }
    }
  }
  return out;
}

void check_form_texts(const Catalog& catalog, const Texts& texts) {
  auto missing = missing_form_texts(catalog, texts);
  if (missing.empty()) return;
  std::string what = "the form's texts are incomplete:";
  for (const auto& line : missing) what += "\n  " + line;
  throw std::invalid_argument(what);
}

}  // namespace kiebot::dialog
