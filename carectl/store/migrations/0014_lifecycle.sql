-- Customer lifecycle transitions (active -> lapsed -> churned, win-back), rebuilt from paid
-- orders by carectl.service.lifecycle.sweep; the churn rate reads them instead of every order.
CREATE TABLE lifecycle_transitions (
    id           INTEGER PRIMARY KEY,
    customer_id  INTEGER NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    at           TEXT NOT NULL,
    from_state   TEXT NOT NULL CHECK (from_state IN ('', 'active', 'lapsed', 'churned')),
    to_state     TEXT NOT NULL CHECK (to_state IN ('active', 'lapsed', 'churned'))
);
CREATE INDEX lifecycle_customer ON lifecycle_transitions (customer_id, at);
CREATE INDEX lifecycle_at ON lifecycle_transitions (at, from_state, to_state, customer_id);
