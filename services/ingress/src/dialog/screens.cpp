// Screen builders (see screens.hpp).
#include "screens.hpp"

#include <algorithm>

#include "kiebot/base/text.hpp"
#include "machine/table.hpp"
#include "machine/verbs.hpp"

namespace kiebot::dialog {

using nlohmann::json;

namespace {

constexpr std::size_t kConfirmPromptShown = 3000;

json keyboard(json rows) {
  return {{"inline_keyboard", std::move(rows)}};
}

}  // namespace

json button(std::string text, std::string callback_data) {
  return {{"text", std::move(text)}, {"callback_data", std::move(callback_data)}};
}

std::int64_t stars_for(std::int64_t kopecks, std::int64_t stars_per_100_rub) {
  return (kopecks * stars_per_100_rub + 9'999) / 10'000;
}

json Screens::menu_button(const std::string& lang) const {
  return json::array({button(texts_.get(lang, "btn.menu"), encode(Verb::menu))});
}

Screen Screens::main_menu(const std::string& lang, const std::string& greeting) const {
  json rows = json::array();
  const auto& cats = catalog_.categories();
  for (std::size_t i = 0; i < cats.size(); i += 2) {
    json row = json::array({button(texts_.get(lang, "cat." + cats[i]), encode(Verb::category, {cats[i]}))});
    if (i + 1 < cats.size())
      row.push_back(button(texts_.get(lang, "cat." + cats[i + 1]), encode(Verb::category, {cats[i + 1]})));
    rows.push_back(std::move(row));
  }
  rows.push_back(json::array({button(texts_.get(lang, "btn.balance"), encode(Verb::balance)),
                              button(texts_.get(lang, "btn.free"), encode(Verb::free))}));
  rows.push_back(json::array({button(texts_.get(lang, "btn.gift"), encode(Verb::gift)),
                              button(texts_.get(lang, "btn.referral"), encode(Verb::referral))}));
  rows.push_back(json::array({button(texts_.get(lang, "btn.history"), encode(Verb::history)),
                              button(texts_.get(lang, "btn.language"), encode(Verb::language))}));
  rows.push_back(json::array({button(texts_.get(lang, "btn.help"), encode(Verb::help))}));
  page_links(rows, ScreenId::menu, lang);
  auto text = greeting.empty() ? texts_.get(lang, "menu.title") : greeting + "\n\n" + texts_.get(lang, "menu.title");
  return {text, keyboard(std::move(rows))};
}

Screen Screens::category(const std::string& lang, const std::string& cat) const {
  json rows = json::array();
  std::string text = texts_.get(lang, "cat." + cat) + "\n";
  for (const auto* m : catalog_.in_category(cat)) {
    auto label = m->name_in(lang) + " · " + roubles(catalog_.price(*m, m->default_values()));
    if (m->free) label += " · " + texts_.get(lang, "label.free");
    rows.push_back(json::array({button(label, encode(Verb::model, {m->code}))}));
    text += "\n• " + m->name_in(lang) + ": " + m->about_in(lang);
  }
  rows.push_back(menu_button(lang));
  return {text, keyboard(std::move(rows))};
}

std::string Screens::option_label(const std::string& lang, const Field& field, const std::string& value) const {
  if (field.type == Field::Type::boolean) return texts_.get(lang, value == "true" ? "opt.on" : "opt.off");
  if (auto label = field.labels.find(value); label != field.labels.end()) return label->second;
  if (field.name == "duration") return texts_.format(lang, "opt.seconds", {{"n", value}});
  if (field.name == "upscale_factor") return "×" + value;
  return value;
}

std::string Screens::summary(const std::string& lang, const Model& model, const json& values) const {
  std::string out;
  for (const auto& f : model.fields) {
    if (!f.has_buttons()) continue;
    if (!values.contains(f.name) || values[f.name] == "") continue;  // "": skipped
    if (!out.empty()) out += " · ";
    out += texts_.get(lang, f.text_key()) + ": " + option_label(lang, f, values[f.name].get<std::string>());
  }
  return out;
}

Screen Screens::form(const std::string& lang, const Model& model, const json& values, const std::string& nonce) const {
  json rows = json::array();
  for (std::size_t fi = 0; fi < model.fields.size(); ++fi) {
    const auto& f = model.fields[fi];
    auto current = values.value(f.name, std::string());
    if (f.type == Field::Type::boolean) {
      auto label = texts_.get(lang, f.text_key()) + ": " + option_label(lang, f, current);
      rows.push_back(json::array({button(label, encode(Verb::toggle, {nonce, std::to_string(fi)}))}));
      continue;
    }
    // A number without presets is asked in turn, as a typed text is.
    if (f.type != Field::Type::choice && (f.type != Field::Type::number || f.options.empty())) continue;
    rows.push_back(json::array({button("— " + texts_.get(lang, f.text_key()) + " —", encode(Verb::nop))}));
    json row = json::array();
    for (std::size_t oi = 0; oi < f.options.size(); ++oi) {
      auto label = option_label(lang, f, f.options[oi]);
      if (f.options[oi] == current) label = "✅ " + label;
      row.push_back(button(label, encode(Verb::option, {nonce, std::to_string(fi), std::to_string(oi)})));
      if (row.size() == 4) rows.push_back(std::exchange(row, json::array()));
    }
    if (!row.empty()) rows.push_back(std::move(row));
    if (f.type == Field::Type::number) rows.push_back(json::array({type_value_button(lang, f, current, nonce, fi)}));
  }
  rows.push_back(json::array({button(texts_.get(lang, "btn.next"), encode(Verb::next, {nonce}))}));
  rows.push_back(json::array({button(texts_.get(lang, "btn.back"), encode(Verb::category, {model.category})),
                              button(texts_.get(lang, "btn.cancel"), encode(Verb::cancel, {nonce}))}));
  auto text = texts_.format(lang, "form.title",
                            {{"model", model.name_in(lang)},
                             {"about", model.about_in(lang)},
                             {"price", roubles(catalog_.price(model, values))}});
  return {text, keyboard(std::move(rows))};
}

json Screens::type_value_button(const std::string& lang, const Field& field, const std::string& current,
                               const std::string& nonce, std::size_t index) const {
  // A typed value that is no preset shows on this button, chosen.
  bool typed = !current.empty() && std::find(field.options.begin(), field.options.end(), current) == field.options.end();
  auto label = typed ? "✅ " + option_label(lang, field, current) + " ✏️" : texts_.get(lang, "btn.type_value");
  return button(std::move(label), encode(Verb::type_value, {nonce, std::to_string(index)}));
}

Screen Screens::confirm(const std::string& lang, const Model& model, const json& values, const std::string& nonce,
                        const Payer& payer, const std::string& after) const {
  std::string prompt;
  for (const auto& f : model.fields) {
    if (f.type == Field::Type::prompt && values.contains(f.name)) prompt = values[f.name].get<std::string>();
  }
  // A prompt may be 5,000 characters and a message only 4,096: the
  // confirmation shows its beginning, so that the price stays in view.
  prompt = text::fit(prompt, kConfirmPromptShown);
  auto text = texts_.format(lang, "form.confirm",
                            {{"model", model.name_in(lang)},
                             {"params", summary(lang, model, values)},
                             {"prompt", prompt},
                             {"price", roubles(payer.amount)},
                             {"payer", payer.line},
                             {"after", after}});
  json rows = json::array({json::array({button(texts_.get(lang, "btn.confirm"), encode(Verb::confirm, {nonce}))}),
                           json::array({button(texts_.get(lang, "btn.change"), encode(Verb::edit, {nonce})),
                                        button(texts_.get(lang, "btn.cancel"), encode(Verb::cancel, {nonce}))})});
  return {text, keyboard(std::move(rows))};
}

Screen Screens::insufficient(const std::string& lang, std::int64_t price, std::int64_t balance) const {
  auto text = texts_.format(lang, "form.insufficient", {{"price", roubles(price)}, {"balance", roubles(balance)}});
  json rows =
      json::array({json::array({button(texts_.get(lang, "btn.topup"), encode(Verb::top_up))}), menu_button(lang)});
  return {text, keyboard(std::move(rows))};
}

Screen Screens::balance(const std::string& lang, const json& user) const {
  const auto& free = user["free"];
  auto text = texts_.format(lang, "balance.text",
                            {{"balance", roubles(user.value("balance", std::int64_t{0}))},
                             {"held", roubles(user.value("held", std::int64_t{0}))},
                             {"free_left", std::to_string(free.value("remaining", 0))},
                             {"free_daily", std::to_string(free.value("daily_limit", 0))}});
  if (user.value("is_owner", false)) {
    text += "\n" + texts_.get(lang, "balance.owner");
  } else if (user.value("is_admin", false) && user["admin"].is_object()) {
    const auto& a = user["admin"];
    text += "\n" + texts_.format(lang, "balance.admin",
                                 {{"limit", roubles(a.value("limit", std::int64_t{0}))},
                                  {"spent", roubles(a.value("spent", std::int64_t{0}))},
                                  {"remaining", roubles(a.value("remaining", std::int64_t{0}))}});
  }
  json rows =
      json::array({json::array({button(texts_.get(lang, "btn.topup"), encode(Verb::top_up))}), menu_button(lang)});
  return {text, keyboard(std::move(rows))};
}

Screen Screens::top_up(const std::string& lang, const std::vector<std::int64_t>& presets, std::int64_t rate) const {
  json row = json::array();
  for (auto kopecks : presets) {
    auto label = texts_.format(lang, "topup.preset",
                               {{"rub", roubles(kopecks)}, {"stars", std::to_string(stars_for(kopecks, rate))}});
    row.push_back(button(label, encode(Verb::pay, {std::to_string(kopecks)})));
  }
  json rows = json::array(
      {row, json::array({button(texts_.get(lang, "topup.custom_btn"), encode(Verb::pay_custom))}), menu_button(lang)});
  auto rub_per_star = texts_.format(lang, "topup.title", {{"stars", std::to_string(stars_for(10'000, rate))}});
  return {rub_per_star, keyboard(std::move(rows))};
}

Screen Screens::free(const std::string& lang, const json& user) const {
  std::string models;
  for (const auto& m : catalog_.models()) {
    if (m.free) models += "\n• " + m.name_in(lang);
  }
  const auto& free = user["free"];
  auto text = texts_.format(lang, "free.text",
                            {{"left", std::to_string(free.value("remaining", 0))},
                             {"daily", std::to_string(free.value("daily_limit", 0))},
                             {"bank", std::to_string(free.value("bank", 0))},
                             {"models", models}});
  return {text, keyboard(json::array({menu_button(lang)}))};
}

Screen Screens::history(const std::string& lang, const std::vector<JobRecord>& jobs) const {
  if (jobs.empty()) return {texts_.get(lang, "history.empty"), keyboard(json::array({menu_button(lang)}))};
  std::string text = texts_.get(lang, "history.title");
  json rows = json::array();
  std::size_t n = 0;
  for (const auto& j : jobs) {
    const auto* model = catalog_.by_id(j.model);
    auto name = model ? model->name_in(lang) : j.model;
    ++n;
    text += "\n" + texts_.format(lang, "history.item",
                                 {{"n", std::to_string(n)},
                                  {"model", name},
                                  {"status", texts_.get(lang, "status." + j.status)},
                                  {"price", roubles(j.price)}});
    if (model && n <= 8 && encodable(Verb::repeat, {j.job_id})) {
      rows.push_back(json::array({button(texts_.format(lang, "btn.repeat", {{"n", std::to_string(n)}, {"model", name}}),
                                         encode(Verb::repeat, {j.job_id}))}));
    }
  }
  rows.push_back(menu_button(lang));
  return {text, keyboard(std::move(rows))};
}

Screen Screens::running(const std::string& lang, const std::vector<JobRecord>& jobs) const {
  if (jobs.empty()) return {texts_.get(lang, "running.none"), keyboard(json::array({menu_button(lang)}))};
  std::string text = texts_.get(lang, "running.title");
  for (const auto& j : jobs) {
    const auto* model = catalog_.by_id(j.model);
    text += "\n• " + (model ? model->name_in(lang) : j.model);
  }
  return {text, keyboard(json::array({menu_button(lang)}))};
}

Screen Screens::language(const std::string& lang) const {
  json rows = json::array({json::array(
      {button("🇷🇺 Русский", encode(Verb::language, {"ru"})), button("🇬🇧 English", encode(Verb::language, {"en"}))})});
  return {texts_.get(lang, "language.choose"), keyboard(std::move(rows))};
}

Screen Screens::admin(const std::string& lang, bool owner) const {
  json rows = json::array({json::array({button(texts_.get(lang, "btn.admin_stats"), encode(Verb::admin, {"stats"})),
                                        button(texts_.get(lang, "btn.admin_user"), encode(Verb::admin, {"user"}))}),
                           json::array({button(texts_.get(lang, "btn.admin_grant"), encode(Verb::admin, {"grant"})),
                                        button(texts_.get(lang, "btn.admin_limit"), encode(Verb::admin, {"limit"}))})});
  if (owner) {
    rows.push_back(json::array({button(texts_.get(lang, "btn.admin_kie"), encode(Verb::admin, {"kie"})),
                                button(texts_.get(lang, "btn.admin_refund"), encode(Verb::admin, {"refund"}))}));
  }
  rows.push_back(menu_button(lang));
  return {texts_.get(lang, "admin.menu"), keyboard(std::move(rows))};
}

Screen Screens::help(const std::string& lang) const {
  json rows = json::array();
  const auto& cats = catalog_.categories();
  for (std::size_t i = 0; i < cats.size(); i += 2) {
    json row = json::array();
    for (std::size_t k = i; k < std::min(i + 2, cats.size()); ++k) {
      row.push_back(button(texts_.format(lang, "btn.about", {{"category", texts_.get(lang, "cat." + cats[k])}}),
                           encode(Verb::about, {cats[k]})));
    }
    rows.push_back(std::move(row));
  }
  page_links(rows, ScreenId::help, lang);
  rows.push_back(menu_button(lang));
  return {texts_.get(lang, "help.text"), keyboard(std::move(rows))};
}

void Screens::page_links(json& rows, ScreenId screen, const std::string& lang) const {
  json row = json::array();
  for (const auto& p : pages()) {
    if (std::find(p.linked_from.begin(), p.linked_from.end(), screen) == p.linked_from.end()) continue;
    row.push_back(button(texts_.get(lang, std::string(p.button)), encode(Verb::page, {std::string(p.name)})));
  }
  if (!row.empty()) rows.push_back(std::move(row));
}

Screen Screens::page(const std::string& lang, const PageDecl& page) const {
  json rows = json::array();
  for (auto link : page.links) {
    const auto* to = page_named(link);
    if (to == nullptr) continue;  // the table test refuses such a link
    rows.push_back(json::array({button(texts_.get(lang, std::string(to->button)), encode(Verb::page, {std::string(link)}))}));
  }
  rows.push_back(menu_button(lang));
  return {texts_.get(lang, std::string(page.shows)), keyboard(std::move(rows))};
}

Screen Screens::about(const std::string& lang, const std::string& cat) const {
  std::string text = texts_.format(lang, "about.title", {{"category", texts_.get(lang, "cat." + cat)}});
  for (const auto* m : catalog_.in_category(cat)) {
    std::string needs;
    for (const auto& f : m->fields) {
      if (!f.required || (f.type != Field::Type::prompt && !f.is_file())) continue;
      if (!needs.empty()) needs += ", ";
      needs += texts_.get(lang, f.type == Field::Type::prompt  ? "about.prompt"
                                : f.type == Field::Type::audio ? "about.audio"
                                : f.type == Field::Type::video ? "about.video"
                                                               : "about.photo");
    }
    text += "\n\n" + texts_.format(lang, "about.item",
                                   {{"model", m->name_in(lang)},
                                    {"price", roubles(catalog_.price(*m, m->default_values()))},
                                    {"free", m->free ? " · " + texts_.get(lang, "label.free") : ""},
                                    {"about", m->about_in(lang)},
                                    {"needs", needs}});
  }
  json rows = json::array({json::array({button(texts_.get(lang, "cat." + cat), encode(Verb::category, {cat}))}),
                           json::array({button(texts_.get(lang, "btn.help"), encode(Verb::help)),
                                        button(texts_.get(lang, "btn.menu"), encode(Verb::menu))})});
  return {text, keyboard(std::move(rows))};
}

Screen Screens::text_with_menu(std::string text, const std::string& lang) const {
  return {std::move(text), keyboard(json::array({menu_button(lang)}))};
}

Screen Screens::ask(const std::string& lang, std::string text, const std::string& nonce, const std::string& go_key,
                    bool back) const {
  json rows = json::array();
  if (!go_key.empty()) rows.push_back(json::array({button(texts_.get(lang, go_key), encode(Verb::next, {nonce}))}));
  if (back) rows.push_back(json::array({button(texts_.get(lang, "btn.back"), encode(Verb::edit, {nonce}))}));
  rows.push_back(menu_button(lang));
  return {std::move(text), keyboard(std::move(rows))};
}

}  // namespace kiebot::dialog
