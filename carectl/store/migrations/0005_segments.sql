-- Segments: per-customer metrics (RFM and care signals), rule-based segment membership with its
-- history, tags from classify plugins, and care tasks. All derived tables are rewritten by
-- carectl.segments (full recompute or per customer); nothing else writes them.

-- Paid orders grouped per customer and currency straight from the index (no table lookups).
CREATE INDEX orders_metrics ON orders (customer_id, currency, status, ordered_at, amount_minor);
-- Last contact and inbound enquiries per customer from the index alone.
CREATE INDEX interactions_metrics ON interactions (customer_id, direction, started_at);

-- One row per customer. Windows come from [metrics] in the config; *_days are whole days before
-- computed_at. Scores are quintiles 1-5 within the customer's main currency (NULL: no order).
-- lifecycle: lead (nothing yet), prospect (contacted, no purchase), customer, lapsed, churned.
CREATE TABLE customer_metrics (
    customer_id       INTEGER PRIMARY KEY REFERENCES customers (id) ON DELETE CASCADE,
    currency          TEXT NOT NULL DEFAULT '',     -- main currency (most paid orders)
    first_order_at    TEXT,
    last_order_at     TEXT,
    recency_days      INTEGER,                      -- days since the last paid order
    frequency         INTEGER NOT NULL DEFAULT 0,   -- paid orders in the frequency window
    monetary          INTEGER NOT NULL DEFAULT 0,   -- minor units paid in the monetary window
    orders_total      INTEGER NOT NULL DEFAULT 0,   -- paid orders ever (main currency)
    r_score           INTEGER,
    f_score           INTEGER,
    m_score           INTEGER,
    rfm_score         INTEGER,                      -- r + f + m, 3..15
    last_contact_at   TEXT,
    contact_days      INTEGER,                      -- days since the last interaction, any channel
    enquiries         INTEGER NOT NULL DEFAULT 0,   -- inbound interactions in the enquiry window
    open_tickets      INTEGER NOT NULL DEFAULT 0,
    complaints        INTEGER NOT NULL DEFAULT 0,   -- complaint tickets open or opened in window
    avg_satisfaction  REAL,                         -- mean CSAT (1-5) in the satisfaction window
    loyalty_points    INTEGER NOT NULL DEFAULT 0,   -- lifetime earned points
    loyalty_tier      TEXT NOT NULL DEFAULT '',
    lifecycle         TEXT NOT NULL DEFAULT 'lead'
                      CHECK (lifecycle IN ('lead', 'prospect', 'customer', 'lapsed', 'churned')),
    computed_at       TEXT NOT NULL
);

-- Quintile bounds per currency from the last full recompute; the incremental path scores
-- against them, so one customer's order does not move everyone's scores.
CREATE TABLE rfm_bounds (
    currency     TEXT PRIMARY KEY,
    customers    INTEGER NOT NULL,
    r1 TEXT, r2 TEXT, r3 TEXT, r4 TEXT,             -- last_order_at at the 20/40/60/80 % ranks
    f1 INTEGER, f2 INTEGER, f3 INTEGER, f4 INTEGER,
    m1 INTEGER, m2 INTEGER, m3 INTEGER, m4 INTEGER,
    computed_at  TEXT NOT NULL
);

-- Tags given by classify_customer plugins (custom.tags holds the ones from lead files).
CREATE TABLE customer_tags (
    customer_id  INTEGER NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    tag          TEXT NOT NULL,
    at           TEXT NOT NULL,
    PRIMARY KEY (customer_id, tag)
) WITHOUT ROWID;
CREATE INDEX customer_tags_tag ON customer_tags (tag, customer_id);

-- Current membership: one row per (segment, customer).
CREATE TABLE segment_members (
    segment      TEXT NOT NULL,
    customer_id  INTEGER NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    since        TEXT NOT NULL,
    PRIMARY KEY (segment, customer_id)
) WITHOUT ROWID;
CREATE INDEX segment_members_customer ON segment_members (customer_id, segment);

-- Every entry and exit, with why: "who became lapsed this month" is a range over (segment, at).
CREATE TABLE segment_history (
    id           INTEGER PRIMARY KEY,
    segment      TEXT NOT NULL,
    customer_id  INTEGER NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    change       TEXT NOT NULL CHECK (change IN ('entered', 'left')),
    at           TEXT NOT NULL,
    reason       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX segment_history_segment ON segment_history (segment, at);
CREATE INDEX segment_history_customer ON segment_history (customer_id, at);

-- Care tasks for people (calls, visits, workshops) made by the scheduler from care plans.
-- key makes scheduling idempotent: plan, step, customer and the due period.
-- status: open, done, deferred (reason says which policy), cancelled.
CREATE TABLE care_tasks (
    id           INTEGER PRIMARY KEY,
    key          TEXT NOT NULL UNIQUE,
    customer_id  INTEGER NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    plan         TEXT NOT NULL,
    step         TEXT NOT NULL,
    channel      TEXT NOT NULL,
    template     TEXT NOT NULL DEFAULT '',
    owner        TEXT NOT NULL DEFAULT '',          -- an agent, or a queue name
    priority     TEXT NOT NULL DEFAULT 'normal'
                 CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    due_at       TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'open'
                 CHECK (status IN ('open', 'done', 'deferred', 'cancelled')),
    reason       TEXT NOT NULL DEFAULT '',          -- why it exists, or why it is deferred
    outcome      TEXT NOT NULL DEFAULT '',
    note         TEXT NOT NULL DEFAULT '',
    interaction_id INTEGER REFERENCES interactions (id) ON DELETE SET NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE INDEX care_tasks_due ON care_tasks (status, due_at);
CREATE INDEX care_tasks_owner ON care_tasks (owner, status, due_at);
CREATE INDEX care_tasks_customer ON care_tasks (customer_id, due_at);
