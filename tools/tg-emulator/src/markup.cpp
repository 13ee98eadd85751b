// Entity parsing as core.telegram.org/bots/api#formatting-options describes it.
#include "markup.hpp"

#include <string>
#include <vector>

namespace kiebot::tg {

namespace {

std::string fail(const std::string& what) { return "Bad Request: can't parse entities: " + what; }

bool html_tag_allowed(const std::string& tag) {
  static const char* const kTags[] = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span",
                                      "tg-spoiler", "a", "code", "pre", "blockquote", "tg-emoji"};
  for (const char* t : kTags) {
    if (tag == t) return true;
  }
  return false;
}

Parsed parse_html(std::string_view in) {
  Parsed out;
  std::vector<std::pair<std::string, std::size_t>> open;
  for (std::size_t i = 0; i < in.size();) {
    char c = in[i];
    if (c == '<') {
      auto close = in.find('>', i);
      if (close == std::string_view::npos) {
        out.error = fail("Unclosed start tag at byte offset " + std::to_string(i));
        return out;
      }
      auto inside = in.substr(i + 1, close - i - 1);
      bool end_tag = !inside.empty() && inside.front() == '/';
      if (end_tag) inside.remove_prefix(1);
      auto name_end = inside.find_first_of(" \t\n=");
      std::string name(inside.substr(0, name_end));
      for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      if (end_tag) {
        if (open.empty() || (!name.empty() && open.back().first != name)) {
          out.error = fail("Unmatched end tag at byte offset " + std::to_string(i) + ", expected \"</" +
                           (open.empty() ? std::string() : open.back().first) + ">\", found \"</" + name + ">\"");
          return out;
        }
        open.pop_back();
      } else {
        if (!html_tag_allowed(name)) {
          out.error = fail("Unsupported start tag \"" + name + "\" at byte offset " + std::to_string(i));
          return out;
        }
        if (name == "a" && inside.find("href") == std::string_view::npos) {
          out.error = fail("Can't find href in <a> tag at byte offset " + std::to_string(i));
          return out;
        }
        open.emplace_back(name, i);
      }
      i = close + 1;
    } else if (c == '&') {
      auto semi = in.find(';', i);
      auto entity = semi == std::string_view::npos ? std::string_view{} : in.substr(i + 1, semi - i - 1);
      if (entity == "lt") out.text += '<';
      else if (entity == "gt") out.text += '>';
      else if (entity == "amp") out.text += '&';
      else if (entity == "quot") out.text += '"';
      else if (!entity.empty() && entity.front() == '#' && entity.size() > 1) out.text += '?';  // a code point
      else {
        out.text += '&';  // Telegram keeps unknown entities as text
        ++i;
        continue;
      }
      i = semi + 1;
    } else {
      out.text += c;
      ++i;
    }
  }
  if (!open.empty()) {
    out.error = fail("Can't find end tag corresponding to start tag \"" + open.back().first + "\"");
  }
  return out;
}

// A MarkdownV2 text read character by character; the entities open so
// far, innermost last, are closed by the same marker.
class MarkdownV2 {
 public:
  explicit MarkdownV2(std::string_view in) : in_(in) {}

  Parsed parse() {
    for (; i_ < in_.size(); ++i_) {
      char c = in_[i_];
      if (c == '\\') {
        if (i_ + 1 < in_.size()) out_.text += in_[++i_];
        continue;
      }
      if (in_code_) {
        code_char(c);
        continue;
      }
      if (!markup_char(c)) return out_;
    }
    if (!open_.empty()) {
      out_.error = fail("Can't find end of " + open_.back().name + " entity at byte offset " +
                        std::to_string(open_.back().offset));
    }
    return out_;
  }

 private:
  struct Open {
    std::string name;
    std::size_t offset;
  };

  void toggle(const std::string& name) {
    if (!open_.empty() && open_.back().name == name) {
      open_.pop_back();
    } else {
      open_.push_back({name, i_});
    }
  }

  bool next_is(char c) const { return i_ + 1 < in_.size() && in_[i_ + 1] == c; }

  bool failed(const std::string& what) {
    out_.error = fail(what);
    return false;
  }

  // Inside `code` or ```pre```: everything is text up to the closing marker.
  void code_char(char c) {
    if (c != '`') {
      out_.text += c;
      return;
    }
    bool pre = in_.substr(i_, 3) == "```";
    in_code_ = false;
    open_.pop_back();
    if (pre) i_ += 2;
  }

  // False when the text cannot be parsed (the error is in the result).
  bool markup_char(char c) {
    static constexpr std::string_view kReserved = "_*[]()~`>#+-=|{}.!";
    switch (c) {
      case '*':
        toggle("Bold");
        return true;
      case '~':
        toggle("Strikethrough");
        return true;
      case '_':
        if (next_is('_')) {
          toggle("Underline");
          ++i_;
        } else {
          toggle("Italic");
        }
        return true;
      case '|':
        if (!next_is('|')) return failed("Character '|' is reserved and must be escaped with the preceding '\\'");
        toggle("Spoiler");
        ++i_;
        return true;
      case '`':
        open_.push_back({in_.substr(i_, 3) == "```" ? "Pre" : "Code", i_});
        if (open_.back().name == "Pre") i_ += 2;
        in_code_ = true;
        return true;
      case '[':
        open_.push_back({"TextUrl", i_});
        return true;
      case ']':
        return close_link();
      default:
        if (kReserved.find(c) != std::string_view::npos) {
          return failed(std::string("Character '") + c + "' is reserved and must be escaped with the preceding '\\'");
        }
        out_.text += c;
        return true;
    }
  }

  // "](url)" after a link's text.
  bool close_link() {
    if (open_.empty() || open_.back().name != "TextUrl") {
      return failed("Character ']' is reserved and must be escaped with the preceding '\\'");
    }
    if (i_ + 1 >= in_.size() || in_[i_ + 1] != '(') {
      return failed("Can't find end of TextUrl entity at byte offset " + std::to_string(open_.back().offset));
    }
    auto close = in_.find(')', i_ + 2);
    if (close == std::string_view::npos) {
      return failed("Can't find end of a URL at byte offset " + std::to_string(i_ + 1));
    }
    open_.pop_back();
    i_ = close;
    return true;
  }

  std::string_view in_;
  std::size_t i_ = 0;
  Parsed out_;
  std::vector<Open> open_;
  bool in_code_ = false;
};

Parsed parse_markdown_v2(std::string_view in) {
  return MarkdownV2(in).parse();
}

// Legacy Markdown: *bold*, _italic_, `code`, ```pre```, [text](url); no escapes needed elsewhere.
Parsed parse_markdown(std::string_view in) {
  Parsed out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '*' || c == '_' || c == '`') {
      std::string_view marker = in.substr(i, c == '`' && in.substr(i, 3) == "```" ? 3 : 1);
      auto end = in.find(marker, i + marker.size());
      if (end == std::string_view::npos) {
        out.error = fail("Can't find end of the entity starting at byte offset " + std::to_string(i));
        return out;
      }
      out.text += in.substr(i + marker.size(), end - i - marker.size());
      i = end + marker.size() - 1;
    } else if (c == '[') {
      auto close = in.find("](", i);
      auto paren = close == std::string_view::npos ? close : in.find(')', close);
      if (paren == std::string_view::npos) {
        out.error = fail("Can't find end of the entity starting at byte offset " + std::to_string(i));
        return out;
      }
      out.text += in.substr(i + 1, close - i - 1);
      i = paren;
    } else {
      out.text += c;
    }
  }
  return out;
}

}  // namespace

Parsed parse_text(std::string_view text, std::string_view parse_mode) {
  std::string mode(parse_mode);
  for (auto& c : mode) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (mode.empty()) return Parsed{std::string(text), std::nullopt};
  if (mode == "html") return parse_html(text);
  if (mode == "markdownv2") return parse_markdown_v2(text);
  if (mode == "markdown") return parse_markdown(text);
  return Parsed{{}, "Bad Request: unsupported parse_mode"};
}

std::size_t utf16_length(std::string_view utf8) {
  std::size_t units = 0;
  for (std::size_t i = 0; i < utf8.size();) {
    auto c = static_cast<unsigned char>(utf8[i]);
    std::size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : 4;
    units += len == 4 ? 2 : 1;
    i += len;
  }
  return units;
}

}  // namespace kiebot::tg
