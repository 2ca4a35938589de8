-- Covering indexes for the segment metrics: each source table is aggregated per customer
-- straight from an index (no table lookups), for the full recompute and the per-customer path.
CREATE INDEX tickets_metrics ON tickets (customer_id, opened_at, category, done_at);
CREATE INDEX feedback_metrics ON feedback (customer_id, kind, at, score);
CREATE INDEX loyalty_metrics ON loyalty_ledger (customer_id, kind, points);
