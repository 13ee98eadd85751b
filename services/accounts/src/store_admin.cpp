// Accounts storage for the owner and on-call: admins, a user's ledger, the
// stats counters, the audit that recomputes every balance, and the check at
// start that Redis persists as configured.
#include "store.hpp"

#include <algorithm>

#include "kiebot/base/log.hpp"
#include "kiebot/redis/redis.hpp"
#include "scripts.hpp"
#include "store_internal.hpp"
#include "validate.hpp"

namespace kiebot::accounts {

using namespace detail;

net::awaitable<Outcome> Store::admin(UserId user_id, std::string action, Kopecks limit) {
  Args args{now_text(), action, to_string(limit), std::to_string(settings_.ledger_max)};
  auto reply = co_await run(lua::admin, user_tag(user_id), std::move(args));
  auto out = outcome(reply);
  count("users", field(out.body, "created"));
  out.body.erase("created");
  bool is_admin = field(out.body, "is_admin") == 1;
  Args command{is_admin ? "SADD" : "SREM", kAdmins, to_string(user_id)};
  co_await redis_.exec(std::move(command));
  out.body["user_id"] = user_id;
  out.body["is_admin"] = is_admin;
  co_return out;
}

net::awaitable<Outcome> Store::admins() {
  Args command{"SMEMBERS", kAdmins};
  auto members = co_await redis_.exec(std::move(command));
  std::vector<std::int64_t> ids;
  for (const auto& m : members.elements) {
    if (auto id = parse_user_id(m.str)) ids.push_back(*id);
  }
  if (settings_.owner_id && std::find(ids.begin(), ids.end(), *settings_.owner_id) == ids.end()) {
    ids.push_back(*settings_.owner_id);
  }
  std::sort(ids.begin(), ids.end());
  nlohmann::json list = nlohmann::json::array();
  for (auto id : ids) {
    auto u = co_await user(UserId(id));
    if (!u.body["is_admin"].get<bool>()) continue;
    list.push_back({{"user_id", id}, {"is_owner", u.body["is_owner"]}, {"admin", u.body["admin"]}});
  }
  co_return Outcome{200, {{"admins", list}}};
}

net::awaitable<Outcome> Store::ledger(UserId user_id, std::int64_t limit) {
  Args command{"XREVRANGE", user_tag(user_id) + ":ledger", "+", "-", "COUNT", std::to_string(limit)};
  auto reply = co_await redis_.exec(std::move(command));
  nlohmann::json entries = nlohmann::json::array();
  for (const auto& entry : reply.elements) {
    if (entry.elements.size() != 2) continue;
    nlohmann::json e = {{"id", entry.elements[0].str}};
    const auto& fields = entry.elements[1].elements;
    for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
      const auto& name = fields[i].str;
      const auto& text = fields[i + 1].str;
      if (name == "delta" || name == "balance" || name == "ts") {
        e[name] = std::stoll(text);
      } else {
        e[name] = text;
      }
    }
    entries.push_back(std::move(e));
  }
  co_return Outcome{200, {{"user_id", user_id}, {"entries", entries}}};
}

net::awaitable<Outcome> Store::stats() {
  co_await flush();
  Args command{"HGETALL", kStats};
  auto reply = co_await redis_.exec(std::move(command));
  nlohmann::json body = {
      {"users", 0},          {"money_in", 0},      {"money_spent", 0}, {"money_granted", 0}, {"money_admin_granted", 0},
      {"money_refunded", 0}, {"money_debited", 0}, {"holds_open", 0}};
  for (std::size_t i = 0; i + 1 < reply.elements.size(); i += 2) {
    body[reply.elements[i].str] = std::stoll(reply.elements[i + 1].str);
  }
  Args last{"HGETALL", kAudit};
  auto audit = co_await redis_.exec(std::move(last));
  body["audit"] = nullptr;
  if (!audit.elements.empty()) {
    nlohmann::json summary = nlohmann::json::object();
    for (std::size_t i = 0; i + 1 < audit.elements.size(); i += 2) {
      summary[audit.elements[i].str] = std::stoll(audit.elements[i + 1].str);
    }
    body["audit"] = summary;
    body["money_held"] = summary.value("money_held", std::int64_t{0});  // as of that audit
  }
  co_return Outcome{200, body};
}

net::awaitable<Outcome> Store::audit() {
  std::int64_t users = 0, drifting_count = 0, held_total = 0, balance_total = 0;
  nlohmann::json drifting = nlohmann::json::array();
  std::string cursor = "0";
  do {
    Args scan{"SCAN", cursor, "MATCH", "{u:*}:acct", "COUNT", "1000"};
    auto page = co_await redis_.exec(std::move(scan));
    if (page.is_error() || page.elements.size() != 2)
      throw redis::Error(redis::Error::Kind::protocol, "audit: SCAN failed: " + page.str);
    cursor = page.elements[0].str;
    for (const auto& key : page.elements[1].elements) {
      // "{u:<id>}:acct"
      auto close = key.str.find('}');
      if (key.str.size() < 4 || close == std::string::npos) continue;
      auto id = parse_user_id(std::string_view(key.str).substr(3, close - 3));
      if (!id) continue;
      auto out = outcome(co_await run(lua::audit, user_tag(UserId(*id)), Args{}));
      ++users;
      held_total += field(out.body, "held");
      balance_total += field(out.body, "balance");
      bool drift = field(out.body, "balance_drift") != 0 || field(out.body, "held_drift") != 0 ||
                   field(out.body, "free_bank_drift") != 0 || field(out.body, "chain_breaks") != 0;
      if (!drift) continue;
      ++drifting_count;
      if (drifting.size() < 100) {
        out.body["user_id"] = *id;
        drifting.push_back(out.body);
      }
    }
  } while (cursor != "0");
  auto finished = now_text();
  Args record{"HSET",        kAudit,
              "finished_ms", finished,
              "users",       std::to_string(users),
              "drifting",    std::to_string(drifting_count),
              "money_held",  std::to_string(held_total),
              "balances",    std::to_string(balance_total)};
  co_await redis_.exec(std::move(record));
  Outcome out;
  out.status = drifting_count == 0 ? 200 : 409;
  out.body = {{"finished_ms", std::stoll(finished)}, {"users", users},
              {"drifting", drifting_count},          {"money_held", held_total},
              {"balances", balance_total},           {"drift", drifting}};
  co_return out;
}

net::awaitable<void> Store::require_durability() {
  Args command{"INFO", "persistence"};
  auto info = co_await redis_.exec(std::move(command));
  if (info.is_error()) throw redis::Error(redis::Error::Kind::protocol, "INFO persistence failed: " + info.str);
  bool aof = info.str.find("aof_enabled:1") != std::string::npos;
  switch (settings_.durability) {
    case Durability::replica:
      if (!aof)
        log::warn("replica_without_aof",
                  {{"message", "Redis has no AOF: acknowledged money lives on the replicas only"}});
      co_return;
    case Durability::everysec:
      if (!aof) break;
      log::warn("durability_everysec",
                {{"message",
                  "ACCOUNTS_DURABILITY=everysec: a crash of Redis may lose the last second of acknowledged money"}});
      co_return;
    case Durability::fsync: {
      if (!aof) break;
      Args get{"CONFIG", "GET", "appendfsync"};
      auto fsync = co_await redis_.exec(std::move(get));
      bool always = !fsync.is_error() && fsync.elements.size() == 2 && fsync.elements[1].str == "always";
      if (!always) {
        throw PermanentError(
            "Redis at REDIS_URL does not fsync every write (appendfsync is not always"
            " or CONFIG GET is refused): a crash would lose acknowledged money. Set appendfsync always, or"
            " ACCOUNTS_DURABILITY=replica (a Redis with replicas) or ACCOUNTS_DURABILITY=everysec (an explicit risk).");
      }
      co_return;
    }
  }
  throw PermanentError(
      "Redis at REDIS_URL does not persist with AOF (appendonly no): accounts would lose money on a restart. "
      "Enable appendonly, or set ACCOUNTS_ALLOW_VOLATILE=1 for tests.");
}

}  // namespace kiebot::accounts
