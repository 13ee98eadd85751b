// The durable queue of money operations (see money_queue.hpp).
#include "money_queue.hpp"

#include <nlohmann/json.hpp>

#include "kiebot/base/json.hpp"

#include "kiebot/redis/redis.hpp"

namespace kiebot::dialog {

using nlohmann::json;

namespace {

// KEYS: ops, due, since. ARGV: key, op json, due_ms, created_ms.
// Once per key: a redelivered payment update adds nothing.
const redis::Script kAdd(R"lua(
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 1 then
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
  redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
  return 1
end
return 0
)lua");

// KEYS: ops, due. ARGV: now_ms, max, claim_ms.
// Returns the claimed ops' json; a claim pushes the op's due time past the
// claim, so a replica that dies holding it only delays it.
const redis::Script kClaim(R"lua(
local keys = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for _, k in ipairs(keys) do
  local op = redis.call('HGET', KEYS[1], k)
  if op then
    redis.call('ZADD', KEYS[2], tonumber(ARGV[1]) + tonumber(ARGV[3]), k)
    table.insert(out, op)
  else
    redis.call('ZREM', KEYS[2], k)
  end
end
return out
)lua");

// KEYS: ops, due, since. ARGV: key.
const redis::Script kDone(R"lua(
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1
)lua");

// KEYS: ops, due. ARGV: key, op json, due_ms. Only while the op is still queued.
const redis::Script kRetry(R"lua(
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return 1
)lua");

// KEYS: ops, due, since, refused. ARGV: key, record json.
const redis::Script kRefuse(R"lua(
redis.call('HSET', KEYS[4], ARGV[1], ARGV[2])
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1
)lua");

}  // namespace

std::string MoneyOp::to_json() const {
  json j = {{"v", 1},
            {"key", key},
            {"kind", kind},
            {"user_id", user_id},
            {"amount", amount},
            {"reason", reason},
            {"ref", ref},
            {"admin_id", admin_id ? admin_id->value() : 0},  // 0: none, as v1 stored it
            {"notify_chat", notify_chat},
            {"lang", lang},
            {"attempts", attempts},
            {"created_ms", created_ms}};
  if (!name.empty()) j["name"] = name;
  if (!payload.empty()) j["payload"] = payload;
  return j.dump();
}

std::optional<MoneyOp> MoneyOp::from_json(std::string_view text) {
  auto j = parse_untrusted(text);
  if (!j.is_object() || j.value("v", 0) != 1) return std::nullopt;
  MoneyOp op;
  try {
    op.key = j.at("key").get<std::string>();
    op.kind = j.at("kind").get<std::string>();
    op.user_id = UserId(j.at("user_id").get<std::int64_t>());
    op.amount = Kopecks(j.at("amount").get<std::int64_t>());
    op.reason = j.at("reason").get<std::string>();
    op.ref = j.value("ref", "");
    if (auto admin = j.value("admin_id", std::int64_t{0}); admin > 0) op.admin_id = UserId(admin);
    op.notify_chat = ChatId(j.value("notify_chat", std::int64_t{0}));
    op.lang = j.value("lang", "ru");
    op.attempts = j.value("attempts", 0);
    op.created_ms = j.value("created_ms", std::int64_t{0});
    op.name = j.value("name", "");
    op.payload = j.value("payload", "");
  } catch (const json::exception&) {
    return std::nullopt;
  }
  bool money = op.kind == "credit" || op.kind == "debit";
  bool known = money || op.kind == "referral" || op.kind == "submission";
  if (op.key.empty() || !known || op.user_id.value() <= 0 || (money && op.amount <= Kopecks(0))) return std::nullopt;
  if (op.kind == "submission" && (op.notify_chat.value() == 0 || !parse_untrusted(op.payload).is_object())) return std::nullopt;
  return op;
}

MoneyQueue::MoneyQueue(redis::Client& redis, std::string prefix)
    : redis_(redis),
      ops_(prefix + ":ops"),
      due_(prefix + ":due"),
      since_(prefix + ":since"),
      refused_(prefix + ":refused") {}

net::awaitable<void> MoneyQueue::add(MoneyOp op, std::int64_t due_ms) {
  std::vector<std::string> keys{ops_, due_, since_};
  std::vector<std::string> args{op.key, op.to_json(), std::to_string(due_ms), std::to_string(op.created_ms)};
  auto reply = co_await redis_.eval(kAdd, std::move(keys), std::move(args));
  redis::throw_if_error(reply, "money queue add");
}

net::awaitable<std::vector<MoneyOp>> MoneyQueue::claim_due(std::int64_t now_ms, std::size_t max,
                                                           std::chrono::milliseconds claim) {
  std::vector<std::string> keys{ops_, due_};
  std::vector<std::string> args{std::to_string(now_ms), std::to_string(max), std::to_string(claim.count())};
  auto reply = co_await redis_.eval(kClaim, std::move(keys), std::move(args));
  redis::throw_if_error(reply, "money queue claim");
  std::vector<MoneyOp> out;
  for (const auto& e : reply.elements) {
    if (auto op = MoneyOp::from_json(e.str)) out.push_back(std::move(*op));
  }
  co_return out;
}

net::awaitable<void> MoneyQueue::done(std::string key) {
  std::vector<std::string> keys{ops_, due_, since_};
  std::vector<std::string> args{std::move(key)};
  auto reply = co_await redis_.eval(kDone, std::move(keys), std::move(args));
  redis::throw_if_error(reply, "money queue done");
}

net::awaitable<void> MoneyQueue::retry(MoneyOp op, std::int64_t due_ms) {
  std::vector<std::string> keys{ops_, due_};
  std::vector<std::string> args{op.key, op.to_json(), std::to_string(due_ms)};
  auto reply = co_await redis_.eval(kRetry, std::move(keys), std::move(args));
  redis::throw_if_error(reply, "money queue retry");
}

net::awaitable<void> MoneyQueue::refuse(MoneyOp op, std::string answer) {
  json record = {{"op", op.to_json()}, {"answer", std::move(answer)}};  // both as text
  std::vector<std::string> keys{ops_, due_, since_, refused_};
  std::vector<std::string> args{op.key, record.dump()};
  auto reply = co_await redis_.eval(kRefuse, std::move(keys), std::move(args));
  redis::throw_if_error(reply, "money queue refuse");
}

net::awaitable<MoneyQueueStats> MoneyQueue::stats() {
  MoneyQueueStats out;
  std::vector<std::string> count{"ZCARD", since_};
  auto n = co_await redis_.exec(std::move(count));
  redis::throw_if_error(n, "money queue stats");
  out.pending = n.integer;
  if (out.pending > 0) {
    std::vector<std::string> oldest{"ZRANGE", since_, "0", "0", "WITHSCORES"};
    auto first = co_await redis_.exec(std::move(oldest));
    redis::throw_if_error(first, "money queue stats");
    if (first.elements.size() == 2) out.oldest_ms = std::stoll(first.elements[1].str);
  }
  co_return out;
}

}  // namespace kiebot::dialog
