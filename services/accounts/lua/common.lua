-- Prelude of every accounts script. KEYS[1] is the user's hash tag
-- '{u:<id>}', so that a script touches one cluster slot only. Money is
-- integer kopecks; scripts return a flat array {status, k1, v1, k2, v2, ...}.
local P = KEYS[1]
local ACCT = P .. ':acct'
local LEDGER = P .. ':ledger'
local IDEM = P .. ':idem'
local HOLDS = P .. ':holds'
local CHECKPOINT = P .. ':checkpoint'
local SETTLED_TTL_S = 30 * 86400  -- settled holds stay answerable this long

local function hold_key(hid) return P .. ':hold:' .. hid end
local function num(v) return tonumber(v) or 0 end
local function get(field) return num(redis.call('HGET', ACCT, field)) end

-- Creates the account on its first mutation; 1 when it did.
local function touch(now)
  return redis.call('HSETNX', ACCT, 'created_ms', now)
end

-- Every change of money or free generations writes one entry with what it
-- changed (`delta`) and the account after it (`balance`, `held`,
-- `free_bank`), so `accounts audit` can recompute the balance and check the
-- rest. `extra`: more field/value pairs, e.g. {'admin_id', id} on a grant.
-- Entries beyond max_len are folded into the checkpoint (the account after
-- the last folded entry) before they go, so the audit stays exact.
local function ledger(now, max_len, op, delta, reason, key, hold, extra)
  local entry = {'op', op, 'delta', delta, 'balance', get('balance'), 'held', get('held'),
    'free_bank', get('free_bank'), 'reason', reason or '', 'key', key or '', 'hold', hold or '', 'ts', now}
  for _, v in ipairs(extra or {}) do table.insert(entry, v) end
  redis.call('XADD', LEDGER, '*', unpack(entry))
  local excess = redis.call('XLEN', LEDGER) - tonumber(max_len)
  if excess > 0 then
    for _, e in ipairs(redis.call('XRANGE', LEDGER, '-', '+', 'COUNT', excess)) do
      local f = {}
      for i = 1, #e[2], 2 do f[e[2][i]] = e[2][i + 1] end
      redis.call('HSET', CHECKPOINT, 'id', e[1], 'balance', f['balance'] or 0, 'held', f['held'] or 0,
        'free_bank', f['free_bank'] or 0)
      redis.call('HINCRBY', CHECKPOINT, 'entries', 1)
      redis.call('XDEL', LEDGER, e[1])
    end
  end
end

-- Free generations: `per_day` per UTC day plus the referral bank.
local function free_state(today, per_day)
  local used = 0
  if redis.call('HGET', ACCT, 'free_day') == today then used = get('free_used') end
  local daily_left = per_day - used
  if daily_left < 0 then daily_left = 0 end
  local bank = get('free_bank')
  return used, bank, daily_left, daily_left + bank
end

local function hold_answer(status, hk, hid)
  local h = redis.call('HMGET', hk, 'state', 'kind', 'amount', 'expires_ms', 'result_balance')
  return {status, 'hold_id', hid, 'state', h[1], 'kind', h[2], 'amount', num(h[3]),
          'expires_ms', num(h[4]), 'balance', num(h[5])}
end

-- Moves a held hold to `state` ('committed', 'released' or 'expired') and
-- undoes or completes its reservation. Returns the amount spent (paid commits).
local function finish(hk, hid, state, now, max_len)
  local h = redis.call('HMGET', hk, 'kind', 'amount', 'src', 'day', 'key')
  local kind, amount, src, day, key = h[1], num(h[2]), h[3], h[4], h[5]
  local spent = 0
  if state == 'committed' then
    if kind == 'paid' then
      redis.call('HINCRBY', ACCT, 'held', -amount)
      spent = amount
    elseif kind == 'admin' and src == 'limit' then
      redis.call('HINCRBY', ACCT, 'admin_held', -amount)
      redis.call('HINCRBY', ACCT, 'admin_spent', amount)
    end
    ledger(now, max_len, 'commit_' .. kind, 0, '', key, hid)
  else
    local delta = 0
    if kind == 'paid' then
      redis.call('HINCRBY', ACCT, 'held', -amount)
      redis.call('HINCRBY', ACCT, 'balance', amount)
      delta = amount
    elseif kind == 'free' then
      if src == 'bank' then
        redis.call('HINCRBY', ACCT, 'free_bank', 1)
      elseif redis.call('HGET', ACCT, 'free_day') == day then
        redis.call('HINCRBY', ACCT, 'free_used', -1)
      end
    elseif kind == 'admin' and src == 'limit' then
      redis.call('HINCRBY', ACCT, 'admin_held', -amount)
    end
    ledger(now, max_len, (state == 'expired' and 'expire_' or 'release_') .. kind, delta, '', key, hid)
  end
  redis.call('HSET', hk, 'state', state, 'settled_ms', now, 'result_balance', get('balance'))
  redis.call('EXPIRE', hk, SETTLED_TTL_S)
  redis.call('ZREM', HOLDS, hid)
  return spent
end

-- Holds past their deadline are released before anything else reads or
-- changes the account, so an expired reservation is never counted.
local function expire_due(now, max_len)
  local due = redis.call('ZRANGEBYSCORE', HOLDS, '-inf', now, 'LIMIT', 0, 100)
  for _, hid in ipairs(due) do finish(hold_key(hid), hid, 'expired', now, max_len) end
  return #due
end

-- A credit (sign 1) or debit (sign -1) of `amount`, once per idempotency
-- key: a key seen before (a replayed payment) changes nothing and answers
-- the first result. kind: 'credit' or 'debit' (the key's namespace and the
-- ledger's op).
local function move_money(now, max_len, kind, sign, amount, reason, key, ref, admin_id)
  expire_due(now, max_len)
  local done = kind .. 'ed'
  local seen = redis.call('HGET', IDEM, kind .. ':' .. key)
  if seen then
    -- Reasons have underscores (admin_grant): [%a_]+, not %a+.
    local a, r, balance_after = string.match(seen, '^(%d+):([%a_]+):(-?%d+)$')
    if tonumber(a) ~= amount or r ~= reason then
      return {409, 'error', 'idempotency_key_reused', 'message', 'this idempotency key was used for another ' .. kind}
    end
    return {200, done, 0, 'amount', amount, 'balance', tonumber(balance_after), 'replayed', 1}
  end
  local created = touch(now)
  local balance = redis.call('HINCRBY', ACCT, 'balance', sign * amount)
  redis.call('HSET', IDEM, kind .. ':' .. key, amount .. ':' .. reason .. ':' .. balance)
  local extra = {}
  if admin_id ~= '' then extra = {'admin_id', admin_id} end
  ledger(now, max_len, kind, sign * amount, reason, key, ref, extra)
  return {200, done, 1, 'amount', amount, 'balance', balance, 'created', created}
end
