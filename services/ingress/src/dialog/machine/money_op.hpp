// A money operation the dialog decided: what accounts is asked to do, with
// its idempotency key, and who hears of the outcome. The money queue
// (money_queue.hpp) keeps the ones accounts has not confirmed yet.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "kiebot/base/ids.hpp"
#include "kiebot/base/money.hpp"

namespace kiebot::dialog {

struct MoneyOp {
  std::string key;          // the idempotency key at accounts, and the op's id here
  std::string kind;         // credit, debit, referral (ref: the referrer's id) or submission (a generation to hold and publish)
  UserId user_id;
  Kopecks amount;  // positive (0 for a referral)
  std::string reason;       // stars, admin_grant, stars_refund, admin_debit
  std::string ref;
  std::optional<UserId> admin_id;  // admin_grant and admin_debit: who
  ChatId notify_chat;              // who hears of the outcome (0: nobody)
  std::string lang = "ru";
  std::string name;              // referral: the referee's first name, for the referrer's news
  std::string payload;           // submission: {"model","values","reply_to","message_id"} as JSON
  int attempts = 0;
  std::int64_t created_ms = 0;

  std::string to_json() const;
  // Nothing when `text` is not a well-formed op (it was written by us, so
  // that is logged as a bug by the caller).
  static std::optional<MoneyOp> from_json(std::string_view text);
};

}  // namespace kiebot::dialog
