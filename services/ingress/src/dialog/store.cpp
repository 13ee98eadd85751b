// Redis keys of the dialog (see store.hpp). A user's keys share the hash tag
// {du:<id>}, a chat's {dc:<id>}, so the scripts run on Redis Cluster too.
#include "store.hpp"

#include "kiebot/base/clock.hpp"
#include "kiebot/base/json.hpp"
#include "kiebot/redis/redis.hpp"
#include "machine/state.hpp"

namespace kiebot::dialog {

namespace {

using nlohmann::json;

constexpr std::size_t kHistoryLength = 20;
constexpr auto kHandledTtl = std::chrono::hours(24);
constexpr auto kJobTtl = std::chrono::hours(24 * 30);

std::string user_key(std::int64_t user_id, const char* suffix) {
  return "dlg:{du:" + std::to_string(user_id) + "}:" + suffix;
}
std::string job_key(std::int64_t user_id, const std::string& job_id) {
  return user_key(user_id, "job:") + job_id;
}

// KEYS: job, history, running. ARGV: job json, job id, deadline ms, job ttl s, history length, now ms (older deadlines
// leave the running set).
const redis::Script& record_script() {
  static const redis::Script script(R"lua(
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[4])
redis.call('LPUSH', KEYS[2], ARGV[2])
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[5]) - 1)
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[6])
return 1
)lua");
  return script;
}

// KEYS: job, running. ARGV: job id, status.
const redis::Script& finish_script() {
  static const redis::Script script(R"lua(
redis.call('ZREM', KEYS[2], ARGV[1])
local job = redis.call('GET', KEYS[1])
if not job then return 0 end
local record = cjson.decode(job)
record['status'] = ARGV[2]
redis.call('SET', KEYS[1], cjson.encode(record), 'KEEPTTL')
return 1
)lua");
  return script;
}

json to_json(const JobRecord& j) {
  json out = {{"job_id", j.job_id}, {"model", j.model},           {"values", j.values},          {"status", j.status},
              {"price", j.price},   {"created_ms", j.created_ms}, {"deadline_ms", j.deadline_ms}};
  if (!j.files.empty()) out["files"] = j.files;
  return out;
}

std::optional<JobRecord> from_json(const std::string& text) {
  auto j = parse_untrusted(text);
  if (!j.is_object()) return std::nullopt;
  JobRecord r;
  r.job_id = j.value("job_id", "");
  r.model = j.value("model", "");
  r.values = j.value("values", json::object());
  // cjson turns an empty object into an empty array.
  if (!r.values.is_object()) r.values = json::object();
  r.files = read_files(j.value("files", json::object()));
  r.status = j.value("status", "");
  r.price = j.value("price", std::int64_t{0});
  r.created_ms = j.value("created_ms", std::int64_t{0});
  r.deadline_ms = j.value("deadline_ms", std::int64_t{0});
  return r;
}

}  // namespace

Store::Store(redis::Client& redis, std::chrono::seconds state_ttl) : redis_(redis), state_ttl_(state_ttl) {}

net::awaitable<json> Store::load_state(std::int64_t chat_id) {
  std::vector<std::string> command = {"GET", "dlg:{dc:" + std::to_string(chat_id) + "}:state"};
  auto reply = co_await redis_.exec(std::move(command));
  redis::throw_if_error(reply, "load_state");
  if (reply.is_nil()) co_return json::object();
  auto state = parse_untrusted(reply.str);
  co_return state.is_object() ? state : json::object();
}

net::awaitable<void> Store::save_state(std::int64_t chat_id, json state) {
  std::vector<std::string> command = {"SET", "dlg:{dc:" + std::to_string(chat_id) + "}:state", state.dump(), "EX",
                                      std::to_string(state_ttl_.count())};
  redis::throw_if_error(co_await redis_.exec(std::move(command)), "save_state");
}

net::awaitable<bool> Store::handled(std::int64_t update_id) {
  std::vector<std::string> command = {"EXISTS", "dlg:update:" + std::to_string(update_id)};
  auto reply = co_await redis_.exec(std::move(command));
  redis::throw_if_error(reply, "handled");
  co_return reply.integer == 1;
}

net::awaitable<void> Store::mark_handled(std::int64_t update_id) {
  std::vector<std::string> command = {"SET", "dlg:update:" + std::to_string(update_id), "1", "EX",
                                      std::to_string(std::chrono::seconds(kHandledTtl).count())};
  redis::throw_if_error(co_await redis_.exec(std::move(command)), "mark_handled");
}

net::awaitable<bool> Store::claim_submission(std::int64_t user_id, std::string fingerprint, std::chrono::seconds window,
                                             std::string job_id) {
  // SET ... NX GET answers the holder's job id when the key exists.
  std::vector<std::string> command = {
      "SET", user_key(user_id, "submitted:") + fingerprint, job_id, "NX", "GET", "EX", std::to_string(window.count())};
  auto reply = co_await redis_.exec(std::move(command));
  redis::throw_if_error(reply, "claim_submission");
  co_return reply.is_nil() || reply.str == job_id;
}

net::awaitable<std::int64_t> Store::running_count(std::int64_t user_id) {
  // Jobs past their deadline no longer run, result event or not (record_job
  // drops them from the set).
  std::vector<std::string> count = {"ZCOUNT", user_key(user_id, "running"), std::to_string(unix_ms()), "+inf"};
  auto reply = co_await redis_.exec(std::move(count));
  redis::throw_if_error(reply, "running_count");
  co_return reply.integer;
}

net::awaitable<void> Store::record_job(std::int64_t user_id, JobRecord job) {
  std::vector<std::string> keys = {job_key(user_id, job.job_id), user_key(user_id, "history"),
                                   user_key(user_id, "running")};
  std::vector<std::string> args = {to_json(job).dump(),
                                   job.job_id,
                                   std::to_string(job.deadline_ms),
                                   std::to_string(std::chrono::seconds(kJobTtl).count()),
                                   std::to_string(kHistoryLength),
                                   std::to_string(unix_ms())};
  redis::throw_if_error(co_await redis_.eval(record_script(), std::move(keys), std::move(args)), "record_job");
}

net::awaitable<void> Store::finish_job(std::int64_t user_id, std::string job_id, std::string status) {
  std::vector<std::string> keys = {job_key(user_id, job_id), user_key(user_id, "running")};
  std::vector<std::string> args = {job_id, std::move(status)};
  redis::throw_if_error(co_await redis_.eval(finish_script(), std::move(keys), std::move(args)), "finish_job");
}

net::awaitable<std::vector<JobRecord>> Store::load_jobs(std::int64_t user_id, std::vector<std::string> ids) {
  std::vector<JobRecord> out;
  if (ids.empty()) co_return out;
  std::vector<std::string> command = {"MGET"};
  for (const auto& id : ids) command.push_back(job_key(user_id, id));
  auto reply = co_await redis_.exec(std::move(command));
  redis::throw_if_error(reply, "load_jobs");
  for (const auto& e : reply.elements) {
    if (e.is_nil()) continue;
    if (auto r = from_json(e.str)) out.push_back(std::move(*r));
  }
  co_return out;
}

net::awaitable<std::vector<JobRecord>> Store::history(std::int64_t user_id, std::size_t limit) {
  std::vector<std::string> command = {"LRANGE", user_key(user_id, "history"), "0", std::to_string(limit - 1)};
  auto reply = co_await redis_.exec(std::move(command));
  redis::throw_if_error(reply, "history");
  std::vector<std::string> ids;
  for (const auto& e : reply.elements) ids.push_back(e.str);
  co_return co_await load_jobs(user_id, std::move(ids));
}

net::awaitable<std::vector<JobRecord>> Store::running(std::int64_t user_id) {
  std::vector<std::string> command = {"ZRANGEBYSCORE", user_key(user_id, "running"), std::to_string(unix_ms()), "+inf"};
  auto reply = co_await redis_.exec(std::move(command));
  redis::throw_if_error(reply, "running");
  std::vector<std::string> ids;
  for (const auto& e : reply.elements) ids.push_back(e.str);
  co_return co_await load_jobs(user_id, std::move(ids));
}

net::awaitable<std::optional<JobRecord>> Store::job(std::int64_t user_id, std::string job_id) {
  std::vector<std::string> command = {"GET", job_key(user_id, job_id)};
  auto reply = co_await redis_.exec(std::move(command));
  redis::throw_if_error(reply, "job");
  if (reply.is_nil()) co_return std::nullopt;
  co_return from_json(reply.str);
}

}  // namespace kiebot::dialog
