// The generation form in the reducer: model -> parameters -> prompt ->
// photo -> confirmation -> Submit (the interpreter holds the money and
// publishes the job).
#include "form.hpp"

#include "../questions.hpp"
#include "payer.hpp"

namespace kiebot::dialog::machine {

using nlohmann::json;

namespace {

bool has_buttons(const Model& model) {
  for (const auto& f : model.fields) {
    if (f.has_buttons()) return true;
  }
  return false;
}

constexpr std::int64_t kMaxDownload = 20 << 20;  // what a bot may download with getFile

std::size_t files_in(const json& value) {
  return value.is_array() ? value.size() : value.is_string() ? 1 : 0;
}

bool skippable(const Field& f) {
  return !f.required && (f.type == Field::Type::text || (f.type == Field::Type::number && f.options.empty()));
}

// "Skip" on an optional text or number, "Done" after some of several files,
// "Next" under a number being typed for a row of presets (its value stays).
Step go_on(const Conversation& c, const Context& ctx, Step s) {
  const auto* model = form_model(c, ctx);
  const auto* f = model ? asked_field(*model, *c.form) : nullptr;
  auto next = s.next;
  bool typing = c.screen == ScreenId::form_text || c.screen == ScreenId::form_number;
  if (f && typing && skippable(*f)) {
    next.form->values[f->name] = "";  // skipped: not sent to KIE
    next.form->asking.clear();
  } else if (f && c.screen == ScreenId::form_file && files_in(next.form->values.value(f->name, json())) > 0) {
    next.form->asking.clear();
  } else if (c.screen == ScreenId::form_number) {
    next.form->asking.clear();
  }
  return next_step(std::move(next), ctx, std::move(s));
}

Step open_form(Conversation c, const Context& ctx, const Model& model, json values, ScreenId at) {
  c.form = Form{ctx.nonce, model.code, std::move(values), 0};
  c.screen = at;
  if (at != ScreenId::form_params || !has_buttons(model)) return next_step(std::move(c), ctx);
  auto screen = ctx.screens.form(c.lang, model, c.form->values, c.form->nonce);
  return Step{std::move(c), {Show{std::move(screen)}}};
}

}  // namespace

const Model* form_model(const Conversation& c, const Context& ctx) {
  return c.form ? ctx.catalog.by_code(c.form->model) : nullptr;
}

const Field* asked_field(const Model& model, const Form& form) {
  if (!form.asking.empty()) {
    const auto* f = model.field(form.asking);
    if (f && f->type == Field::Type::number) return f;
    if (f && f->is_file() && files_in(form.values.value(f->name, json())) < f->max_files) return f;
  }
  // The description first, then other texts and typed numbers, then files.
  for (auto kind : {0, 1, 2}) {
    for (const auto& f : model.fields) {
      int k = f.type == Field::Type::prompt ? 0 : f.is_file() ? 2 : 1;
      if (k == kind && f.asked() && !form.values.contains(f.name)) return &f;
    }
  }
  return nullptr;
}

Screen ask_screen(const Context& ctx, const Conversation& c, const Field& f) {
  const auto* model = form_model(c, ctx);
  auto got = files_in(c.form->values.value(f.name, json()));
  auto text = question(ctx.texts, c.lang, *model, f, got);
  if (skippable(f)) return ctx.screens.ask(c.lang, std::move(text), c.form->nonce, "btn.skip");
  // A number typed for a row of presets: back to the parameters keeps the value it had.
  if (f.type == Field::Type::number) return ctx.screens.ask(c.lang, std::move(text), c.form->nonce, "", true);
  if (f.type == Field::Type::image && f.max_files > 1) {
    return ctx.screens.ask(c.lang, std::move(text), c.form->nonce, got > 0 ? "btn.done" : "");
  }
  return with_menu(ctx, c, std::move(text));
}

Step next_step(Conversation c, const Context& ctx, Step s) {
  const auto* model = form_model(c, ctx);
  if (model == nullptr) return to_menu(c, ctx, tr(ctx, c, "expired"), true);
  if (const auto* f = asked_field(*model, *c.form)) {
    c.screen = f->is_file() ? ScreenId::form_file : f->type == Field::Type::number ? ScreenId::form_number : ScreenId::form_text;
    c.form->asking = f->name;
    s.effects.push_back(Send{ask_screen(ctx, c, *f)});
  } else {
    c.form->asking.clear();
    c.screen = ScreenId::form_confirm;
    s.effects.push_back(Ask{Need::confirm, ctx.user_id});
  }
  s.next = std::move(c);
  return s;
}

Step params_again(Conversation c, const Context& ctx, const Model& model) {
  c.form->asking.clear();
  c.screen = ScreenId::form_params;
  auto screen = ctx.screens.form(c.lang, model, c.form->values, c.form->nonce);
  return Step{std::move(c), {Send{std::move(screen)}}};
}

Step on_model(const Conversation& c, const Event& e, const Context& ctx) {
  const auto* model = ctx.catalog.by_code(std::get<PressIn>(e).press.arg(0));
  if (model == nullptr) return expired(c, ctx);
  Step s{c, {}};
  answer(s, ctx);
  auto opened = open_form(c, ctx, *model, model->default_values(), ScreenId::form_params);
  for (auto& effect : opened.effects) s.effects.push_back(std::move(effect));
  s.next = std::move(opened.next);
  return s;
}

Step on_form_press(const Conversation& c, const Event& e, const Context& ctx) {
  const auto& p = std::get<PressIn>(e).press;
  const auto* model = form_model(c, ctx);
  // A button of a form that was finished, cancelled or replaced.
  if (model == nullptr || c.form->nonce != p.arg(0)) return expired(c, ctx);
  Step s{c, {}};
  auto& form = *s.next.form;
  // A parameter's button, also while a number is being typed: back on the parameters.
  if (p.verb == Verb::option || p.verb == Verb::toggle || p.verb == Verb::edit) form.asking.clear();
  switch (p.verb) {
    case Verb::type_value:
      return on_type_value(c, std::move(s), *model, p.index(1), ctx);
    case Verb::option:
    case Verb::toggle: {
      auto fi = p.index(1);
      if (fi >= model->fields.size()) {
        answer(s, ctx, tr(ctx, c, "expired"));
        return s;
      }
      const auto& f = model->fields[fi];
      if (p.verb == Verb::toggle && f.type == Field::Type::boolean) {
        form.values[f.name] = form.values.value(f.name, "false") == "true" ? "false" : "true";
      } else if (p.verb == Verb::option && (f.type == Field::Type::choice || f.type == Field::Type::number) &&
                 p.index(2) < f.options.size()) {
        form.values[f.name] = f.options[p.index(2)];
      }
      answer(s, ctx);
      s.next.screen = ScreenId::form_params;
      s.effects.push_back(Show{ctx.screens.form(c.lang, *model, form.values, form.nonce)});
      return s;
    }
    case Verb::next:
      answer(s, ctx);
      return go_on(c, ctx, std::move(s));
    case Verb::edit:
      answer(s, ctx);
      s.next.screen = ScreenId::form_params;
      s.effects.push_back(Show{ctx.screens.form(c.lang, *model, form.values, form.nonce)});
      return s;
    case Verb::cancel: {
      auto said = tr(ctx, c, "form.cancelled");
      answer(s, ctx, said);
      auto menu = to_menu(c, ctx, said);
      for (auto& effect : menu.effects) s.effects.push_back(std::move(effect));
      s.next = std::move(menu.next);
      return s;
    }
    default:  // confirm
      answer(s, ctx);
      if (c.screen != ScreenId::form_confirm || !ctx.catalog.incomplete_field(*model, form.values).empty()) {
        auto next = s.next;
        return next_step(std::move(next), ctx, std::move(s));
      }
      // One job per form: a retried update finds the same hold and job id.
      s.effects.push_back(Submit{"dlg-" + std::to_string(ctx.user_id) + "-" + form.nonce, model->code, form.values,
                                 form.reply_to, form.files});
      return s;
  }
}

// A typed text where the form asked for one: the prompt or another text.
Step on_prompt_text(const Conversation& c, const Event& e, const Context& ctx) {
  const auto* model = form_model(c, ctx);
  const auto* f = model ? asked_field(*model, *c.form) : nullptr;
  if (f == nullptr || f->is_file()) return to_menu(c, ctx, tr(ctx, c, "unknown.text"));
  if (f->type == Field::Type::number) return on_number_text(c, e, ctx);
  const auto& text = std::get<TextIn>(e).text;
  auto length = utf8_length(text);
  if (length > f->max_length || length < f->min_length) {
    auto key = length > f->max_length ? "form.prompt_too_long" : "form.prompt_too_short";
    auto said = tr(ctx, c, key,
                   {{"max", std::to_string(f->max_length)},
                    {"min", std::to_string(f->min_length)},
                    {"length", std::to_string(length)}});
    return Step{c, {Send{with_menu(ctx, c, std::move(said))}}};
  }
  auto next = c;
  next.form->values[f->name] = text;
  if (f->type == Field::Type::prompt) next.form->reply_to = ctx.message_id;  // the result answers the description
  return next_step(std::move(next), ctx);
}

Step on_form_text(const Conversation& c, const Event&, const Context& ctx) {
  return Step{c, {Send{with_menu(ctx, c, tr(ctx, c, "form.use_buttons"))}}};
}

Step on_file_text(const Conversation& c, const Event&, const Context& ctx) {
  const auto* model = form_model(c, ctx);
  const auto* f = model ? asked_field(*model, *c.form) : nullptr;
  if (f == nullptr) return to_menu(c, ctx, tr(ctx, c, "expired"), true);
  return Step{c, {Send{ask_screen(ctx, c, *f)}}};
}

// A file where the form asked for one: the right kind and size goes to
// KIE's storage (FileUploaded comes back with its URL).
Step on_file(const Conversation& c, const Event& e, const Context& ctx) {
  const auto* model = form_model(c, ctx);
  const auto* f = model && c.screen == ScreenId::form_file ? asked_field(*model, *c.form) : nullptr;
  if (f == nullptr || !f->is_file()) return to_menu(c, ctx, tr(ctx, c, "unknown.photo"));
  const auto& file = std::get<FileIn>(e);
  auto media = media_of(file);
  auto wanted = f->type == Field::Type::image ? "image" : f->type == Field::Type::audio ? "audio" : "video";
  if (media != wanted) return Step{c, {Send{ask_screen(ctx, c, *f)}}};
  if (file.size > kMaxDownload) {
    auto said = tr(ctx, c, "form.file_too_large", {{"mb", std::to_string((file.size + (1 << 20) - 1) >> 20)}});
    return Step{c, {Send{with_menu(ctx, c, std::move(said))}}};
  }
  auto extension = media == "image" ? (file.mime_type == "image/png" ? ".png" : file.mime_type == "image/webp" ? ".webp" : ".jpg")
                   : media == "audio" ? (file.kind == FileIn::Kind::voice ? ".ogg" : ".mp3")
                                      : ".mp4";
  return Step{c, {UploadFile{file.file_id, f->name + extension}}};
}

Step on_file_uploaded(const Conversation& c, const Event& e, const Context& ctx) {
  const auto* model = form_model(c, ctx);
  const auto* f = model ? asked_field(*model, *c.form) : nullptr;
  const auto& uploaded = std::get<FileUploaded>(e);
  const auto& url = uploaded.url;
  if (f == nullptr || !f->is_file()) return to_menu(c, ctx, tr(ctx, c, "expired"), true);
  if (url.empty()) return Step{c, {Send{with_menu(ctx, c, tr(ctx, c, "form.photo_failed"))}}};
  auto next = c;
  if (!uploaded.file_id.empty()) {
    next.form->files[url] = {{"id", uploaded.file_id}, {"name", uploaded.file_name}, {"at", uploaded.uploaded_ms}};
  }
  auto& value = next.form->values[f->name];
  if (f->max_files > 1) {
    if (!value.is_array()) value = json::array();
    value.push_back(url);
  } else {
    value = url;
  }
  return next_step(std::move(next), ctx);
}

Step on_confirm_user(const Conversation& c, const Event& e, const Context& ctx) {
  const auto* model = form_model(c, ctx);
  if (model == nullptr) return to_menu(c, ctx, tr(ctx, c, "expired"), true);
  const auto& user = std::get<Answered>(e).data;
  const auto& values = c.form->values;
  auto payer = payer_for(user, *model, values, ctx.catalog, ctx.texts, c.lang);
  auto balance = user.value("balance", std::int64_t{0});
  Step s{c, {}};
  s.next.screen = ScreenId::form_confirm;
  if (payer.kind.empty()) {
    s.effects.push_back(Send{ctx.screens.insufficient(c.lang, payer.amount, balance)});
    return s;
  }
  auto after = roubles(payer.kind == "paid" ? balance - payer.amount : balance);
  s.effects.push_back(Send{ctx.screens.confirm(c.lang, *model, values, c.form->nonce, payer, after)});
  return s;
}

Step on_repeat_job(const Conversation& c, const Event& e, const Context& ctx) {
  const auto& jobs = std::get<Answered>(e).jobs;
  const Model* model = jobs.empty() ? nullptr : ctx.catalog.by_id(jobs.front().model);
  if (model == nullptr) return to_menu(c, ctx, tr(ctx, c, "expired"));
  // The same model and inputs, and a new price confirmation.
  auto files = jobs.front().files;
  if (jobs.front().status == "failed") {
    // KIE may have failed for want of an upload it no longer keeps: the
    // submission uploads them all again.
    for (auto& f : files) f["at"] = 0;
  }
  auto opened = open_form(c, ctx, *model, jobs.front().values, ScreenId::form_confirm);
  if (opened.next.form) opened.next.form->files = std::move(files);
  return opened;
}

// A file KIE no longer keeps and Telegram no longer gives: the form asks
// for that field's file again.
Step file_gone(const Conversation& c, const Context& ctx, const std::string& field) {
  if (!c.form || !c.form->values.contains(field)) return to_menu(c, ctx, tr(ctx, c, "form.file_gone"), true);
  auto next = c;
  auto& form = *next.form;
  auto value = form.values[field];
  for (const auto& url : value.is_array() ? value : json::array({value})) {
    if (url.is_string()) form.files.erase(url.get<std::string>());
  }
  form.values.erase(field);
  form.asking = field;
  Step s{c, {Send{with_menu(ctx, c, tr(ctx, c, "form.file_gone"))}}};
  return next_step(std::move(next), ctx, std::move(s));
}

Step on_submitted(const Conversation& c, const Event& e, const Context& ctx) {
  const auto& done = std::get<Submitted>(e);
  using R = Submitted::Result;
  switch (done.result) {
    case R::started:
    case R::waiting:
    case R::not_queued: {
      // The job's status message (the saga's) is what the chat shows now.
      auto next = c;
      next.form.reset();
      next.screen = ScreenId::menu;
      return Step{std::move(next), {}};
    }
    case R::too_many:
      return Step{c, {Send{with_menu(ctx, c, tr(ctx, c, "form.too_many", {{"max", std::to_string(ctx.rules.max_running)}}))}}};
    case R::duplicate:
      return Step{c, {Count{"duplicate_submission"}, Send{with_menu(ctx, c, tr(ctx, c, "form.duplicate"))}}};
    case R::insufficient:
      return Step{c, {Send{ctx.screens.insufficient(c.lang, done.price, done.balance)}}};
    case R::file_gone:
      return file_gone(c, ctx, done.field);
  }
  return stay(c);
}

}  // namespace kiebot::dialog::machine
