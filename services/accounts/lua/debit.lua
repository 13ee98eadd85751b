-- ARGV: now_ms, amount, reason (stars_refund|admin_debit), idempotency_key, ref, ledger_max, admin_id
-- Takes money back once per key. The balance may go below zero (a refunded
-- payment that was already spent): paid holds are then refused until a top-up.
return move_money(ARGV[1], ARGV[6], 'debit', -1, tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5], ARGV[7])
