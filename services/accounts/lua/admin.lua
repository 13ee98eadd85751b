-- ARGV: now_ms, action (set|remove|ensure), limit, ledger_max
-- 'ensure' makes an admin with `limit` unless the user was ever configured.
local now, action, limit, max_len = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local created = touch(now)
if action == 'ensure' and redis.call('HEXISTS', ACCT, 'is_admin') == 1 then
  return {200, 'is_admin', get('is_admin'), 'admin_limit', get('admin_limit'), 'created', created}
end
if action == 'remove' then
  redis.call('HSET', ACCT, 'is_admin', 0)
else
  redis.call('HSET', ACCT, 'is_admin', 1, 'admin_limit', limit)
end
ledger(now, max_len, 'admin_' .. action, 0, tostring(limit), '', '')
return {200, 'is_admin', get('is_admin'), 'admin_limit', get('admin_limit'), 'admin_spent', get('admin_spent'),
  'admin_held', get('admin_held'), 'created', created}
