-- ARGV: now_ms, amount, reason, idempotency_key, ref, ledger_max, admin_id ('' unless an admin grant)
-- A key seen before (e.g. a replayed telegram_payment_charge_id) credits nothing.
return move_money(ARGV[1], ARGV[6], 'credit', 1, tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5], ARGV[7])
