// Who may call accounts and what each caller may do: bearer tokens with scopes.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiebot::accounts {

// What a token allows. Credits and debits are scoped per reason
// ("credit:stars", "debit:admin_debit"), so a caller that only settles holds
// cannot mint money.
//   read    GET users, holds, ledgers, admins, stats
//   hold    create holds
//   settle  commit and release holds
//   user    gift, language, referral
//   admin   add, change and remove admins
//   credit:<reason>, debit:<reason>
//   *       everything (the single ACCOUNTS_TOKEN of local runs)
struct Caller {
  std::string name;
  std::string token;
  std::vector<std::string> scopes;

  bool may(std::string_view scope) const;
};

class Callers {
 public:
  // ACCOUNTS_TOKENS: entries separated by ';' (or newlines), each
  // `name:token:scope,scope`. Throws std::invalid_argument naming the bad
  // entry (by position and name, never by token).
  static Callers parse(std::string_view spec);

  void add(Caller caller);
  // The caller whose token `authorization` ("Bearer <token>") presents;
  // compared in constant time; null when none.
  const Caller* authenticate(std::optional<std::string_view> authorization) const;
  const std::vector<Caller>& all() const { return callers_; }

 private:
  std::vector<Caller> callers_;
};

// Every scope a token may name.
bool known_scope(std::string_view scope);

}  // namespace kiebot::accounts
