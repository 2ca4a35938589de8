-- The service desk: interactions (every contact), tickets with SLA clocks and full status
-- history, and feedback (CSAT / NPS). Timestamps are UTC ISO-8601 text with milliseconds and Z.
-- Durations (*_secs) are business seconds (business hours, time zone, public holidays).

-- Every contact with a customer, on any channel, in either direction.
CREATE TABLE interactions (
    id           INTEGER PRIMARY KEY,
    customer_id  INTEGER NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    ticket_id    INTEGER REFERENCES tickets (id) ON DELETE SET NULL,
    channel      TEXT NOT NULL CHECK (channel IN
                 ('phone', 'email', 'sms', 'chat', 'visit', 'workshop', 'social')),
    direction    TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    agent        TEXT NOT NULL,                     -- who handled it (OS user by default)
    started_at   TEXT NOT NULL,
    ended_at     TEXT,
    outcome      TEXT NOT NULL DEFAULT '',          -- e.g. answered, no_answer, callback, sold
    note         TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL
);
CREATE INDEX interactions_customer ON interactions (customer_id, started_at);
CREATE INDEX interactions_ticket ON interactions (ticket_id) WHERE ticket_id IS NOT NULL;
CREATE INDEX interactions_started ON interactions (started_at, channel, agent);

-- A customer's question or problem, followed to its resolution.
-- status: new, open, pending_customer (the SLA clock pauses), resolved, closed, reopened.
-- paused_at: when the resolution clock last stopped (waiting on the customer, resolved or
-- closed); paused_secs: business seconds spent paused so far; resolution_due moves by them.
-- fcr: 1 when resolved with at most one agent response, never waiting on the customer and never
-- reopened (recorded at resolution; reopening clears it).
CREATE TABLE tickets (
    id                   INTEGER PRIMARY KEY,
    code                 TEXT NOT NULL UNIQUE,      -- T-000123
    customer_id          INTEGER NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    subject              TEXT NOT NULL,
    stage                TEXT NOT NULL DEFAULT 'after-sale'
                         CHECK (stage IN ('pre-sale', 'in-sale', 'after-sale')),
    category             TEXT NOT NULL,
    priority             TEXT NOT NULL DEFAULT 'normal'
                         CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    channel              TEXT NOT NULL DEFAULT 'phone',
    assignee             TEXT NOT NULL DEFAULT '',
    team                 TEXT NOT NULL DEFAULT '',
    status               TEXT NOT NULL DEFAULT 'new' CHECK (status IN
                         ('new', 'open', 'pending_customer', 'resolved', 'closed', 'reopened')),
    opened_at            TEXT NOT NULL,
    first_response_due   TEXT NOT NULL,
    first_response_at    TEXT,
    first_response_secs  INTEGER,
    resolution_target_secs INTEGER NOT NULL,       -- from the SLA policy at opening
    resolution_due       TEXT NOT NULL,
    paused_at            TEXT,
    paused_secs          INTEGER NOT NULL DEFAULT 0,
    resolved_at          TEXT,
    resolution_secs      INTEGER,                   -- business time open, pauses excluded
    closed_at            TEXT,
    done_at              TEXT,                      -- first of resolved_at / closed_at: backlog
    agent_replies        INTEGER NOT NULL DEFAULT 0,
    fcr                  INTEGER CHECK (fcr IN (0, 1)),
    reopen_count         INTEGER NOT NULL DEFAULT 0,
    updated_at           TEXT NOT NULL
);
CREATE INDEX tickets_customer ON tickets (customer_id, opened_at);
CREATE INDEX tickets_status ON tickets (status, opened_at);
CREATE INDEX tickets_assignee ON tickets (assignee, status);
CREATE INDEX tickets_opened ON tickets (opened_at, resolved_at);
-- Backlog at an instant: tickets not done yet plus those done after it (both small ranges).
CREATE INDEX tickets_undone ON tickets (opened_at) WHERE done_at IS NULL;
CREATE INDEX tickets_done ON tickets (done_at, opened_at) WHERE done_at IS NOT NULL;
CREATE INDEX tickets_first_response
    ON tickets (first_response_at, first_response_secs, first_response_due)
    WHERE first_response_at IS NOT NULL;
CREATE INDEX tickets_resolved ON tickets (resolved_at, fcr, resolution_due)
    WHERE resolved_at IS NOT NULL;

-- Full history: one row per change of a ticket (status, assignment, reply).
CREATE TABLE ticket_events (
    id           INTEGER PRIMARY KEY,
    ticket_id    INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    at           TEXT NOT NULL,
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL,                     -- open, reply, assign, resolve, reopen, close
    from_status  TEXT,
    to_status    TEXT NOT NULL,
    note         TEXT NOT NULL DEFAULT ''
);
CREATE INDEX ticket_events_ticket ON ticket_events (ticket_id, id);

-- Survey answers: CSAT 1-5, NPS 0-10, tied to a ticket or an interaction when known.
CREATE TABLE feedback (
    id              INTEGER PRIMARY KEY,
    customer_id     INTEGER NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    ticket_id       INTEGER REFERENCES tickets (id) ON DELETE SET NULL,
    interaction_id  INTEGER REFERENCES interactions (id) ON DELETE SET NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('csat', 'nps')),
    score           INTEGER NOT NULL,
    comment         TEXT NOT NULL DEFAULT '',
    channel         TEXT NOT NULL DEFAULT '',
    at              TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    CHECK ((kind = 'csat' AND score BETWEEN 1 AND 5) OR (kind = 'nps' AND score BETWEEN 0 AND 10))
);
CREATE INDEX feedback_at ON feedback (kind, at, score);
CREATE INDEX feedback_customer ON feedback (customer_id, at);
CREATE INDEX feedback_ticket ON feedback (ticket_id) WHERE ticket_id IS NOT NULL;

-- Loyalty points: an append-only ledger. Positive rows (earn, upward adjust) are lots that
-- expire; redemptions, downward adjustments and expiries use the oldest lots first (FIFO),
-- tracked in `remaining`. balance_after is the customer's balance after the row: never negative.
CREATE TABLE loyalty_ledger (
    id             INTEGER PRIMARY KEY,
    customer_id    INTEGER NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    at             TEXT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('earn', 'redeem', 'expire', 'adjust')),
    points         INTEGER NOT NULL CHECK (points != 0),
    remaining      INTEGER NOT NULL DEFAULT 0 CHECK (remaining >= 0),
    expires_at     TEXT,
    reason         TEXT NOT NULL DEFAULT '',        -- action, order, or why it was adjusted
    order_id       INTEGER REFERENCES orders (id) ON DELETE SET NULL,
    actor          TEXT NOT NULL,
    balance_after  INTEGER NOT NULL CHECK (balance_after >= 0)
);
CREATE INDEX loyalty_customer ON loyalty_ledger (customer_id, id);
CREATE INDEX loyalty_lots ON loyalty_ledger (customer_id, expires_at) WHERE remaining > 0;
CREATE INDEX loyalty_expiring ON loyalty_ledger (expires_at) WHERE remaining > 0;
CREATE UNIQUE INDEX loyalty_order ON loyalty_ledger (order_id)
    WHERE order_id IS NOT NULL AND kind = 'earn';

-- Why a customer left (or is leaving), from [service] churn_reasons, by an agent or a plugin.
CREATE TABLE churn_reasons (
    id           INTEGER PRIMARY KEY,
    customer_id  INTEGER NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    at           TEXT NOT NULL,
    reason       TEXT NOT NULL,
    note         TEXT NOT NULL DEFAULT '',
    actor        TEXT NOT NULL
);
CREATE INDEX churn_reasons_customer ON churn_reasons (customer_id, at);
CREATE INDEX churn_reasons_at ON churn_reasons (at, reason);
