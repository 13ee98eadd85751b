// What happens to a conversation: what the user did, and what the effects
// the dialog asked for came back with. The reducer (reducer.hpp) takes one
// at a time.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "money_op.hpp"
#include "records.hpp"
#include "verbs.hpp"

namespace kiebot::dialog {

// From the user.
struct CommandIn {
  std::string name;  // "/start"
  std::string payload;
};
struct TextIn {
  std::string text;  // cleaned of controls (text::clean)
};
// A file a user sent: a photo (its largest size), or a document, an audio,
// a voice note or a video. Telegram's sizes and types are the sender's
// claims: they decide which field may take it and what is too large.
struct FileIn {
  enum class Kind : std::uint8_t { photo, document, audio, voice, video };
  std::string file_id;
  Kind kind = Kind::photo;
  std::int64_t size = 0;  // bytes, 0 when Telegram did not say
  std::string mime_type;  // documents, audio, video
};
struct OtherIn {};  // a sticker, a location, an empty text
struct PressIn {
  Press press;
};
struct StaleIn {};  // a button this release does not know (or a forged one)
struct RetryIn {
  std::string job_id;  // the generator's "try again" button on a failed job
};
struct PreCheckoutIn {
  nlohmann::json query;
};
struct PaymentIn {
  nlohmann::json payment;  // successful_payment
};
struct RefundIn {
  nlohmann::json refund;  // refunded_payment
};

// What the dialog asks for and why (an Ask effect), and its answer.
enum class Need : std::uint8_t {
  balance,       // the user: the balance screen
  free,          // the user: the free generations screen
  referral,      // the user: the referral screen
  confirm,       // the user: who pays, on the confirmation screen
  history,       // the user's last jobs
  running,       // the user's running jobs
  repeat,        // one job (arg: its id): a new form with its values
  gift,          // accounts draws the gift
  admin_menu,    // the user: are they an admin
  admin_action,  // the user, before an admin button (arg: the action)
  admin_text,    // the user, before an admin's typed input (arg: the text)
  stats,         // accounts' totals
  lookup,        // another user (id), for an admin
  set_admin,     // the owner sets an admin's limit (id, amount)
  kie_credits,   // KIE's credit balance
  chat_lang,     // another chat's language (id; arg: the referee's name, for the news)
};
std::string_view name(Need need);

struct Answered {
  Need need;
  std::int64_t id = 0;
  std::string arg;
  std::int64_t amount = 0;
  int status = 200;  // accounts' status for gift, lookup and set_admin
  nlohmann::json data;  // the user, the stats, the credits, the language
  std::vector<JobRecord> jobs;
};

// A money operation: accounts' answer, or nothing when it was queued for
// retries because accounts did not answer.
struct MoneyAnswered {
  MoneyOp op;
  std::optional<int> status;
  nlohmann::json body;
  bool later = false;  // the money queue's retry answered, not this update's try
};

struct FileUploaded {
  std::string url;  // "" when Telegram or KIE's storage failed
  // Where it came from and when, so that a later "repeat" can upload it
  // again once KIE has deleted it (Telegram's file_id stays valid).
  std::string file_id;
  std::string file_name;
  std::int64_t uploaded_ms = 0;
};
// What a file is, for the form: "image", "audio", "video", or "" (another kind).
std::string_view media_of(const FileIn& file);

struct Submitted {
  // file_gone: a file KIE no longer keeps could not be fetched from Telegram again.
  enum class Result { started, waiting, not_queued, too_many, duplicate, insufficient, file_gone };
  Result result = Result::started;
  std::int64_t price = 0;
  std::int64_t balance = 0;
  std::string field;  // file_gone: the form's field whose file to send again
};

struct Refunded {
  enum class Result { unknown_charge, failed, done };
  Result result = Result::done;
  std::string reason;  // failed: Telegram's description
  std::int64_t user_id = 0;
  std::int64_t kopecks = 0;
};

using Event = std::variant<CommandIn, TextIn, FileIn, OtherIn, PressIn, StaleIn, RetryIn, PreCheckoutIn, PaymentIn,
                           RefundIn, Answered, MoneyAnswered, FileUploaded, Submitted, Refunded>;

// "press mdl", "command /start", "answered balance": the event's kind as
// the table (table.hpp) and the diagram name it.
std::string event_kind(const Event& event);

}  // namespace kiebot::dialog
