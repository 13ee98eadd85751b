-- ARGV: now_ms, amount, reason, idempotency_key, ref, ledger_max, admin_id ('' unless an admin grant)
-- A key seen before (e.g. a replayed telegram_payment_charge_id) credits nothing.
local now, amount, reason, key, ref, max_len = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local admin_id = ARGV[7]
expire_due(now, max_len)
local seen = redis.call('HGET', IDEM, 'credit:' .. key)
if seen then
  -- Reasons have underscores (admin_grant): [%a_]+, not %a+.
  local a, r, balance_after = string.match(seen, '^(%d+):([%a_]+):(-?%d+)$')
  if tonumber(a) ~= amount or r ~= reason then
    return {409, 'error', 'idempotency_key_reused', 'message', 'this idempotency key was used for another credit'}
  end
  return {200, 'credited', 0, 'amount', amount, 'balance', tonumber(balance_after), 'replayed', 1}
end
local created = touch(now)
local balance = redis.call('HINCRBY', ACCT, 'balance', amount)
redis.call('HSET', IDEM, 'credit:' .. key, amount .. ':' .. reason .. ':' .. balance)
local extra = {}
if admin_id ~= '' then extra = {'admin_id', admin_id} end
ledger(now, max_len, 'credit', amount, reason, key, ref, extra)
return {200, 'credited', 1, 'amount', amount, 'balance', balance, 'created', created}
