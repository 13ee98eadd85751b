-- ARGV: now_ms, side (referee|referrer|referee_bonus), other user id, bonus, ledger_max,
--       today (YYYYMMDD), daily cap, new-user window ms, fresh (0|1: referrer side)
-- Three calls, one per user's slot, each idempotent, so a retry after a
-- failure between them completes the referral exactly once:
--   referee: records the referrer once, and whether the referee was new;
--   referrer: counts the referral; rewards it only for a new referee and at
--            most `cap` times per UTC day (beyond, the referee still joins);
--   referee_bonus: the referee's bonus, when the referrer's side rewarded it.
local now, side, other, bonus, max_len = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
local today, cap, window, fresh_arg = ARGV[6], tonumber(ARGV[7]), tonumber(ARGV[8]), ARGV[9]
if side == 'referee' then
  local current = redis.call('HGET', ACCT, 'referrer')
  if current then
    if current ~= other then
      return {409, 'error', 'already_referred', 'message', 'this user already has a referrer'}
    end
    return {200, 'referrer_id', current, 'replayed', 1, 'fresh', num(redis.call('HGET', ACCT, 'referral_fresh'))}
  end
  -- New: first seen within the window, and never generated, paid, spun the
  -- gift or got money (choosing a language does not count).
  local f = redis.call('HMGET', ACCT, 'created_ms', 'free_day', 'balance', 'held', 'gift_claimed')
  local fresh = 0
  if (not f[1] or tonumber(now) - tonumber(f[1]) <= window) and not f[2] and not f[3] and not f[4] and not f[5] then
    fresh = 1
  end
  local created = touch(now)
  redis.call('HSET', ACCT, 'referrer', other, 'referral_fresh', fresh)
  ledger(now, max_len, 'referral_join', 0, 'referred_by:' .. other, 'referral', '', {'fresh', fresh})
  return {200, 'referrer_id', other, 'fresh', fresh, 'created', created}
end
local created = touch(now)
if side == 'referee_bonus' then
  if redis.call('HSETNX', IDEM, 'referral_bonus', 1) == 0 then return {200, 'replayed', 1, 'created', created} end
  redis.call('HINCRBY', ACCT, 'free_bank', bonus)
  ledger(now, max_len, 'referral_bonus', 0, 'referred_by:' .. other, 'referral_bonus', '')
  return {200, 'bonus', bonus, 'created', created}
end
local seen = redis.call('HGET', IDEM, 'referral:' .. other)
if seen then return {200, 'replayed', 1, 'rewarded', tonumber(seen), 'created', created} end
redis.call('HINCRBY', ACCT, 'referrals', 1)
local count = 0
if redis.call('HGET', ACCT, 'referral_day') == today then count = get('referral_day_count') end
local rewarded = 0
if fresh_arg == '1' and count < cap then
  rewarded = 1
  if redis.call('HGET', ACCT, 'referral_day') ~= today then
    redis.call('HSET', ACCT, 'referral_day', today, 'referral_day_count', 0)
  end
  redis.call('HINCRBY', ACCT, 'referral_day_count', 1)
  redis.call('HINCRBY', ACCT, 'free_bank', bonus)
  ledger(now, max_len, 'referral_bonus', 0, 'referred:' .. other, 'referral:' .. other, '')
else
  ledger(now, max_len, 'referral_unrewarded', 0, fresh_arg == '1' and 'daily_cap' or 'not_new', 'referral:' .. other, '')
end
redis.call('HSET', IDEM, 'referral:' .. other, rewarded)
return {200, 'rewarded', rewarded, 'created', created}
