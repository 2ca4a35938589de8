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
