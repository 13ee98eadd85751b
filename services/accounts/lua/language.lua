-- ARGV: now_ms, language (ru|en), ledger_max
local now, lang, max_len = ARGV[1], ARGV[2], ARGV[3]
local created = touch(now)
redis.call('HSET', ACCT, 'lang', lang)
ledger(now, max_len, 'language', 0, lang, '', '')
return {200, 'language', lang, 'created', created}
