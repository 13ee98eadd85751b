-- ARGV: now_ms, idempotency_key, amount, target user id, is_owner (0|1), ledger_max
-- The granting admin's half of an admin grant (KEYS[1] is the admin's tag):
-- counts the grant against the admin's remaining limit once per key, and
-- writes it to the admin's ledger. The owner has no limit. The target's
-- credit follows with the same key, so a retry after a failure between the
-- two completes the pair exactly once.
local now, key, amount, target, is_owner, max_len = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5], ARGV[6]
expire_due(now, max_len)
local seen = redis.call('HGET', IDEM, 'grant:' .. key)
if seen then
  local a, t = string.match(seen, '^(%d+):(%d+)$')
  if tonumber(a) ~= amount or t ~= target then
    return {409, 'error', 'idempotency_key_reused', 'message', 'this idempotency key was used for another grant'}
  end
  return {200, 'replayed', 1}
end
if is_owner ~= '1' then
  if redis.call('HGET', ACCT, 'is_admin') ~= '1' then
    return {403, 'error', 'not_admin', 'message', 'admin_id is not an admin'}
  end
  local remaining = get('admin_limit') - get('admin_spent') - get('admin_held')
  if remaining < amount then
    return {403, 'error', 'over_admin_limit', 'message', 'the grant is more than the admin has left of their limit',
      'remaining', remaining}
  end
end
touch(now)
redis.call('HINCRBY', ACCT, 'admin_spent', amount)
redis.call('HSET', IDEM, 'grant:' .. key, amount .. ':' .. target)
ledger(now, max_len, 'admin_grant', 0, 'admin_grant', key, '', {'user_id', target, 'amount', amount})
return {200, 'replayed', 0, 'remaining', get('admin_limit') - get('admin_spent') - get('admin_held')}
