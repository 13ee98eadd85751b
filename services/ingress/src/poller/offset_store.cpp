// Offset store with an epoch check (see offset_store.hpp).
#include "offset_store.hpp"

#include "kiebot/common/redis.hpp"

namespace kiebot::ingress {

namespace {

// KEYS: offset hash, lease epoch. ARGV: epoch, offset, owner, now_ms.
// 1 stored, -1 stale epoch, -2 a larger offset is stored.
const redis::Script& store_script() {
  static const redis::Script s(R"lua(
if tonumber(redis.call('GET', KEYS[2]) or '0') ~= tonumber(ARGV[1]) then return -1 end
local stored = tonumber(redis.call('HGET', KEYS[1], 'offset') or '0')
if tonumber(ARGV[2]) < stored then return -2 end
redis.call('HSET', KEYS[1], 'offset', ARGV[2], 'epoch', ARGV[1], 'owner', ARGV[3], 'stored_at_ms', ARGV[4])
return 1
)lua");
  return s;
}

std::int64_t to_int(const redis::Reply& reply) {
  if (reply.type != redis::Reply::Type::string) return 0;
  try {
    return std::stoll(reply.str);
  } catch (const std::exception&) {
    return 0;
  }
}

}  // namespace

OffsetStore::OffsetStore(redis::Client& redis, std::string key, std::string epoch_key)
    : redis_(redis), key_(std::move(key)), epoch_key_(std::move(epoch_key)) {}

net::awaitable<StoredOffset> OffsetStore::read() {
  std::vector<std::string> command{"HMGET", key_, "offset", "epoch", "owner"};
  auto reply = co_await redis_.exec(std::move(command));
  StoredOffset stored;
  if (reply.type == redis::Reply::Type::array && reply.elements.size() == 3) {
    stored.offset = to_int(reply.elements[0]);
    stored.epoch = to_int(reply.elements[1]);
    if (reply.elements[2].type == redis::Reply::Type::string) stored.owner = reply.elements[2].str;
  } else if (reply.is_error()) {
    throw redis::Error(redis::Error::Kind::protocol, "reading the offset: " + reply.str);
  }
  co_return stored;
}

net::awaitable<OffsetStore::Result> OffsetStore::store(std::int64_t epoch, std::int64_t offset, std::string owner) {
  auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch()).count();
  std::vector<std::string> keys{key_, epoch_key_};
  std::vector<std::string> args{std::to_string(epoch), std::to_string(offset), std::move(owner), std::to_string(now_ms)};
  auto reply = co_await redis_.eval(store_script(), std::move(keys), std::move(args));
  if (reply.type != redis::Reply::Type::integer) {
    throw redis::Error(redis::Error::Kind::protocol, "storing the offset: " + reply.str);
  }
  co_return reply.integer == 1 ? Result::stored : reply.integer == -1 ? Result::stale_epoch : Result::offset_behind;
}

}  // namespace kiebot::ingress
