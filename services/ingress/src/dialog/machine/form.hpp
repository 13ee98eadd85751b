// What the form's handlers share (form.cpp, form_number.cpp). Internal to the machine.
#pragma once

#include "handlers.hpp"

namespace kiebot::dialog::machine {

const Model* form_model(const Conversation& c, const Context& ctx);
// The field the form asks for now: a number being typed, one still taking
// files (several, until Done or the maximum), else the first without a
// value: the description, other texts and numbers without presets, files.
const Field* asked_field(const Model& model, const Form& form);
// The field's question with its buttons (Skip, Done, Back to the parameters).
Screen ask_screen(const Context& ctx, const Conversation& c, const Field& f);
// What the form needs next: a typed text or number, a file, or the price
// confirmation (which asks accounts who pays).
Step next_step(Conversation c, const Context& ctx, Step s = {});
// The parameters' buttons as a new message (after a typed value).
Step params_again(Conversation c, const Context& ctx, const Model& model);
// "Type a value" pressed under a number field's presets.
Step on_type_value(const Conversation& c, Step s, const Model& model, std::size_t field_index, const Context& ctx);

}  // namespace kiebot::dialog::machine
