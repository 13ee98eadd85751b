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

// A page: text and links, nothing else (a help topic, the terms, how
// paying works). Adding one is a row of pages() and its texts in both
// locales: it shows on the `page` screen, is reached by `page|<name>`
// buttons (on the screens it is linked from and on the pages linking to
// it) and, when it has one, by its command; the exhaustive test covers it.
struct PageDecl {
  std::string_view name;                // in callback data ([a-z0-9_-], 1..24)
  std::string_view shows;               // its text key
  std::string_view button;              // the text key of buttons leading to it
  std::string_view command;             // "/terms", or "" for none
  std::vector<ScreenId> linked_from;    // screens that offer its button (below their own)
  std::vector<std::string_view> links;  // pages it offers buttons to (above "menu")
};

std::span<const PageDecl> pages();
const PageDecl* page_named(std::string_view name);
const PageDecl* page_for_command(std::string_view command);

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
