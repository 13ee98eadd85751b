// The conversation declared in one table: every screen (state), what it
// shows and offers, and for every kind of event the handler that decides
// and the screens it may lead to. The reducer routes by this table; the
// exhaustive test (tests/unit/dialog_machine_test.cpp) checks that every
// handler stays within its declared targets; `./dev diagram` draws it.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "reducer.hpp"

namespace kiebot::dialog {

using Handler = Step (*)(const Conversation&, const Event&, const Context&);

struct Rule {
  std::string_view on;        // an event kind: "text", "press mdl", "command /start", "answered balance"...
  Handler step;
  std::vector<ScreenId> to;   // where it may lead (staying is always allowed)
};

struct ScreenDecl {
  ScreenId id;
  std::string_view shows;      // its text key
  std::vector<Verb> buttons;   // the buttons it offers
  std::vector<Rule> rules;     // events this screen handles its own way
};

std::span<const ScreenDecl> screens();
const ScreenDecl& screen_decl(ScreenId id);
// Events handled the same way on every screen (navigation buttons, commands,
// payments, answers to the dialog's own questions).
std::span<const Rule> global_rules();
// The rule for `kind` on `screen`: the screen's own, else the global one;
// "command /x" falls back to "command". Null when none (a bug: the
// exhaustive test enumerates every kind).
const Rule* find_rule(ScreenId screen, std::string_view kind);

// The table as a Mermaid state diagram.
std::string mermaid();

}  // namespace kiebot::dialog
