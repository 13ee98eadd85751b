-- ARGV: now_ms, side (referee|referrer), other user id, bonus, ledger_max
-- Two calls, one per user (one cluster slot each): the referee's records
-- the referrer once; the referrer's is idempotent by the referee's id, so
-- a retry after a failure between the two completes the pair exactly once.
local now, side, other, bonus, max_len = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
local created = touch(now)
if side == 'referee' then
  local current = redis.call('HGET', ACCT, 'referrer')
  if current then
    if current ~= other then
      return {409, 'error', 'already_referred', 'message', 'this user already has a referrer'}
    end
    return {200, 'referrer_id', current, 'replayed', 1, 'created', created}
  end
  redis.call('HSET', ACCT, 'referrer', other)
  redis.call('HINCRBY', ACCT, 'free_bank', bonus)
  ledger(now, max_len, 'referral_bonus', 0, 'referred_by:' .. other, 'referral', '')
  return {200, 'referrer_id', other, 'bonus', bonus, 'created', created}
end
if redis.call('HSETNX', IDEM, 'referral:' .. other, 1) == 0 then
  return {200, 'replayed', 1, 'created', created}
end
redis.call('HINCRBY', ACCT, 'referrals', 1)
redis.call('HINCRBY', ACCT, 'free_bank', bonus)
ledger(now, max_len, 'referral_bonus', 0, 'referred:' .. other, 'referral:' .. other, '')
return {200, 'bonus', bonus, 'created', created}
