-- Unsubscribe tokens keyed by customer (claimed; filled in by the next commit).
SELECT 1;
