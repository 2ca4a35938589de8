-- Customers whose lifecycle transitions no longer follow from their orders: an order moved to
-- another customer (a merge, or its undo), changed status or date, or deleted. New orders need
-- no marker (lifecycle_sweep.orders_max_id finds them). carectl.service.lifecycle.refresh
-- derives these customers again and empties the table; the churn rate counts them from orders
-- until then. No foreign key: a merged customer's marker outlives its row.
CREATE TABLE lifecycle_stale (customer_id INTEGER PRIMARY KEY);

-- Triggers, not calls in every writer: orders change in place rarely (merge, undo, a refund),
-- and a plugin that edits orders is covered too. Inserts carry no trigger.
CREATE TRIGGER lifecycle_orders_changed AFTER UPDATE OF customer_id, status, ordered_at ON orders
BEGIN
    INSERT OR IGNORE INTO lifecycle_stale (customer_id) VALUES (OLD.customer_id);
    INSERT OR IGNORE INTO lifecycle_stale (customer_id) VALUES (NEW.customer_id);
END;
CREATE TRIGGER lifecycle_orders_deleted AFTER DELETE ON orders
BEGIN
    INSERT OR IGNORE INTO lifecycle_stale (customer_id) VALUES (OLD.customer_id);
END;

-- The transitions lose their foreign key to customers. They are derived from the orders, so
-- only the lifecycle code writes them: with the key, a merge moved them to the survivor and its
-- undo wrote old rows back behind the daily totals' back, erasure deleted them while keeping the
-- orders, and a sweep's DELETE went row by row. The derived tables start empty; the next
-- refresh (carectl kpi, the daemon, carectl churn lifecycle) sweeps again.
DROP TABLE lifecycle_transitions;
CREATE TABLE lifecycle_transitions (
    id           INTEGER PRIMARY KEY,
    customer_id  INTEGER NOT NULL,                  -- customers.id (kept after a merge: stale)
    at           TEXT NOT NULL,
    from_state   TEXT NOT NULL CHECK (from_state IN ('', 'active', 'lapsed', 'churned')),
    to_state     TEXT NOT NULL CHECK (to_state IN ('active', 'lapsed', 'churned')),
    left_at      TEXT                               -- a win-back: when they had left 'active'
);
CREATE INDEX lifecycle_customer ON lifecycle_transitions (customer_id, at, from_state, to_state);
CREATE INDEX lifecycle_at ON lifecycle_transitions (at, from_state, to_state, customer_id);
CREATE INDEX lifecycle_winback ON lifecycle_transitions (at, left_at) WHERE left_at IS NOT NULL;
DELETE FROM lifecycle_daily;
DELETE FROM lifecycle_sweep;
