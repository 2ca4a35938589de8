-- Customer lifecycle transitions (active -> lapsed -> churned, win-back), rebuilt from paid
-- orders by carectl.service.lifecycle.sweep; the churn rate reads them instead of every order.
CREATE TABLE lifecycle_transitions (
    id           INTEGER PRIMARY KEY,
    customer_id  INTEGER NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    at           TEXT NOT NULL,
    from_state   TEXT NOT NULL CHECK (from_state IN ('', 'active', 'lapsed', 'churned')),
    to_state     TEXT NOT NULL CHECK (to_state IN ('active', 'lapsed', 'churned')),
    left_at      TEXT                               -- a win-back: when they had left 'active'
);
CREATE INDEX lifecycle_customer ON lifecycle_transitions (customer_id, at, from_state, to_state);
CREATE INDEX lifecycle_at ON lifecycle_transitions (at, from_state, to_state, customer_id);
CREATE INDEX lifecycle_winback ON lifecycle_transitions (at, left_at) WHERE left_at IS NOT NULL;

-- Entries into and exits from 'active' per UTC day: "how many were active at T" sums these up to
-- T's day plus T's own day from the index, instead of counting every customer.
CREATE TABLE lifecycle_daily (
    day      TEXT PRIMARY KEY,                  -- YYYY-MM-DD, UTC
    entered  INTEGER NOT NULL,
    exited   INTEGER NOT NULL
) WITHOUT ROWID;

-- What the last sweep covered: transitions are known up to `until` for these windows, as long
-- as no order was added since (orders_max_id).
CREATE TABLE lifecycle_sweep (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    at             TEXT NOT NULL,
    until          TEXT NOT NULL,
    lapse_days     INTEGER NOT NULL,
    churned_days   INTEGER NOT NULL,
    orders_max_id  INTEGER NOT NULL
);
