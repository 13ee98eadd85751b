// The conversation's table (see table.hpp): screens, their own rules, and
// the rules every screen shares.
#include "table.hpp"

#include <array>
#include <set>

#include "handlers.hpp"

namespace kiebot::dialog {

namespace {

using enum ScreenId;
using namespace machine;

// The awaited-input screens: typed text is what they asked for.
const std::vector<ScreenDecl>& table() {
  static const std::vector<ScreenDecl> screens = {
      {menu, "menu.title", {Verb::category, Verb::balance, Verb::free, Verb::gift, Verb::referral, Verb::history,
                            Verb::language, Verb::help}, {}},
      {category, "cat.<category>", {Verb::model, Verb::menu}, {}},
      {about, "about.title", {Verb::category, Verb::help, Verb::menu}, {}},
      {balance, "balance.text", {Verb::top_up, Verb::menu}, {}},
      {top_up, "topup.title", {Verb::pay, Verb::pay_custom, Verb::menu}, {}},
      {top_up_amount, "topup.ask_amount", {Verb::menu}, {{"text", on_amount_text, {top_up}}}},
      {free, "free.text", {Verb::menu}, {}},
      {referral, "referral.text", {Verb::menu}, {}},
      {history, "history.title", {Verb::repeat, Verb::menu}, {}},
      {running, "running.title", {Verb::menu}, {}},
      {language, "language.choose", {Verb::language}, {}},
      {help, "help.text", {Verb::about, Verb::menu}, {}},
      {form_params, "form.title", {Verb::option, Verb::toggle, Verb::type_value, Verb::next, Verb::category, Verb::cancel},
       {{"text", on_form_text, {}}}},
      {form_text, "ask.<field>", {Verb::next, Verb::menu},
       {{"text", on_prompt_text, {form_text, form_file, form_number, form_confirm, menu}}}},
      {form_file, "ask.<field>", {Verb::next, Verb::menu},
       {{"text", on_file_text, {}}, {"file", on_file, {}},
        {"file_uploaded", on_file_uploaded, {form_file, form_number, form_confirm, menu}}}},
      {form_number, "ask.<field>", {Verb::next, Verb::edit, Verb::menu},
       {{"text", on_number_text, {form_params, form_text, form_file, form_number, form_confirm, menu}}}},
      {form_confirm, "form.confirm", {Verb::confirm, Verb::edit, Verb::cancel}, {{"text", on_form_text, {}}}},
      {admin, "admin.menu", {Verb::admin, Verb::menu}, {}},
      {admin_user, "admin.ask_user", {Verb::menu}, {{"text", on_admin_text, {}}, {"answered admin_text", on_admin_checked, {admin, menu}}}},
      {admin_grant, "admin.ask_grant", {Verb::menu}, {{"text", on_admin_text, {admin}}}},
      {admin_limit, "admin.ask_limit", {Verb::menu}, {{"text", on_admin_text, {}}, {"answered admin_text", on_admin_checked, {admin, menu}}}},
      {admin_refund, "admin.ask_refund", {Verb::menu}, {{"text", on_admin_text, {}}, {"answered admin_text", on_admin_checked, {admin, menu}}}},
      {page, "page.<name>", {Verb::page, Verb::menu}, {}},
  };
  return screens;
}

// The pages (table.hpp): a row here and its texts add one.
const std::vector<PageDecl>& page_table() {
  static const std::vector<PageDecl> pages = {
      {"payments", "page.payments", "btn.page.payments", "/payments", {help}, {"tips"}},
      {"tips", "page.tips", "btn.page.tips", "/tips", {help}, {"payments"}},
  };
  return pages;
}

constexpr std::initializer_list<ScreenId> kForm = {form_params, form_text, form_file, form_number, form_confirm};

const std::vector<Rule>& globals() {
  static const std::vector<Rule> rules = {
      {"command /start", on_start, {menu}},
      {"command /help", on_help, {help}},
      {"command /balance", on_balance_command, {}},
      {"command /status", on_status, {}},
      {"command /history", on_history_command, {}},
      {"command /language", on_language_command, {language}},
      {"command /admin", on_admin_command, {}},
      {"command /cancel", on_cancel, {menu}},
      {"command", on_unknown_command, {page, menu}},  // a page's command, or not one of ours
      {"text", on_text_elsewhere, {menu}},
      {"file", on_file_elsewhere, {menu}},
      {"other", on_other, {}},
      {"stale", on_stale, {menu}},
      {"retry", on_retry, {}},
      {"press menu", on_menu, {menu}},
      {"press nop", on_nop, {}},
      {"press cat", on_category, {category, menu}},
      {"press about", on_about, {about, menu}},
      {"press mdl", on_model, {form_params, form_text, form_file, form_number, form_confirm, menu}},
      {"press bal", on_ask_press, {}},
      {"press top", on_top_up, {top_up}},
      {"press pay", on_pay, {menu}},
      {"press payc", on_pay_custom, {top_up_amount}},
      {"press free", on_ask_press, {}},
      {"press gift", on_ask_press, {}},
      {"press ref", on_ask_press, {}},
      {"press hist", on_ask_press, {}},
      {"press rep", on_ask_press, {}},
      {"press lang", on_language, {language, menu}},
      {"press help", on_help_press, {help}},
      {"press page", on_page, {page, menu}},
      {"press adm", on_ask_press, {}},
      {"press opt", on_form_press, {form_params, menu}},
      {"press tog", on_form_press, {form_params, menu}},
      {"press val", on_form_press, {form_number, menu}},
      {"press go", on_form_press, {form_text, form_file, form_number, form_confirm, menu}},
      {"press edit", on_form_press, {form_params, menu}},
      {"press no", on_form_press, {menu}},
      {"press ok", on_form_press, {form_text, form_file, form_number, form_confirm, menu}},
      {"pre_checkout", on_pre_checkout, {}},
      {"payment", on_payment, {}},
      {"refund", on_refund, {}},
      {"money", on_money, {}},
      {"file_uploaded", on_file_uploaded, {form_text, form_number, form_confirm, menu}},
      {"submitted", on_submitted, {form_file, menu}},
      {"refunded", on_refunded, {}},
      {"answered balance", on_user_screen, {balance}},
      {"answered free", on_user_screen, {free}},
      {"answered referral", on_user_screen, {referral}},
      {"answered confirm", on_confirm_user, {form_confirm, menu}},
      {"answered history", on_listed, {history}},
      {"answered running", on_listed, {running}},
      {"answered repeat", on_repeat_job, {form_text, form_file, form_number, form_confirm, menu}},
      {"answered gift", on_gift, {}},
      {"answered admin_menu", on_admin_user, {admin, menu}},
      {"answered admin_action", on_admin_action, {admin_user, admin_grant, admin_limit, admin_refund, menu}},
      {"answered admin_text", on_admin_checked, {admin, menu}},
      {"answered stats", on_admin_answer, {}},
      {"answered lookup", on_admin_answer, {}},
      {"answered set_admin", on_admin_answer, {}},
      {"answered kie_credits", on_admin_answer, {}},
      {"answered chat_lang", on_chat_lang, {}},
  };
  return rules;
}

const Rule* find_in(const std::vector<Rule>& rules, std::string_view kind) {
  for (const auto& r : rules) {
    if (r.on == kind) return &r;
  }
  return nullptr;
}

std::string label(std::string_view on) {
  std::string out;
  for (char c : on) out += c == '/' ? std::string("#sol;") : std::string(1, c);
  return out;
}

}  // namespace

std::span<const PageDecl> pages() {
  return page_table();
}

const PageDecl* page_named(std::string_view name) {
  for (const auto& p : page_table()) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

const PageDecl* page_for_command(std::string_view command) {
  for (const auto& p : page_table()) {
    if (!p.command.empty() && p.command == command) return &p;
  }
  return nullptr;
}

std::span<const ScreenDecl> screens() {
  return table();
}

const ScreenDecl& screen_decl(ScreenId id) {
  return table().at(static_cast<std::size_t>(id));
}

std::span<const Rule> global_rules() {
  return globals();
}

const Rule* find_rule(ScreenId screen, std::string_view kind) {
  if (const auto* own = find_in(screen_decl(screen).rules, kind)) return own;
  if (const auto* shared = find_in(globals(), kind)) return shared;
  if (kind.starts_with("command ")) return find_in(globals(), "command");
  return nullptr;
}

std::string mermaid() {
  std::string out = "stateDiagram-v2\n  direction LR\n  [*] --> menu: command #sol;start\n";
  for (const auto& s : table()) {
    out += "  " + std::string(name(s.id)) + ": " + std::string(name(s.id)) + " (" + std::string(s.shows) + ")\n";
  }
  // Rules every screen shares start from "any" (a button of any message can
  // be pressed at any time); a screen's own rules start from it.
  out += "  state \"any screen\" as any\n";
  for (const auto& r : globals()) {
    for (auto to : r.to) out += "  any --> " + std::string(name(to)) + ": " + label(r.on) + "\n";
  }
  for (const auto& s : table()) {
    for (const auto& r : s.rules) {
      for (auto to : r.to) out += "  " + std::string(name(s.id)) + " --> " + std::string(name(to)) + ": " + label(r.on) + "\n";
    }
  }
  return out;
}

std::string_view name(Need need) {
  static constexpr std::array<std::string_view, 16> kNames = {
      "balance", "free",        "referral", "confirm", "history", "running",   "repeat",      "gift",
      "admin_menu", "admin_action", "admin_text", "stats", "lookup", "set_admin", "kie_credits", "chat_lang"};
  return kNames.at(static_cast<std::size_t>(need));
}

std::string_view media_of(const FileIn& file) {
  using K = FileIn::Kind;
  switch (file.kind) {
    case K::photo: return "image";
    case K::audio:
    case K::voice: return "audio";
    case K::video: return "video";
    case K::document: break;
  }
  for (const char* kind : {"image", "audio", "video"}) {
    if (file.mime_type.starts_with(std::string(kind) + "/")) return kind;
  }
  return "";
}

std::string event_kind(const Event& event) {
  struct Kind {
    std::string operator()(const CommandIn& c) const { return "command " + c.name; }
    std::string operator()(const TextIn&) const { return "text"; }
    std::string operator()(const FileIn&) const { return "file"; }
    std::string operator()(const OtherIn&) const { return "other"; }
    std::string operator()(const PressIn& p) const { return "press " + std::string(name(p.press.verb)); }
    std::string operator()(const StaleIn&) const { return "stale"; }
    std::string operator()(const RetryIn&) const { return "retry"; }
    std::string operator()(const PreCheckoutIn&) const { return "pre_checkout"; }
    std::string operator()(const PaymentIn&) const { return "payment"; }
    std::string operator()(const RefundIn&) const { return "refund"; }
    std::string operator()(const Answered& a) const { return "answered " + std::string(name(a.need)); }
    std::string operator()(const MoneyAnswered&) const { return "money"; }
    std::string operator()(const FileUploaded&) const { return "file_uploaded"; }
    std::string operator()(const Submitted&) const { return "submitted"; }
    std::string operator()(const Refunded&) const { return "refunded"; }
  };
  return std::visit(Kind{}, event);
}

}  // namespace kiebot::dialog
