-- ARGV: now_ms, amount, reason (stars_refund|admin_debit), idempotency_key, ref, ledger_max, admin_id
-- Takes money back once per key. The balance may go below zero (a refunded
-- payment that was already spent): paid holds are then refused until a top-up.
local now, amount, reason, key, ref, max_len = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local admin_id = ARGV[7]
expire_due(now, max_len)
local seen = redis.call('HGET', IDEM, 'debit:' .. key)
if seen then
  local a, r, balance_after = string.match(seen, '^(%d+):([%a_]+):(-?%d+)$')
  if tonumber(a) ~= amount or r ~= reason then
    return {409, 'error', 'idempotency_key_reused', 'message', 'this idempotency key was used for another debit'}
  end
  return {200, 'debited', 0, 'amount', amount, 'balance', tonumber(balance_after), 'replayed', 1}
end
local created = touch(now)
local balance = redis.call('HINCRBY', ACCT, 'balance', -amount)
redis.call('HSET', IDEM, 'debit:' .. key, amount .. ':' .. reason .. ':' .. balance)
local extra = {}
if admin_id ~= '' then extra = {'admin_id', admin_id} end
ledger(now, max_len, 'debit', -amount, reason, key, ref, extra)
return {200, 'debited', 1, 'amount', amount, 'balance', balance, 'created', created}
