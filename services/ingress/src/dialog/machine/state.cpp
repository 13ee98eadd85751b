// The conversation's stored form (see state.hpp).
#include "state.hpp"

#include <algorithm>
#include <array>

namespace kiebot::dialog {

using nlohmann::json;

namespace {

constexpr std::array<std::string_view, kScreenCount> kNames = {
    "menu",        "category",    "about",       "balance",      "top_up",     "top_up_amount", "free",
    "referral",    "history",     "running",     "language",     "help",       "form_params",   "form_text",
    "form_file",  "form_number", "form_confirm", "admin",      "admin_user",   "admin_grant", "admin_limit",  "admin_refund",
    "page",
};

bool is_nonce(const json& j) {
  if (!j.is_string()) return false;
  const auto& s = j.get_ref<const std::string&>();
  return s.size() == 8 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

std::optional<Form> read_form(const json& j) {
  if (!j.is_object() || !is_nonce(j.value("nonce", json())) || !j.value("model", json()).is_string()) return std::nullopt;
  Form f;
  f.nonce = j["nonce"].get<std::string>();
  f.model = j["model"].get<std::string>();
  if (j.contains("values") && j["values"].is_object()) {
    for (const auto& [k, v] : j["values"].items()) {
      bool urls = v.is_array() && v.size() <= 10 && std::all_of(v.begin(), v.end(), [](const json& u) { return u.is_string(); });
      if (v.is_string() || urls) f.values[k] = v;
    }
  }
  if (j.contains("asking") && j["asking"].is_string() && j["asking"].get_ref<const std::string&>().size() <= 64)
    f.asking = j["asking"].get<std::string>();
  if (j.contains("reply_to") && j["reply_to"].is_number_integer()) f.reply_to = j["reply_to"].get<std::int64_t>();
  if (j.contains("files")) f.files = read_files(j["files"]);
  return f;
}

bool short_string(const json& j, std::size_t max) {
  return j.is_string() && !j.get_ref<const std::string&>().empty() && j.get_ref<const std::string&>().size() <= max;
}

std::string read_lang(const json& j) {
  auto lang = j.contains("lang") && j["lang"].is_string() ? j["lang"].get<std::string>() : std::string();
  return lang == "ru" || lang == "en" ? lang : std::string();
}

// Version 1 (before the state machine): {"lang", "form": {nonce, model,
// values, step, reply_to}, "await": "topup" | "admin_<what>"}.
Loaded migrate_v1(const json& j) {
  Loaded out;
  out.migrated = true;
  auto& c = out.conversation;
  c.lang = read_lang(j);
  if (j.contains("form")) c.form = read_form(j["form"]);
  if (c.form) {
    auto step = j["form"].value("step", json()).is_string() ? j["form"]["step"].get<std::string>() : "";
    c.screen = step == "prompt"    ? ScreenId::form_text
               : step == "image"   ? ScreenId::form_file
               : step == "confirm" ? ScreenId::form_confirm
                                   : ScreenId::form_params;
  }
  auto await = j.contains("await") && j["await"].is_string() ? j["await"].get<std::string>() : "";
  if (in_form(c.screen) && !c.form) c.screen = ScreenId::menu;
  if (await == "topup") c.screen = ScreenId::top_up_amount;
  if (auto s = screen_named(await); s && await.starts_with("admin_")) c.screen = *s;
  return out;
}

}  // namespace

json read_files(const json& stored) {
  json out = json::object();
  if (!stored.is_object()) return out;
  for (const auto& [url, f] : stored.items()) {
    if (out.size() >= 20 || url.size() > 2048 || !f.is_object()) continue;
    auto at = f.value("at", json());
    if (!short_string(f.value("id", json()), 256) || !short_string(f.value("name", json()), 128) ||
        !at.is_number_integer()) {
      continue;
    }
    out[url] = {{"id", f["id"]}, {"name", f["name"]}, {"at", at}};
  }
  return out;
}

std::string_view name(ScreenId screen) {
  return kNames.at(static_cast<std::size_t>(screen));
}

bool in_form(ScreenId screen) {
  return screen == ScreenId::form_params || screen == ScreenId::form_text || screen == ScreenId::form_file ||
         screen == ScreenId::form_number || screen == ScreenId::form_confirm;
}

std::optional<ScreenId> screen_named(std::string_view text) {
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == text) return static_cast<ScreenId>(i);
  }
  return std::nullopt;
}

json to_json(const Conversation& c) {
  json j = {{"v", Conversation::kVersion}, {"screen", name(c.screen)}};
  if (!c.lang.empty()) j["lang"] = c.lang;
  if (c.form) {
    j["form"] = {{"nonce", c.form->nonce}, {"model", c.form->model}, {"values", c.form->values}};
    if (c.form->reply_to != 0) j["form"]["reply_to"] = c.form->reply_to;
    if (!c.form->asking.empty()) j["form"]["asking"] = c.form->asking;
    if (!c.form->files.empty()) j["form"]["files"] = c.form->files;
  }
  return j;
}

Loaded read_conversation(const json& stored) {
  if (!stored.is_object() || stored.empty()) return {};
  auto version = stored.contains("v") ? stored["v"] : json(1);
  if (version == 1) return migrate_v1(stored);
  if (version == 2) {
    // Version 2 named the form's input screens form_prompt and form_photo.
    auto renamed = stored;
    renamed["v"] = Conversation::kVersion;
    auto screen = stored.value("screen", json());
    if (screen == "form_prompt") renamed["screen"] = "form_text";
    if (screen == "form_photo") renamed["screen"] = "form_file";
    auto out = read_conversation(renamed);
    out.migrated = true;
    return out;
  }
  Loaded out;
  if (version != Conversation::kVersion) {
    out.reset = "unknown state version " + version.dump();
    out.conversation.lang = read_lang(stored);
    return out;
  }
  auto& c = out.conversation;
  c.lang = read_lang(stored);
  auto screen = stored.contains("screen") && stored["screen"].is_string()
                    ? screen_named(stored["screen"].get<std::string>())
                    : std::nullopt;
  if (!screen) {
    out.reset = "unknown screen";
    return out;
  }
  c.screen = *screen;
  if (stored.contains("form")) {
    c.form = read_form(stored["form"]);
    if (!c.form) out.reset = "unreadable form";
  }
  if (in_form(c.screen) && !c.form) c.screen = ScreenId::menu;
  return out;
}

}  // namespace kiebot::dialog
