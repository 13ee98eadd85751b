// Accounts storage on Redis: the per-user scripts and the batched global
// views (stats counters, hold expiry index).
#include "store.hpp"

#include <random>

#include "kiebot/redis/redis.hpp"
#include "scripts.hpp"
#include "store_internal.hpp"
#include "validate.hpp"

namespace kiebot::accounts {

namespace {

const redis::Script& script(const char* const& source) {
  // One Script (with its SHA1) per embedded source, built on first use.
  static std::map<const char*, redis::Script> cache;
  auto it = cache.find(source);
  if (it == cache.end()) it = cache.emplace(source, redis::Script(source)).first;
  return it->second;
}

nlohmann::json value(const redis::Reply& r) {
  switch (r.type) {
    case redis::Reply::Type::integer:
      return r.integer;
    case redis::Reply::Type::string:
    case redis::Reply::Type::status:
      return r.str;
    default:
      return nullptr;
  }
}

}  // namespace

namespace detail {

std::string user_tag(UserId user_id) {
  return "{u:" + to_string(user_id) + "}";
}

// {status, k1, v1, ...} -> Outcome.
Outcome outcome(const redis::Reply& reply) {
  if (reply.is_error()) {
    // Redis busy, loading or read-only: answered 503 and retried by the
    // caller. Any other error reply is a mistake in the script: a bug.
    if (redis::transient_error_reply(reply.str)) {
      throw redis::Error(redis::Error::Kind::unavailable, "accounts script refused: " + reply.str);
    }
    throw std::logic_error("accounts script failed: " + reply.str);
  }
  if (reply.type != redis::Reply::Type::array || reply.elements.empty()) {
    throw std::logic_error("accounts script returned an unexpected reply");
  }
  Outcome out;
  out.status = static_cast<int>(reply.elements[0].as_integer());
  out.body = nlohmann::json::object();
  for (std::size_t i = 1; i + 1 < reply.elements.size(); i += 2) {
    out.body[reply.elements[i].str] = value(reply.elements[i + 1]);
  }
  return out;
}

std::int64_t field(const nlohmann::json& body, const char* name) {
  auto it = body.find(name);
  return it != body.end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
}

std::string now_text() {
  return std::to_string(now_ms(std::chrono::system_clock::now()));
}

}  // namespace detail

using namespace detail;

net::awaitable<redis::Reply> Store::run(const char* const& source, std::string user_key, Args args) {
  std::vector<std::string> keys;
  keys.push_back(std::move(user_key));
  auto reply = co_await redis_.eval(script(source), std::move(keys), std::move(args));
  bool reads_only = &source == &lua::user_get || &source == &lua::hold_get || &source == &lua::audit;
  if (settings_.durability == Durability::replica && !reads_only && !reply.is_error()) {
    // The answer leaves only once enough replicas have the write.
    Args wait{"WAIT", std::to_string(settings_.min_replicas), std::to_string(settings_.replica_timeout.count())};
    auto acked = co_await redis_.exec(std::move(wait), settings_.replica_timeout + std::chrono::seconds(2));
    if (acked.is_error() || acked.integer < settings_.min_replicas) {
      throw NotReplicated("written to " + std::to_string(acked.integer) + " of " +
                          std::to_string(settings_.min_replicas) + " replicas in time");
    }
  }
  co_return reply;
}

Store::Store(redis::Client& redis, Settings settings) : redis_(redis), settings_(std::move(settings)) {}

void Store::count(const char* name, std::int64_t by) {
  if (by != 0) pending_.counts[name] += by;
}

net::awaitable<void> Store::flush() {
  Pending batch;
  std::swap(batch, pending_);
  try {
    for (const auto& [name, by] : batch.counts) {
      Args command{"HINCRBY", kStats, name, std::to_string(by)};
      co_await redis_.exec(std::move(command));
      batch.counts[name] = 0;
    }
    if (!batch.index_add.empty()) {
      Args command{"ZADD", kExpiry};
      for (const auto& [score, member] : batch.index_add) {
        command.push_back(std::to_string(score));
        command.push_back(member);
      }
      co_await redis_.exec(std::move(command));
      batch.index_add.clear();
    }
    if (!batch.index_remove.empty()) {
      Args command{"ZREM", kExpiry};
      command.insert(command.end(), batch.index_remove.begin(), batch.index_remove.end());
      co_await redis_.exec(std::move(command));
      batch.index_remove.clear();
    }
  } catch (const redis::Error&) {
    // Keep what was not written for the next flush.
    for (const auto& [name, by] : batch.counts) pending_.counts[name] += by;
    pending_.index_add.insert(pending_.index_add.end(), batch.index_add.begin(), batch.index_add.end());
    pending_.index_remove.insert(pending_.index_remove.end(), batch.index_remove.begin(), batch.index_remove.end());
    report_error("stats_flush_failed", std::current_exception());
  }
}

net::awaitable<Outcome> Store::user(UserId user_id) {
  auto now = std::chrono::system_clock::now();
  Args args{std::to_string(now_ms(now)), utc_day(now), std::to_string(settings_.free_per_day),
            std::to_string(settings_.ledger_max)};
  auto reply = co_await run(lua::user_get, user_tag(user_id), std::move(args));
  auto raw = outcome(reply).body;
  count("holds_open", -field(raw, "holds_expired"));
  bool is_owner = settings_.owner_id == user_id.value();
  bool is_admin = is_owner || field(raw, "is_admin") == 1;
  nlohmann::json admin = nullptr;
  if (is_owner) {
    admin = {{"limit", nullptr}, {"spent", field(raw, "admin_spent")}, {"remaining", nullptr}};
  } else if (is_admin) {
    auto limit = field(raw, "admin_limit");
    auto spent = field(raw, "admin_spent");
    auto held = field(raw, "admin_held");
    admin = {{"limit", limit},
             {"spent", spent},
             {"held", held},
             {"remaining", std::max<std::int64_t>(0, limit - spent - held)}};
  }
  nlohmann::json referrer = nullptr;
  if (raw["referrer_id"].is_string()) {
    if (auto id = parse_user_id(raw["referrer_id"].get<std::string>())) referrer = *id;
  }
  Outcome out;
  out.body = {
      {"user_id", user_id},
      {"exists", field(raw, "exists") == 1},
      {"balance", field(raw, "balance")},
      {"held", field(raw, "held")},
      {"language", raw["language"]},
      {"is_admin", is_admin},
      {"is_owner", is_owner},
      {"admin", admin},
      {"free",
       {{"remaining", field(raw, "free_remaining")},
        {"daily_limit", settings_.free_per_day},
        {"used_today", field(raw, "free_used_today")},
        {"bank", field(raw, "free_bank")}}},
      {"gift_claimed", field(raw, "gift_claimed") == 1},
      {"referrer_id", referrer},
      {"referrals", field(raw, "referrals")},
  };
  co_return out;
}

net::awaitable<Outcome> Store::hold(UserId user_id, std::string kind, Kopecks amount, std::string key,
                                    std::optional<std::int64_t> ttl_s) {
  auto now = std::chrono::system_clock::now();
  auto ttl_ms =
      ttl_s ? *ttl_s * 1000 : std::chrono::duration_cast<std::chrono::milliseconds>(settings_.hold_ttl).count();
  auto hold_id = new_hold_id(user_id);
  Args args{std::to_string(now_ms(now)),
            utc_day(now),
            kind,
            to_string(amount),
            key,
            std::to_string(ttl_ms),
            hold_id.value(),
            std::to_string(settings_.free_per_day),
            settings_.owner_id == user_id.value() ? "1" : "0",
            std::to_string(settings_.ledger_max)};
  auto reply = co_await run(lua::hold_create, user_tag(user_id), std::move(args));
  auto out = outcome(reply);
  count("holds_open", -field(out.body, "holds_expired"));
  out.body.erase("holds_expired");
  if (out.status == 200 && field(out.body, "replayed") == 0) {
    count("users", field(out.body, "created"));
    count("holds_open", 1);
    pending_.index_add.emplace_back(field(out.body, "expires_ms"), out.body["hold_id"].get<std::string>());
  }
  out.body.erase("created");
  if (out.status == 200) out.body["replayed"] = field(out.body, "replayed") == 1;
  co_return out;
}

net::awaitable<Outcome> Store::settle(HoldId hold_id, std::string action) {
  auto user_id = hold_user(hold_id.value());
  if (!user_id) co_return Outcome{404, {{"error", "hold_not_found"}, {"message", "no such hold"}}};
  Args args{now_text(), hold_id.value(), action, std::to_string(settings_.ledger_max)};
  auto reply = co_await run(lua::hold_settle, user_tag(*user_id), std::move(args));
  auto out = outcome(reply);
  if (field(out.body, "changed") == 1) {
    count("holds_open", -1);
    count("money_spent", field(out.body, "spent"));
    pending_.index_remove.push_back(std::move(hold_id).value());
  }
  for (const char* internal : {"changed", "spent", "expired_now"}) out.body.erase(internal);
  co_return out;
}

net::awaitable<Outcome> Store::credit(UserId user_id, Kopecks amount, std::string reason, std::string key,
                                      std::string ref, std::optional<std::int64_t> admin_id) {
  if (admin_id) {
    // The admin's half first: a refusal there credits nothing.
    bool is_owner = settings_.owner_id == *admin_id;
    Args grant{now_text(),           key,
               to_string(amount),    to_string(user_id),
               is_owner ? "1" : "0", std::to_string(settings_.ledger_max)};
    auto granted = outcome(co_await run(lua::grant, user_tag(UserId(*admin_id)), std::move(grant)));
    if (granted.status != 200) co_return granted;
  }
  Args args{now_text(),
            to_string(amount),
            reason,
            key,
            ref,
            std::to_string(settings_.ledger_max),
            admin_id ? std::to_string(*admin_id) : std::string()};
  auto reply = co_await run(lua::credit, user_tag(user_id), std::move(args));
  auto out = outcome(reply);
  if (out.status == 200 && field(out.body, "credited") == 1) {
    count("users", field(out.body, "created"));
    const char* counter = "money_granted";  // gifts, referrals, refunds of ours
    if (reason == "topup" || reason == "stars") counter = "money_in";
    if (reason == "admin_grant") counter = "money_admin_granted";
    count(counter, amount.count());
  }
  out.body.erase("created");
  if (out.status == 200) {
    out.body["credited"] = field(out.body, "credited") == 1;
    out.body["replayed"] = field(out.body, "replayed") == 1;
  }
  co_return out;
}

net::awaitable<Outcome> Store::debit(UserId user_id, Kopecks amount, std::string reason, std::string key,
                                     std::string ref, std::optional<std::int64_t> admin_id) {
  Args args{now_text(),
            to_string(amount),
            reason,
            key,
            ref,
            std::to_string(settings_.ledger_max),
            admin_id ? std::to_string(*admin_id) : std::string()};
  auto out = outcome(co_await run(lua::debit, user_tag(user_id), std::move(args)));
  if (out.status == 200 && field(out.body, "debited") == 1) {
    count("users", field(out.body, "created"));
    count(reason == "stars_refund" ? "money_refunded" : "money_debited", amount.count());
  }
  out.body.erase("created");
  if (out.status == 200) {
    out.body["debited"] = field(out.body, "debited") == 1;
    out.body["replayed"] = field(out.body, "replayed") == 1;
  }
  co_return out;
}

net::awaitable<Outcome> Store::hold_info(HoldId hold_id) {
  auto user_id = hold_user(hold_id.value());
  if (!user_id) co_return Outcome{404, {{"error", "hold_not_found"}, {"message", "no such hold"}}};
  Args args{now_text(), hold_id.value(), std::to_string(settings_.ledger_max)};
  auto out = outcome(co_await run(lua::hold_get, user_tag(*user_id), std::move(args)));
  count("holds_open", -field(out.body, "holds_expired"));
  out.body.erase("holds_expired");
  if (out.status == 200) out.body["user_id"] = *user_id;
  co_return out;
}

net::awaitable<Outcome> Store::gift(UserId user_id) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_int_distribution<std::int64_t> pick(settings_.gift_min, settings_.gift_max);
  Args args{now_text(), std::to_string(pick(rng)), std::to_string(settings_.ledger_max)};
  auto reply = co_await run(lua::gift, user_tag(user_id), std::move(args));
  auto out = outcome(reply);
  if (out.status == 200) {
    count("users", field(out.body, "created"));
    count("money_granted", field(out.body, "amount"));
  }
  out.body.erase("created");
  co_return out;
}

net::awaitable<Outcome> Store::language(UserId user_id, std::string language) {
  Args args{now_text(), language, std::to_string(settings_.ledger_max)};
  auto reply = co_await run(lua::language, user_tag(user_id), std::move(args));
  auto out = outcome(reply);
  count("users", field(out.body, "created"));
  out.body.erase("created");
  co_return out;
}

net::awaitable<Outcome> Store::referral(UserId user_id, UserId referrer_id) {
  auto now = std::chrono::system_clock::now();
  auto args = [&](const char* side, UserId other, const char* fresh) {
    return Args{
        std::to_string(now_ms(now)),
        side,
        to_string(other),
        std::to_string(settings_.referral_bonus),
        std::to_string(settings_.ledger_max),
        utc_day(now),
        std::to_string(settings_.referral_daily_cap),
        std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(settings_.referral_new_window).count()),
        fresh};
  };
  auto first = outcome(co_await run(lua::referral, user_tag(user_id), args("referee", referrer_id, "0")));
  count("users", field(first.body, "created"));
  if (first.status != 200) co_return first;
  const char* fresh = field(first.body, "fresh") == 1 ? "1" : "0";
  // The referrer's side decides the reward; both later halves are
  // idempotent, so a retry after a failure here completes the pair once.
  auto second = outcome(co_await run(lua::referral, user_tag(referrer_id), args("referrer", user_id, fresh)));
  count("users", field(second.body, "created"));
  bool rewarded = field(second.body, "rewarded") == 1;
  if (rewarded) {
    auto third = outcome(co_await run(lua::referral, user_tag(user_id), args("referee_bonus", referrer_id, fresh)));
    if (third.status != 200) co_return third;
  }
  Outcome out;
  out.body = {{"user_id", user_id},
              {"referrer_id", referrer_id},
              {"rewarded", rewarded},
              {"bonus", rewarded ? settings_.referral_bonus : 0},
              {"replayed", field(first.body, "replayed") == 1}};
  co_return out;
}

net::awaitable<std::size_t> Store::expire_due(std::size_t max) {
  Args command{"ZRANGEBYSCORE", kExpiry, "-inf", now_text(), "LIMIT", "0", std::to_string(max)};
  auto due = co_await redis_.exec(std::move(command));
  for (const auto& member : due.elements) {
    auto out = co_await settle(HoldId(member.str), "expire");
    bool settled_before = out.status == 200 && out.body.value("state", "") != "held" &&
                          std::find(pending_.index_remove.begin(), pending_.index_remove.end(), member.str) ==
                              pending_.index_remove.end();
    if (out.status == 404 || settled_before) pending_.index_remove.push_back(member.str);
  }
  co_return due.elements.size();
}

}  // namespace kiebot::accounts
