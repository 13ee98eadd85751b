-- ARGV: now_ms, today, kind (paid|free|admin), amount, idempotency_key,
--       ttl_ms, new hold id, free_per_day, is_owner (0|1), ledger_max
local now, today, kind, amount, key = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
local ttl, hid, per_day, is_owner, max_len = tonumber(ARGV[6]), ARGV[7], tonumber(ARGV[8]), ARGV[9], ARGV[10]
local expired = expire_due(now, max_len)

local seen = redis.call('HGET', IDEM, 'hold:' .. key)
if seen then
  local k, a, old = string.match(seen, '^(%a+):(%d+):(.+)$')
  if k ~= kind or tonumber(a) ~= amount then
    return {409, 'error', 'idempotency_key_reused', 'message', 'this idempotency key was used for another hold'}
  end
  local answer = hold_answer(200, hold_key(old), old)
  table.insert(answer, 'replayed'); table.insert(answer, 1)
  table.insert(answer, 'holds_expired'); table.insert(answer, expired)
  return answer
end

local src
if kind == 'paid' then
  local balance = get('balance')
  if balance < amount then
    return {402, 'error', 'insufficient_funds', 'message', 'balance is lower than the amount', 'balance', balance,
      'holds_expired', expired}
  end
  redis.call('HINCRBY', ACCT, 'balance', -amount)
  redis.call('HINCRBY', ACCT, 'held', amount)
  src = 'balance'
elseif kind == 'free' then
  local used, bank, daily_left, left = free_state(today, per_day)
  if left <= 0 then
    return {402, 'error', 'no_free_generations', 'message', 'no free generations left today', 'free_remaining', 0,
      'holds_expired', expired}
  end
  if daily_left > 0 then
    if redis.call('HGET', ACCT, 'free_day') ~= today then
      redis.call('HSET', ACCT, 'free_day', today, 'free_used', 0)
    end
    redis.call('HINCRBY', ACCT, 'free_used', 1)
    src = 'daily'
  else
    redis.call('HINCRBY', ACCT, 'free_bank', -1)
    src = 'bank'
  end
else  -- admin
  if is_owner == '1' then
    src = 'owner'
  elseif redis.call('HGET', ACCT, 'is_admin') ~= '1' then
    return {403, 'error', 'not_admin', 'message', 'this user is not an admin', 'holds_expired', expired}
  else
    local remaining = get('admin_limit') - get('admin_spent') - get('admin_held')
    if remaining < amount then
      return {402, 'error', 'admin_limit_reached', 'message', 'admin spending limit reached',
        'remaining', remaining, 'holds_expired', expired}
    end
    redis.call('HINCRBY', ACCT, 'admin_held', amount)
    src = 'limit'
  end
end

local created = touch(now)
local hk = hold_key(hid)
local expires = now + ttl
redis.call('HSET', hk, 'state', 'held', 'kind', kind, 'amount', amount, 'src', src, 'day', today,
  'expires_ms', expires, 'key', key, 'created_ms', now, 'result_balance', get('balance'))
redis.call('ZADD', HOLDS, expires, hid)
redis.call('HSET', IDEM, 'hold:' .. key, kind .. ':' .. amount .. ':' .. hid)
ledger(now, max_len, 'hold_' .. kind, kind == 'paid' and -amount or 0, src, key, hid)
local answer = hold_answer(200, hk, hid)
table.insert(answer, 'created'); table.insert(answer, created)
table.insert(answer, 'holds_expired'); table.insert(answer, expired)
return answer
