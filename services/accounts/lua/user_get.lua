-- ARGV: now_ms, today (YYYYMMDD, UTC), free_per_day, ledger_max
local now, today, per_day, max_len = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local expired = expire_due(now, max_len)
local used, bank, daily_left, left = free_state(today, per_day)
local f = redis.call('HMGET', ACCT, 'created_ms', 'balance', 'held', 'lang', 'gift_claimed', 'gift_amount',
  'referrer', 'referrals', 'is_admin', 'admin_limit', 'admin_spent', 'admin_held')
return {200, 'exists', f[1] and 1 or 0, 'balance', num(f[2]), 'held', num(f[3]), 'language', f[4],
  'gift_claimed', num(f[5]), 'gift_amount', num(f[6]), 'referrer_id', f[7], 'referrals', num(f[8]),
  'is_admin', num(f[9]), 'admin_limit', num(f[10]), 'admin_spent', num(f[11]), 'admin_held', num(f[12]),
  'free_used_today', used, 'free_bank', bank, 'free_remaining', left, 'holds_expired', expired}
