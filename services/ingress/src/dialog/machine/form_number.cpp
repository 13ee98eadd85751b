// Typed numbers in the form: "type a value" under a number field's presets,
// and number fields without presets, asked in turn like a text. The value is
// checked against the model's range (and integer-ness) as KIE documents it;
// anything else gets one message naming the range, and the question again.
#include "form.hpp"

#include "../questions.hpp"

namespace kiebot::dialog::machine {

namespace {

// An example of a good value for the refusal: the default, a preset, or the minimum.
std::string example_of(const Field& f) {
  if (!f.default_value.empty()) return f.default_value;
  if (!f.options.empty()) return f.options.front();
  return catalog::number_text(f.min);
}

}  // namespace

Step on_type_value(const Conversation& c, Step s, const Model& model, std::size_t field_index, const Context& ctx) {
  if (field_index >= model.fields.size() || model.fields[field_index].type != Field::Type::number) {
    answer(s, ctx, tr(ctx, c, "expired"));
    return s;
  }
  answer(s, ctx);
  const auto& f = model.fields[field_index];
  auto& next = s.next;
  next.form->asking = f.name;
  next.screen = ScreenId::form_number;
  s.effects.push_back(Send{ask_screen(ctx, next, f)});
  return s;
}

// A typed text where the form asked for a number.
Step on_number_text(const Conversation& c, const Event& e, const Context& ctx) {
  const auto* model = form_model(c, ctx);
  const auto* f = model ? asked_field(*model, *c.form) : nullptr;
  if (f == nullptr || f->type != Field::Type::number) return to_menu(c, ctx, tr(ctx, c, "expired"), true);
  auto value = catalog::typed_number(*f, std::get<TextIn>(e).text);
  if (!value) {
    auto key = f->kie == Field::Kie::integer ? "form.integer_invalid" : "form.number_invalid";
    auto said = tr(ctx, c, key,
                   {{"min", catalog::number_text(f->min)}, {"max", catalog::number_text(f->max)}, {"example", example_of(*f)}});
    auto again = ask_screen(ctx, c, *f);
    again.text = said + "\n\n" + again.text;
    return Step{c, {Send{std::move(again)}}};
  }
  auto next = c;
  next.form->values[f->name] = *value;
  next.form->asking.clear();
  // A value for a row of presets goes back to the parameters; one asked in turn goes on.
  if (!f->options.empty()) return params_again(std::move(next), ctx, *model);
  return next_step(std::move(next), ctx);
}

}  // namespace kiebot::dialog::machine
