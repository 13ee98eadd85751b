// A Telegram update as the dialog reads it (services/ingress
// dialog/input.hpp read_update, read_command; machine/verbs.hpp): any bytes off
// tg.updates give an event, a problem to log, or nothing, never an exception; an event has a
// user and a chat; a command starts with '/' and holds no ' ' or '@'.
#include "check.hpp"
#include "input.hpp"
#include "kiebot/base/json.hpp"
#include "machine/verbs.hpp"

namespace dlg = kiebot::dialog;

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  auto update = kiebot::parse_untrusted(kiebot::fuzz::as_text(data, size));
  auto in = dlg::read_update(update);
  FUZZ_CHECK(in.from.is_object() || in.kind.empty());
  FUZZ_CHECK(in.kind.empty() || in.problem.empty());  // a problem is never handled
  if (in.kind.empty()) return 0;
  FUZZ_CHECK(in.kind == in.seen);
  FUZZ_CHECK(in.user_id > 0 && in.chat_id != 0 && in.body.is_object());
  if (in.kind == "message") {
    auto text = kiebot::string_field(in.body, "text");
    if (auto command = dlg::read_command(text)) {
      FUZZ_CHECK(!command->name.empty() && command->name.front() == '/');
      FUZZ_CHECK(command->name.find_first_of(" @") == std::string::npos);
      FUZZ_CHECK(command->name.size() + command->payload.size() <= text.size());
      if (command->payload.starts_with("ref_")) (void)dlg::parse_positive_id(command->payload.substr(4));
    } else {
      FUZZ_CHECK(text.empty() || text.front() != '/');
    }
    for (const char* paid : {"successful_payment", "refunded_payment"}) {
      auto it = in.body.find(paid);
      if (it != in.body.end()) (void)dlg::parse_invoice_payload(kiebot::string_field(*it, "invoice_payload"));
    }
  } else if (in.kind == "callback_query") {
    (void)dlg::decode(kiebot::string_field(in.body, "data"));
  } else {
    FUZZ_CHECK(in.kind == "pre_checkout_query" && in.chat_id == in.user_id);
    (void)dlg::parse_invoice_payload(kiebot::string_field(in.body, "invoice_payload"));
  }
  return 0;
}
