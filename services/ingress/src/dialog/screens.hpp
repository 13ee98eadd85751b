// What the dialog shows: message text and inline keyboard for each screen,
// built without I/O from the catalog, the texts and the data to show.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "catalog.hpp"
#include "machine/effects.hpp"
#include "machine/records.hpp"
#include "texts.hpp"

namespace kiebot::dialog {

struct PageDecl;
enum class ScreenId : std::uint8_t;

// Who pays for a generation, as the confirmation screen shows it.
struct Payer {
  std::string kind;  // free, admin, paid; empty: nobody can
  std::int64_t amount = 0;
  std::string line;  // the screen's explanation
};

class Screens {
 public:
  Screens(const Catalog& catalog, const Texts& texts) : catalog_(catalog), texts_(texts) {}

  Screen main_menu(const std::string& lang, const std::string& greeting) const;
  Screen category(const std::string& lang, const std::string& category) const;
  // The form's parameter step: every choice and switch as buttons.
  Screen form(const std::string& lang, const Model& model, const nlohmann::json& values,
              const std::string& nonce) const;
  Screen confirm(const std::string& lang, const Model& model, const nlohmann::json& values, const std::string& nonce,
                 const Payer& payer, const std::string& after) const;
  Screen insufficient(const std::string& lang, std::int64_t price, std::int64_t balance) const;
  Screen balance(const std::string& lang, const nlohmann::json& user) const;
  Screen top_up(const std::string& lang, const std::vector<std::int64_t>& presets,
                std::int64_t stars_per_100_rub) const;
  Screen free(const std::string& lang, const nlohmann::json& user) const;
  Screen history(const std::string& lang, const std::vector<JobRecord>& jobs) const;
  Screen running(const std::string& lang, const std::vector<JobRecord>& jobs) const;
  Screen language(const std::string& lang) const;
  Screen admin(const std::string& lang, bool owner) const;
  // Help: how it works, and a button per category to what its models do.
  Screen help(const std::string& lang) const;
  Screen about(const std::string& lang, const std::string& category) const;
  // One of the table's pages: its text, its links, the menu.
  Screen page(const std::string& lang, const PageDecl& page) const;
  Screen text_with_menu(std::string text, const std::string& lang) const;
  // A form's question: the text, a go-on button (`go_key`: "btn.skip",
  // "btn.done"; none when ""), back to the parameters (`back`) and the menu.
  Screen ask(const std::string& lang, std::string text, const std::string& nonce, const std::string& go_key,
             bool back = false) const;

  const Texts& texts() const { return texts_; }
  // "Aspect ratio: 16:9 · Sound: on": the chosen parameters in words.
  std::string summary(const std::string& lang, const Model& model, const nlohmann::json& values) const;

 private:
  nlohmann::json menu_button(const std::string& lang) const;
  // A row of buttons to the pages the table links from `screen`.
  void page_links(nlohmann::json& rows, ScreenId screen, const std::string& lang) const;
  std::string option_label(const std::string& lang, const Field& field, const std::string& value) const;
  nlohmann::json type_value_button(const std::string& lang, const Field& field, const std::string& current,
                                   const std::string& nonce, std::size_t index) const;

  const Catalog& catalog_;
  const Texts& texts_;
};

nlohmann::json button(std::string text, std::string callback_data);
// Stars for a top-up of `kopecks` at the configured rate (rounded up).
std::int64_t stars_for(std::int64_t kopecks, std::int64_t stars_per_100_rub);

}  // namespace kiebot::dialog
