// What the reducer asks for, as data. The interpreter (dialog.cpp) is the
// only code that runs them against Telegram, accounts, Redis and Kafka;
// those with an answer come back as an event (events.hpp).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "events.hpp"
#include "money_op.hpp"

namespace kiebot::dialog {

// A message: its text and inline keyboard (null: none).
struct Screen {
  std::string text;
  nlohmann::json markup;
  bool operator==(const Screen&) const = default;
};

struct Send {  // a new message in this chat
  Screen screen;
};
struct Show {  // edits the message whose button was pressed, else a new message
  Screen screen;
};
struct SendTo {  // a message to another chat (a referrer's news)
  std::int64_t chat_id = 0;
  Screen screen;
};
struct Answer {  // the pressed button's callback query (once per query)
  std::string toast;
};
struct Animate {  // a new message, then edited into each next frame at the gift wheel's pace
  std::vector<Screen> frames;
};
struct Ask {  // -> Answered
  Need need;
  std::int64_t id = 0;
  std::string arg;
  std::int64_t amount = 0;
};
struct SetLanguage {  // the user's language at accounts
  std::string lang;
};
struct Money {  // -> MoneyAnswered; queued for retries when accounts does not answer
  MoneyOp op;
};
struct UploadFile {  // -> FileUploaded: from Telegram to KIE's file storage
  std::string file_id;
  std::string file_name;  // with the extension KIE's storage keeps ("photo.jpg")
};
struct Submit {  // -> Submitted: hold, publish to gen.jobs, record; or queue while accounts is away
  std::string job_id;
  std::string model;  // catalog model code
  nlohmann::json values;
  std::int64_t reply_to = 0;
  nlohmann::json files = nlohmann::json::object();  // the form's uploads (Form::files)
};
struct RefundStars {  // -> Refunded: refundStarPayment, then the debit
  std::int64_t user_id = 0;
  std::string charge;
};
struct Invoice {  // sendInvoice in Stars
  std::string title, description, label, payload;
  std::int64_t stars = 0;
};
struct AnswerPreCheckout {
  std::string query_id;
  bool ok = false;
  std::string error;
};
// A counter of the dialog's metrics (dialog_metrics.hpp): expired_callback,
// duplicate_submission, gift, referral, admin:<label>, payment:<label>,
// submission:<label>, money:<label>.
struct Count {
  std::string what;
};

// A log line (error: for a person to look at).
struct Log {
  std::string event;
  nlohmann::json fields;
  bool error = false;
};

using Effect = std::variant<Send, Show, SendTo, Answer, Animate, Ask, SetLanguage, Money, UploadFile, Submit,
                            RefundStars, Invoice, AnswerPreCheckout, Count, Log>;

}  // namespace kiebot::dialog
