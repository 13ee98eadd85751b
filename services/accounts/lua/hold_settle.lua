-- ARGV: now_ms, hold id, action (commit|release|expire), ledger_max
-- commit and release take effect once; repeating one returns its answer;
-- the other one afterwards is a 409. 'expire' is the sweeper's: it only
-- releases a hold whose deadline has passed.
local now, hid, action, max_len = tonumber(ARGV[1]), ARGV[2], ARGV[3], ARGV[4]
local hk = hold_key(hid)
local state = redis.call('HGET', hk, 'state')
if not state then return {404, 'error', 'hold_not_found', 'message', 'no such hold'} end

local changed, spent, expired_now = 0, 0, 0
if state == 'held' and num(redis.call('HGET', hk, 'expires_ms')) <= now then
  finish(hk, hid, 'expired', now, max_len)
  state, changed, expired_now = 'expired', 1, 1
end
if action == 'expire' then
  local answer = hold_answer(200, hk, hid)
  table.insert(answer, 'changed'); table.insert(answer, changed)
  return answer
end

local target = action == 'commit' and 'committed' or 'released'
if state == 'held' then
  spent = finish(hk, hid, target, now, max_len)
  state, changed = target, 1
elseif state ~= target and not (action == 'release' and state == 'expired') then
  local answer = hold_answer(409, hk, hid)
  table.insert(answer, 'error'); table.insert(answer, 'hold_' .. state)
  table.insert(answer, 'message'); table.insert(answer, 'the hold is already ' .. state)
  table.insert(answer, 'changed'); table.insert(answer, changed)
  return answer
end
local answer = hold_answer(200, hk, hid)
for _, kv in ipairs({{'changed', changed}, {'spent', spent}, {'expired_now', expired_now}}) do
  table.insert(answer, kv[1]); table.insert(answer, kv[2])
end
return answer
