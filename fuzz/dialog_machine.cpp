// The dialog's state machine (services/ingress dialog/machine) under any
// sequence of what users can send: any stored state, then commands, texts,
// photos and button data made of the input's bytes. Whatever comes, the
// reducer does not throw, goes only where its table says, keeps a form
// under every form screen, answers each press once, and renders every
// message within Telegram's limits with buttons this release decodes.
#include <algorithm>

#include "catalog.hpp"
#include "check.hpp"
#include "kiebot/base/json.hpp"
#include "machine/reducer.hpp"
#include "machine/table.hpp"
#include "screens.hpp"
#include "texts.hpp"

namespace dlg = kiebot::dialog;
using nlohmann::json;

namespace {

// The next piece of the input, up to a '\n'.
std::string_view next_piece(std::string_view& rest) {
  auto nl = rest.find('\n');
  auto piece = rest.substr(0, nl);
  rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
  return piece;
}

dlg::Event event_from(char kind, std::string_view piece) {
  std::string text(piece);
  switch (static_cast<unsigned char>(kind) % 6) {
    case 0: {
      auto space = text.find(' ');
      return dlg::CommandIn{"/" + text.substr(0, space), space == std::string::npos ? "" : text.substr(space + 1)};
    }
    case 1:
      return dlg::TextIn{text};
    case 2:
      return dlg::FileIn{text};
    case 3:
      return dlg::OtherIn{};
    default: {
      if (auto press = dlg::decode(text)) return dlg::PressIn{std::move(*press)};
      return dlg::StaleIn{};
    }
  }
}

void check_screen(const dlg::Screen& s) {
  FUZZ_CHECK(!s.text.empty());
  FUZZ_CHECK(dlg::utf8_length(s.text) <= 4096);
  if (!s.markup.is_object()) return;
  for (const auto& row : s.markup["inline_keyboard"]) {
    for (const auto& b : row) FUZZ_CHECK(dlg::decode(b.value("callback_data", "")).has_value());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  static const dlg::Screens screens(dlg::builtin_catalog(), dlg::builtin_texts());
  static const dlg::Rules rules;
  auto rest = kiebot::fuzz::as_text(data, size);
  // The first piece is the stored state, as Redis would hand it back.
  auto conversation = dlg::read_conversation(kiebot::parse_untrusted(next_piece(rest))).conversation;
  if (conversation.lang.empty()) conversation.lang = "en";
  for (int steps = 0; !rest.empty() && steps < 32; ++steps) {
    char kind = rest.front();
    rest.remove_prefix(1);
    auto event = event_from(kind, next_piece(rest));
    bool pressed = std::holds_alternative<dlg::PressIn>(event) || std::holds_alternative<dlg::StaleIn>(event);
    dlg::Context ctx{dlg::builtin_catalog(), dlg::builtin_texts(), screens, rules};
    ctx.user_id = 42;
    ctx.chat_id = 42;
    ctx.pressed = pressed;
    ctx.nonce = "0123abcd";
    const auto* rule = dlg::find_rule(conversation.screen, dlg::event_kind(event));
    FUZZ_CHECK(rule != nullptr);
    auto step = dlg::reduce(conversation, event, ctx);
    auto to = step.next.screen;
    FUZZ_CHECK(to == conversation.screen || std::find(rule->to.begin(), rule->to.end(), to) != rule->to.end());
    FUZZ_CHECK(!dlg::in_form(to) || step.next.form.has_value());
    FUZZ_CHECK(!step.effects.empty());
    std::size_t answers = 0;
    for (const auto& effect : step.effects) {
      answers += std::holds_alternative<dlg::Answer>(effect);
      if (const auto* s = std::get_if<dlg::Send>(&effect)) check_screen(s->screen);
      if (const auto* s = std::get_if<dlg::Show>(&effect)) check_screen(s->screen);
    }
    FUZZ_CHECK(answers == (pressed ? 1u : 0u));
    // What is stored reads back as the same conversation.
    FUZZ_CHECK(dlg::read_conversation(dlg::to_json(step.next)).conversation == step.next);
    conversation = std::move(step.next);
  }
  return 0;
}
