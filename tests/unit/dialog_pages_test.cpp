// The conversation's pages, help and diagram without I/O: every declared page
// has its texts, links and command and is reachable from where it is linked,
// help explains each category's models, and the diagram shows every screen.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <string_view>

#include "dialog/catalog.hpp"
#include "dialog/machine/reducer.hpp"
#include "dialog/machine/table.hpp"
#include "dialog/screens.hpp"
#include "dialog/texts.hpp"
#include "dialog_machine_fixture.hpp"

using namespace kiebot::dialog;
using namespace kiebot::dialog::test;

TEST(DialogMachine, TheDiagramShowsEveryScreen) {
  auto diagram = mermaid();
  EXPECT_TRUE(diagram.starts_with("stateDiagram-v2"));
  for (const auto& d : screens()) EXPECT_NE(diagram.find(std::string(name(d.id)) + ":"), std::string::npos);
}

TEST(DialogMachine, HelpExplainsEachCategorysModels) {
  Machine m;
  auto c = at(ScreenId::menu, false);
  auto s = reduce(c, CommandIn{"/help", ""}, m.ctx());
  EXPECT_EQ(s.next.screen, ScreenId::help);
  const auto& help = std::get<Send>(s.effects.at(0)).screen;
  std::size_t about_buttons = 0;
  for (const auto& row : help.markup["inline_keyboard"]) {
    for (const auto& b : row) about_buttons += decode(b.value("callback_data", ""))->verb == Verb::about;
  }
  EXPECT_EQ(about_buttons, m.catalog.categories().size());
  s = reduce(s.next, PressIn{Press{Verb::about, {"text_to_image"}}}, m.ctx(true));
  EXPECT_EQ(s.next.screen, ScreenId::about);
  const auto& about = std::get<Show>(s.effects.at(1)).screen;
  for (const auto* model : m.catalog.in_category("text_to_image")) {
    EXPECT_NE(about.text.find(model->about_in("en")), std::string::npos) << model->id;
  }
}

TEST(DialogMachine, EveryPageIsDeclaredWellAndReachable) {
  Machine m;
  std::set<std::string_view> names, commands;
  for (const auto& p : pages()) {
    SCOPED_TRACE(std::string(p.name));
    EXPECT_TRUE(names.insert(p.name).second) << "declared twice";
    EXPECT_TRUE(encodable(Verb::page, {std::string(p.name)}));
    for (const char* lang : {"ru", "en"}) {
      for (auto key : {p.shows, p.button}) EXPECT_NE(m.texts.get(lang, key), key) << lang << ": no text " << key;
    }
    for (auto link : p.links) EXPECT_NE(page_named(link), nullptr) << "links to no page " << link;
    // Only the menu and help render page links (Screens::page_links).
    for (auto from : p.linked_from) EXPECT_TRUE(from == ScreenId::menu || from == ScreenId::help) << name(from);
    if (!p.command.empty()) {
      EXPECT_TRUE(commands.insert(p.command).second) << "command used twice";
      EXPECT_EQ(find_rule(ScreenId::menu, "command " + std::string(p.command))->step,
                find_rule(ScreenId::menu, "command")->step)
          << "a page's command is taken by another rule";
      auto s = reduce(at(ScreenId::menu, false), CommandIn{std::string(p.command), ""}, m.ctx());
      EXPECT_EQ(s.next.screen, ScreenId::page);
      EXPECT_EQ(std::get<Send>(s.effects.at(0)).screen.text, m.texts.get("en", p.shows));
    }
    // Pressed from where it is linked, it shows its text.
    for (auto from : p.linked_from) {
      auto shown = from == ScreenId::menu ? m.screens.main_menu("en", "") : m.screens.help("en");
      EXPECT_NE(shown.markup.dump().find(encode(Verb::page, {std::string(p.name)})), std::string::npos) << name(from);
    }
    auto s = reduce(at(ScreenId::help, false), PressIn{Press{Verb::page, {std::string(p.name)}}}, m.ctx(true));
    EXPECT_EQ(s.next.screen, ScreenId::page);
    EXPECT_EQ(std::get<Show>(s.effects.at(1)).screen.text, m.texts.get("en", p.shows));
  }
  // A page this release does not have is a stale button: the menu.
  auto s = reduce(at(ScreenId::help, false), PressIn{Press{Verb::page, {"nope"}}}, m.ctx(true));
  EXPECT_EQ(s.next.screen, ScreenId::menu);
}
