// Inline-button data as typed verbs: every verb the dialog puts on a button
// is declared once here, with the kinds of its arguments, and serialized as
// "1|verb|arg|arg" within Telegram's 64 bytes. Anything else (another
// version, an unknown verb, an argument of the wrong kind, a forged button)
// decodes to nothing, which the dialog answers as a stale button.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kiebot::dialog {

enum class Verb : std::uint8_t {
  menu,        // the main menu
  nop,         // a label row of the form: does nothing
  category,    // cat|<category>
  model,       // mdl|<model code>
  about,       // about|<category>: the models of a category explained
  balance,
  top_up,
  pay,         // pay|<kopecks>: a preset top-up
  pay_custom,  // payc: asks for an amount
  free,
  gift,
  referral,
  history,
  repeat,      // rep|<job id>
  language,    // lang|<ru|en>, or lang alone: the choice
  help,
  admin,       // adm|<action>
  option,      // opt|<nonce>|<field>|<option>
  toggle,      // tog|<nonce>|<field>
  next,        // go|<nonce>
  edit,        // edit|<nonce>: back from the confirmation to the parameters
  cancel,      // no|<nonce>
  confirm,     // ok|<nonce>
  page,        // page|<name>: one of the table's pages
  type_value,  // val|<nonce>|<field>: asks for a typed number
};

enum class Arg : std::uint8_t {
  word,   // [a-z0-9_-], 1..24: a category, a model code, an admin action
  nonce,  // 8 lowercase hex digits: the form it belongs to
  index,  // 0..99
  count,  // 1..18 digits: kopecks
  lang,   // ru or en
  job,    // [A-Za-z0-9_.:-], 1..56: a job id
};

struct VerbDecl {
  Verb verb;
  std::string_view wire;        // as it appears in callback data
  std::vector<Arg> args;        // required arguments
  std::size_t optional = 0;     // how many of the last ones may be absent
};

// Every verb, in the order of the enum.
std::span<const VerbDecl> verbs();
const VerbDecl& decl(Verb verb);
std::string_view name(Verb verb);

// A decoded button.
struct Press {
  Verb verb = Verb::menu;
  std::vector<std::string> args;
  const std::string& arg(std::size_t i) const;  // "" when absent
  std::size_t index(std::size_t i) const;        // an index argument (0 when absent)
};

inline constexpr std::size_t kMaxCallbackData = 64;
inline constexpr std::string_view kCallbackVersion = "1";

// Throws std::invalid_argument for arguments that do not fit the verb's
// declaration, std::length_error beyond 64 bytes: both are bugs of ours.
std::string encode(Verb verb, const std::vector<std::string>& args = {});
// Whether encode() would take these arguments.
bool encodable(Verb verb, const std::vector<std::string>& args);
std::optional<Press> decode(std::string_view data);

}  // namespace kiebot::dialog
