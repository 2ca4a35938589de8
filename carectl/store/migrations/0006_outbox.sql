-- The outbox: every message that leaves carectl, its state history, consent and unsubscribe
-- tokens. Timestamps are UTC ISO-8601 text with milliseconds and Z.

-- One message. idem_key makes producing it twice queue it once (e.g. "care:12:step2:2026-11-23").
-- state: queued -> sending -> sent | deferred | failed | suppressed (deferred -> sending again).
-- A row is claimed by a sender with lease_owner/lease_until while still queued; it becomes
-- 'sending' (committed) right before it is handed to the transport, so after a crash only a
-- 'sending' row is in doubt (at most one per connection); see carectl/outbox/queue.py.
CREATE TABLE outbox (
    id            INTEGER PRIMARY KEY,
    idem_key      TEXT NOT NULL UNIQUE,
    customer_id   INTEGER NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    channel       TEXT NOT NULL,                    -- email, sms, or a plugin's channel
    template      TEXT NOT NULL,
    purpose       TEXT NOT NULL DEFAULT 'care'
                  CHECK (purpose IN ('care', 'transactional', 'marketing')),
    variables     TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(variables)),
    language      TEXT NOT NULL DEFAULT '',         -- the template language used (at render)
    recipient     TEXT NOT NULL DEFAULT '',         -- address / E.164 number used (at render)
    subject       TEXT,
    body          TEXT,
    html          TEXT,
    state         TEXT NOT NULL DEFAULT 'queued' CHECK (state IN
                  ('queued', 'sending', 'sent', 'deferred', 'failed', 'suppressed')),
    reason        TEXT NOT NULL DEFAULT '',         -- why the last transition happened
    attempts      INTEGER NOT NULL DEFAULT 0,
    due_at        TEXT NOT NULL,                    -- next attempt not before this time
    lease_owner   TEXT,
    lease_until   TEXT,
    message_id    TEXT,                             -- RFC 5322 Message-ID / gateway id
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    sent_at       TEXT
);
CREATE INDEX outbox_due ON outbox (state, due_at);
CREATE INDEX outbox_customer ON outbox (customer_id, channel, sent_at);

-- Every transition of a message, with time and reason.
CREATE TABLE outbox_events (
    id          INTEGER PRIMARY KEY,
    outbox_id   INTEGER NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
    at          TEXT NOT NULL,
    from_state  TEXT,
    to_state    TEXT NOT NULL,
    reason      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX outbox_events_message ON outbox_events (outbox_id, id);

-- Consent history, append-only: the newest row per (customer, channel, purpose) is in force.
-- status opt_in / opt_out; source: "agent:<user>", "import:<file sha256>:<row>", "unsubscribe".
CREATE TABLE consent (
    id             INTEGER PRIMARY KEY,
    customer_id    INTEGER NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    channel        TEXT NOT NULL,
    purpose        TEXT NOT NULL DEFAULT 'marketing',
    status         TEXT NOT NULL CHECK (status IN ('opt_in', 'opt_out')),
    source         TEXT NOT NULL,
    method         TEXT NOT NULL DEFAULT '',        -- e.g. cli, web_form, reply_stop, list_unsub
    text_version   TEXT NOT NULL DEFAULT '',        -- version of the consent wording shown
    at             TEXT NOT NULL,
    reconfirm_due  TEXT                             -- when an opt-in must be confirmed again
);
CREATE INDEX consent_current ON consent (customer_id, channel, purpose, id);

-- One token per customer for List-Unsubscribe links and `carectl unsubscribe TOKEN`.
CREATE TABLE unsubscribe_tokens (
    token        TEXT PRIMARY KEY,
    customer_id  INTEGER NOT NULL UNIQUE REFERENCES customers (id) ON DELETE CASCADE,
    created_at   TEXT NOT NULL,
    used_at      TEXT
);

-- A hard bounce (5xx on the recipient) marks the address undeliverable; it is not used again.
ALTER TABLE contact_points ADD COLUMN undeliverable_at TEXT;
ALTER TABLE contact_points ADD COLUMN undeliverable_reason TEXT NOT NULL DEFAULT '';
