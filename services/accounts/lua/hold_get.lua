-- ARGV: now_ms, hold id, ledger_max
-- One hold as a payer's proof: its state (expired first if due), kind,
-- amount, idempotency key (the job it was made for) and expiry.
local now, hid, max_len = ARGV[1], ARGV[2], ARGV[3]
local expired = expire_due(now, max_len)
local h = redis.call('HMGET', hold_key(hid), 'state', 'kind', 'amount', 'expires_ms', 'key', 'created_ms')
if not h[1] then return {404, 'error', 'hold_not_found', 'message', 'no such hold', 'holds_expired', expired} end
return {200, 'hold_id', hid, 'state', h[1], 'kind', h[2], 'amount', num(h[3]), 'expires_ms', num(h[4]),
  'key', h[5], 'created_ms', num(h[6]), 'holds_expired', expired}
