// Offset store with an epoch check (see offset_store.hpp).
#include "offset_store.hpp"
#include "kiebot/base/clock.hpp"

#include <algorithm>
#include <charconv>
#include <system_error>

#include "kiebot/redis/redis.hpp"

namespace kiebot::ingress {

namespace {

// KEYS: offset hash, lease epoch. ARGV: epoch, offset, owner, now_ms,
// batch ids (comma-separated), restarted (0/1).
// 1 stored, -1 stale epoch, -2 a larger offset is stored.
const redis::Script& store_script() {
  static const redis::Script s(R"lua(
if tonumber(redis.call('GET', KEYS[2]) or '0') ~= tonumber(ARGV[1]) then return -1 end
local stored = tonumber(redis.call('HGET', KEYS[1], 'offset') or '0')
if ARGV[6] ~= '1' and tonumber(ARGV[2]) < stored then return -2 end
redis.call('HSET', KEYS[1], 'offset', ARGV[2], 'epoch', ARGV[1], 'owner', ARGV[3], 'stored_at_ms', ARGV[4],
           'batch', ARGV[5])
return 1
)lua");
  return s;
}

std::vector<std::int64_t> parse_ids(const std::string& text) {
  std::vector<std::int64_t> ids;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    std::int64_t id = 0;
    auto [stop, ec] = std::from_chars(text.data() + start, text.data() + end, id);
    if (ec == std::errc() && stop == text.data() + end) ids.push_back(id);
    start = end + 1;
  }
  return ids;
}

std::int64_t to_int(const redis::Reply& reply) {
  if (reply.type != redis::Reply::Type::string) return 0;
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(reply.str.data(), reply.str.data() + reply.str.size(), value);
  return ec == std::errc() && end == reply.str.data() + reply.str.size() ? value : 0;
}

}  // namespace

BatchPlan plan_batch(const std::vector<RawUpdate>& updates, const StoredOffset& last) {
  BatchPlan plan;
  for (const auto& u : updates) {
    plan.confirm = std::max(plan.confirm, u.update_id + 1);
    if (std::find(last.batch.begin(), last.batch.end(), u.update_id) != last.batch.end()) {
      ++plan.skipped;
      continue;
    }
    if (u.update_id < last.offset) plan.restarted = true;
    plan.publish.push_back(u);
  }
  return plan;
}

OffsetStore::OffsetStore(redis::Client& redis, std::string key, std::string epoch_key)
    : redis_(redis), key_(std::move(key)), epoch_key_(std::move(epoch_key)) {}

net::awaitable<StoredOffset> OffsetStore::read() {
  std::vector<std::string> command{"HMGET", key_, "offset", "epoch", "owner", "batch"};
  auto reply = co_await redis_.exec(std::move(command));
  StoredOffset stored;
  if (reply.type == redis::Reply::Type::array && reply.elements.size() == 4) {
    stored.offset = to_int(reply.elements[0]);
    stored.epoch = to_int(reply.elements[1]);
    if (reply.elements[2].type == redis::Reply::Type::string) stored.owner = reply.elements[2].str;
    if (reply.elements[3].type == redis::Reply::Type::string) stored.batch = parse_ids(reply.elements[3].str);
  } else if (reply.is_error()) {
    throw redis::Error(redis::Error::Kind::protocol, "reading the offset: " + reply.str);
  }
  co_return stored;
}

net::awaitable<OffsetStore::Result> OffsetStore::store(std::int64_t epoch, std::int64_t offset,
                                                       std::vector<std::int64_t> batch, std::string owner,
                                                       bool restarted) {
  std::string ids;
  for (auto id : batch) {
    if (!ids.empty()) ids += ',';
    ids += std::to_string(id);
  }
  std::vector<std::string> keys{key_, epoch_key_};
  std::vector<std::string> args{std::to_string(epoch),     std::to_string(offset), std::move(owner),
                                std::to_string(unix_ms()), std::move(ids),         restarted ? "1" : "0"};
  auto reply = co_await redis_.eval(store_script(), std::move(keys), std::move(args));
  if (reply.type != redis::Reply::Type::integer) {
    throw redis::Error(redis::Error::Kind::protocol, "storing the offset: " + reply.str);
  }
  co_return reply.integer == 1 ? Result::stored : reply.integer == -1 ? Result::stale_epoch : Result::offset_behind;
}

}  // namespace kiebot::ingress
