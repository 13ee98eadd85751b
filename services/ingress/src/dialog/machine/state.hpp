// A chat's conversation as the dialog keeps it in Redis: the screen it is
// on, its language and the generation form being filled. Typed and
// versioned: an older version is migrated, an unreadable one reset.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kiebot::dialog {

// Every state of the conversation (the table in table.hpp declares what
// each shows and where each event leads).
enum class ScreenId : std::uint8_t {
  menu,
  category,
  about,
  balance,
  top_up,
  top_up_amount,  // waiting for a typed amount
  free,
  referral,
  history,
  running,
  language,
  help,
  form_params,    // the form's buttons
  form_text,      // waiting for a typed text: the description, or another text the model takes
  form_file,      // waiting for a file: a photo (or several), an audio, a video
  form_number,    // waiting for a typed number: "type a value", or a number field without presets
  form_confirm,   // the price confirmation
  admin,
  admin_user,     // waiting for a user id
  admin_grant,    // waiting for "<id> <amount>"
  admin_limit,    // the owner: waiting for "<id> <limit>"
  admin_refund,   // the owner: waiting for "<user id> <charge id>"
  page,           // one of the table's pages (text and links: table.hpp)
};
inline constexpr std::size_t kScreenCount = static_cast<std::size_t>(ScreenId::page) + 1;

std::string_view name(ScreenId screen);
// The form's screens: they need a form in the state.
bool in_form(ScreenId screen);
std::optional<ScreenId> screen_named(std::string_view name);

// The generation form. Values by KIE field name: strings (options,
// "true"/"false", texts, an uploaded file's URL) or, for a field taking
// several files, a list of URLs.
struct Form {
  std::string nonce;  // in the form's buttons: a button of another form is stale
  std::string model;  // the catalog model's code
  nlohmann::json values = nlohmann::json::object();
  std::int64_t reply_to = 0;  // the user's description message: the result answers it
  std::string asking;         // the field being asked for ("": the next one without a value)
  // The uploads among the values, by KIE URL: {"id": Telegram file_id,
  // "name": file name, "at": upload time in ms (0: suspected gone)}. KIE
  // deletes uploads after a while; these let a submission upload them again.
  nlohmann::json files = nlohmann::json::object();
};

inline bool operator==(const Form& a, const Form& b) {
  return a.nonce == b.nonce && a.model == b.model && a.values == b.values && a.reply_to == b.reply_to &&
         a.asking == b.asking && a.files == b.files;
}

// The readable entries of stored uploads (Form::files): bounded, typed.
nlohmann::json read_files(const nlohmann::json& stored);

struct Conversation {
  static constexpr int kVersion = 3;
  ScreenId screen = ScreenId::menu;
  std::string lang;  // "" until known
  std::optional<Form> form;

  bool operator==(const Conversation&) const = default;
};

nlohmann::json to_json(const Conversation& c);

// What a stored state reads as. `reset` says why an unreadable or unknown
// version was dropped ("" when it was read or migrated).
struct Loaded {
  Conversation conversation;
  std::string reset;
  bool migrated = false;
};
Loaded read_conversation(const nlohmann::json& stored);

}  // namespace kiebot::dialog
