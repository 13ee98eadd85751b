// Job records, due set and claims in Redis (see job_store.hpp). Every key
// carries the {gen} hash tag so that the scripts work on Redis Cluster too.
#include "job_store.hpp"

#include "kiebot/redis/redis.hpp"

namespace kiebot::generator {

namespace {

constexpr const char* kDue = "{gen}:due";
constexpr std::int64_t kRetentionS = 7 * 86'400;  // a job id is remembered this long

std::string claim_key(const std::string& id) {
  return "{gen}:claim:" + id;
}

// KEYS: job, due. ARGV: id, job json, now_ms, deadline_ms, retention_s.
const redis::Script& record_script() {
  static const redis::Script s(R"lua(
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'state', 'accepted', 'job', ARGV[2], 'accepted_ms', ARGV[3], 'deadline_ms', ARGV[4],
           'attempts', 0, 'checks', 0)
redis.call('EXPIRE', KEYS[1], ARGV[5])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return 1
)lua");
  return s;
}

// KEYS: due. ARGV: now_ms, owner, claim_ttl_ms, limit.
// Returns {id, taken over (1/0), ...} for each job claimed.
const redis::Script& claim_script() {
  static const redis::Script s(R"lua(
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[4]))
local out = {}
for _, id in ipairs(ids) do
  local job = '{gen}:job:' .. id
  if redis.call('EXISTS', job) == 0 then
    redis.call('ZREM', KEYS[1], id)
  elseif redis.call('SET', '{gen}:claim:' .. id, ARGV[2], 'NX', 'PX', ARGV[3]) then
    redis.call('ZADD', KEYS[1], tonumber(ARGV[1]) + tonumber(ARGV[3]), id)
    local taken = redis.call('HGET', job, 'claim_state') == 'claimed' and 1 or 0
    redis.call('HSET', job, 'claim_state', 'claimed', 'claimed_by', ARGV[2])
    table.insert(out, id)
    table.insert(out, taken)
  end
end
return out
)lua");
  return s;
}

// KEYS: claim, job. ARGV: owner, field, value, ... 1 when set.
const redis::Script& update_script() {
  static const redis::Script s(R"lua(
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
return 1
)lua");
  return s;
}

// KEYS: claim, job, due. ARGV: owner, id, due_ms, now_ms. 1 when handed back.
const redis::Script& reschedule_script() {
  static const redis::Script s(R"lua(
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local due = ARGV[3]
if redis.call('HGET', KEYS[2], 'poked') == '1' then
  due = ARGV[4]
  redis.call('HDEL', KEYS[2], 'poked')
end
redis.call('ZADD', KEYS[3], due, ARGV[2])
redis.call('HSET', KEYS[2], 'claim_state', 'released')
redis.call('DEL', KEYS[1])
return 1
)lua");
  return s;
}

// KEYS: claim, due. ARGV: owner, id, claim_ttl_ms, now_ms. 1 when extended.
const redis::Script& extend_script() {
  static const redis::Script s(R"lua(
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('ZADD', KEYS[2], 'XX', tonumber(ARGV[4]) + tonumber(ARGV[3]), ARGV[2])
return 1
)lua");
  return s;
}

// KEYS: claim, job, due. ARGV: owner, id, retention_s.
const redis::Script& finish_script() {
  static const redis::Script s(R"lua(
redis.call('ZREM', KEYS[3], ARGV[2])
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
redis.call('HSET', KEYS[2], 'claim_state', 'released')
redis.call('EXPIRE', KEYS[2], ARGV[3])
return 1
)lua");
  return s;
}

// KEYS: claim, job, due. ARGV: id, now_ms, task id named by the callback.
// 1 when the job will be checked.
const redis::Script& poke_script() {
  static const redis::Script s(R"lua(
if redis.call('ZSCORE', KEYS[3], ARGV[1]) == false then return 0 end
if ARGV[3] ~= '' then redis.call('HSET', KEYS[2], 'callback_task_id', ARGV[3]) end
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[2], 'poked', '1')
else
  redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
end
return 1
)lua");
  return s;
}

bool is_one(const redis::Reply& reply) {
  return reply.type == redis::Reply::Type::integer && reply.integer == 1;
}

}  // namespace

std::string JobStore::job_key(const std::string& job_id) {
  return "{gen}:job:" + job_id;
}
const char* JobStore::due_key() {
  return kDue;
}

JobStore::JobStore(redis::Client& redis, std::string owner, std::chrono::milliseconds claim_ttl)
    : redis_(redis), owner_(std::move(owner)), claim_ttl_(claim_ttl) {}

net::awaitable<bool> JobStore::record(std::string job_id, std::string job_json, std::int64_t deadline_ms) {
  std::vector<std::string> keys{job_key(job_id), kDue};
  std::vector<std::string> args{job_id, std::move(job_json), std::to_string(unix_ms()), std::to_string(deadline_ms),
                                std::to_string(kRetentionS)};
  auto reply = co_await redis_.eval(record_script(), std::move(keys), std::move(args));
  redis::throw_if_error(reply, "record");
  co_return is_one(reply);
}

net::awaitable<std::vector<Claimed>> JobStore::claim_due(std::size_t limit) {
  std::vector<std::string> keys{kDue};
  std::vector<std::string> args{std::to_string(unix_ms()), owner_, std::to_string(claim_ttl_.count()),
                                std::to_string(limit)};
  auto reply = co_await redis_.eval(claim_script(), std::move(keys), std::move(args));
  redis::throw_if_error(reply, "claim");
  std::vector<Claimed> out;
  for (std::size_t i = 0; i + 1 < reply.elements.size(); i += 2) {
    out.push_back({reply.elements[i].str, reply.elements[i + 1].integer == 1});
  }
  co_return out;
}

net::awaitable<std::optional<Fields>> JobStore::load(std::string job_id) {
  std::vector<std::string> command{"HGETALL", job_key(job_id)};
  auto reply = co_await redis_.exec(std::move(command));
  redis::throw_if_error(reply, "load");
  if (reply.elements.empty()) co_return std::nullopt;
  Fields fields;
  for (std::size_t i = 0; i + 1 < reply.elements.size(); i += 2) {
    fields[reply.elements[i].str] = reply.elements[i + 1].str;
  }
  co_return fields;
}

net::awaitable<bool> JobStore::update(std::string job_id, Fields fields) {
  std::vector<std::string> keys{claim_key(job_id), job_key(job_id)};
  std::vector<std::string> args{owner_};
  for (auto& [k, v] : fields) {
    args.push_back(k);
    args.push_back(std::move(v));
  }
  auto reply = co_await redis_.eval(update_script(), std::move(keys), std::move(args));
  redis::throw_if_error(reply, "update");
  co_return is_one(reply);
}

net::awaitable<bool> JobStore::reschedule(std::string job_id, std::int64_t due_ms) {
  std::vector<std::string> keys{claim_key(job_id), job_key(job_id), kDue};
  std::vector<std::string> args{owner_, job_id, std::to_string(due_ms), std::to_string(unix_ms())};
  auto reply = co_await redis_.eval(reschedule_script(), std::move(keys), std::move(args));
  redis::throw_if_error(reply, "reschedule");
  co_return is_one(reply);
}

net::awaitable<bool> JobStore::extend(std::string job_id) {
  std::vector<std::string> keys{claim_key(job_id), kDue};
  std::vector<std::string> args{owner_, job_id, std::to_string(claim_ttl_.count()), std::to_string(unix_ms())};
  auto reply = co_await redis_.eval(extend_script(), std::move(keys), std::move(args));
  redis::throw_if_error(reply, "extend");
  co_return is_one(reply);
}

net::awaitable<void> JobStore::finish(std::string job_id) {
  std::vector<std::string> keys{claim_key(job_id), job_key(job_id), kDue};
  std::vector<std::string> args{owner_, job_id, std::to_string(kRetentionS)};
  auto reply = co_await redis_.eval(finish_script(), std::move(keys), std::move(args));
  redis::throw_if_error(reply, "finish");
}

net::awaitable<bool> JobStore::poke(std::string job_id, std::string task_id) {
  std::vector<std::string> keys{claim_key(job_id), job_key(job_id), kDue};
  std::vector<std::string> args{job_id, std::to_string(unix_ms()), std::move(task_id)};
  auto reply = co_await redis_.eval(poke_script(), std::move(keys), std::move(args));
  redis::throw_if_error(reply, "poke");
  co_return is_one(reply);
}

net::awaitable<std::int64_t> JobStore::pending() {
  std::vector<std::string> command{"ZCARD", kDue};
  auto reply = co_await redis_.exec(std::move(command));
  redis::throw_if_error(reply, "pending");
  co_return reply.integer;
}

}  // namespace kiebot::generator
