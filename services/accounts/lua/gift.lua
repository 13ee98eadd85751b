-- ARGV: now_ms, amount (chosen by the service), ledger_max
local now, amount, max_len = ARGV[1], tonumber(ARGV[2]), ARGV[3]
expire_due(now, max_len)
if redis.call('HGET', ACCT, 'gift_claimed') == '1' then
  return {409, 'error', 'gift_already_claimed', 'message', 'the gift can be claimed once', 'amount', get('gift_amount'),
    'balance', get('balance')}
end
local created = touch(now)
local balance = redis.call('HINCRBY', ACCT, 'balance', amount)
redis.call('HSET', ACCT, 'gift_claimed', 1, 'gift_amount', amount)
ledger(now, max_len, 'gift', amount, 'gift', 'gift', '')
return {200, 'amount', amount, 'balance', balance, 'created', created}
