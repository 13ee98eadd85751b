// Parsing ACCOUNTS_TOKENS and authenticating callers.
#include "callers.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>

#include "kiebot/base/secrets.hpp"

namespace kiebot::accounts {

namespace {

constexpr std::array kScopes = {
    std::string_view("*"),
    std::string_view("read"),
    std::string_view("hold"),
    std::string_view("settle"),
    std::string_view("user"),
    std::string_view("admin"),
    std::string_view("credit:topup"),
    std::string_view("credit:admin_grant"),
    std::string_view("credit:refund"),
    std::string_view("credit:referral"),
    std::string_view("credit:stars"),
    std::string_view("debit:stars_refund"),
    std::string_view("debit:admin_debit"),
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool token_char(char c) {
  // Whatever a Bearer header can carry (RFC 6750's b64token) and nothing
  // that would make the list ambiguous.
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~' || c == '+' || c == '/' || c == '=';
}

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

}  // namespace

bool known_scope(std::string_view scope) {
  return std::find(kScopes.begin(), kScopes.end(), scope) != kScopes.end();
}

bool Caller::may(std::string_view scope) const {
  return std::any_of(scopes.begin(), scopes.end(), [&](const std::string& s) { return s == "*" || s == scope; });
}

Callers Callers::parse(std::string_view spec) {
  Callers out;
  std::size_t position = 0;
  while (!spec.empty()) {
    auto end = spec.find_first_of(";\n");
    auto entry = trim(spec.substr(0, end));
    spec = end == std::string_view::npos ? std::string_view() : spec.substr(end + 1);
    if (entry.empty()) continue;
    ++position;
    auto where = "entry " + std::to_string(position);
    auto first = entry.find(':');
    auto second = first == std::string_view::npos ? first : entry.find(':', first + 1);
    if (second == std::string_view::npos) {
      throw std::invalid_argument(where + " is not name:token:scope,scope");
    }
    Caller caller;
    caller.name = std::string(trim(entry.substr(0, first)));
    where += " (" + caller.name + ")";
    if (caller.name.empty() || !std::all_of(caller.name.begin(), caller.name.end(), name_char)) {
      throw std::invalid_argument("entry " + std::to_string(position) + ": a name is letters, digits, - and _");
    }
    auto token = trim(entry.substr(first + 1, second - first - 1));
    if (token.size() < 16 || !std::all_of(token.begin(), token.end(), token_char)) {
      throw std::invalid_argument(where + ": a token is at least 16 of A-Z a-z 0-9 - . _ ~ + / =");
    }
    caller.token = std::string(token);
    auto scopes = entry.substr(second + 1);
    while (!scopes.empty()) {
      auto comma = scopes.find(',');
      auto scope = trim(scopes.substr(0, comma));
      scopes = comma == std::string_view::npos ? std::string_view() : scopes.substr(comma + 1);
      if (scope.empty()) continue;
      if (!known_scope(scope)) throw std::invalid_argument(where + ": unknown scope " + std::string(scope));
      caller.scopes.emplace_back(scope);
    }
    if (caller.scopes.empty()) throw std::invalid_argument(where + ": no scopes");
    for (const auto& other : out.callers_) {
      if (other.name == caller.name) throw std::invalid_argument(where + ": the name is used twice");
      if (other.token == caller.token) throw std::invalid_argument(where + ": the token of " + other.name + " again");
    }
    out.add(std::move(caller));
  }
  if (out.callers_.empty()) throw std::invalid_argument("no entries");
  return out;
}

void Callers::add(Caller caller) {
  callers_.push_back(std::move(caller));
}

const Caller* Callers::authenticate(std::optional<std::string_view> authorization) const {
  constexpr std::string_view kBearer = "Bearer ";
  if (!authorization || !authorization->starts_with(kBearer)) return nullptr;
  auto given = authorization->substr(kBearer.size());
  const Caller* found = nullptr;
  // Every token is compared, so the time taken says nothing about which matched.
  for (const auto& caller : callers_) {
    if (same_secret(given, caller.token) && found == nullptr) found = &caller;
  }
  return found;
}

}  // namespace kiebot::accounts
