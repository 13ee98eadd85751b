-- ARGV: (none). Reads only.
-- Recomputes the balance from the checkpoint and the ledger (each entry's
-- delta must lead to the balance it recorded: a break is a change without
-- its entry), and compares the account with the last entry.
local cp = redis.call('HMGET', CHECKPOINT, 'balance', 'held', 'free_bank')
local expected = tonumber(cp[1]) or 0
local last_held, last_bank = cp[2], cp[3]
local breaks, count = 0, 0
for _, e in ipairs(redis.call('XRANGE', LEDGER, '-', '+')) do
  local f = {}
  for i = 1, #e[2], 2 do f[e[2][i]] = e[2][i + 1] end
  expected = expected + (tonumber(f['delta']) or 0)
  if tonumber(f['balance']) ~= expected then
    breaks = breaks + 1
    expected = tonumber(f['balance']) or expected
  end
  if f['held'] then last_held = f['held'] end
  if f['free_bank'] then last_bank = f['free_bank'] end
  count = count + 1
end
local a = redis.call('HMGET', ACCT, 'balance', 'held', 'free_bank')
local balance, held, bank = num(a[1]), num(a[2]), num(a[3])
local held_drift, bank_drift = 0, 0
if last_held then held_drift = held - tonumber(last_held) end
if last_bank then bank_drift = bank - tonumber(last_bank) end
return {200, 'balance', balance, 'balance_drift', balance - expected, 'held', held, 'held_drift', held_drift,
  'free_bank', bank, 'free_bank_drift', bank_drift, 'chain_breaks', breaks, 'entries', count}
