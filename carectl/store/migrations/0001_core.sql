-- Core records: where customers come from, who they are, how to reach them, what they bought,
-- and who changed what. Timestamps are UTC ISO-8601 text ("2026-11-23T09:00:00.000Z").

CREATE TABLE sources (
    id          INTEGER PRIMARY KEY,
    vendor      TEXT NOT NULL,
    channel     TEXT NOT NULL DEFAULT '',
    campaign    TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    UNIQUE (vendor, channel, campaign)
);

CREATE TABLE customers (
    id           INTEGER PRIMARY KEY,
    code         TEXT NOT NULL UNIQUE,              -- stable, human-readable: C-000123
    full_name    TEXT NOT NULL DEFAULT '',
    family_name  TEXT NOT NULL DEFAULT '',
    given_name   TEXT NOT NULL DEFAULT '',
    name_key     TEXT NOT NULL DEFAULT '',          -- folded full name: sort key, prefix search
    given_key    TEXT NOT NULL DEFAULT '',          -- folded given name: prefix search
    language     TEXT NOT NULL DEFAULT '',
    timezone     TEXT NOT NULL DEFAULT '',
    region       TEXT NOT NULL DEFAULT '',
    birthday     TEXT,                              -- YYYY-MM-DD, or --MM-DD when the year is unknown
    source_id    INTEGER REFERENCES sources (id),
    custom       TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(custom)),
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE INDEX customers_name_key ON customers (name_key, id);
CREATE INDEX customers_given_key ON customers (given_key, id);
CREATE INDEX customers_updated ON customers (updated_at, id);
CREATE INDEX customers_source ON customers (source_id);

CREATE TABLE contact_points (
    id           INTEGER PRIMARY KEY,
    customer_id  INTEGER NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    kind         TEXT NOT NULL CHECK (kind IN ('email', 'phone')),
    value_raw    TEXT NOT NULL,
    value_norm   TEXT NOT NULL,                     -- lower-cased email / E.164 phone
    verified     INTEGER NOT NULL DEFAULT 0 CHECK (verified IN (0, 1)),
    is_primary   INTEGER NOT NULL DEFAULT 0 CHECK (is_primary IN (0, 1)),
    created_at   TEXT NOT NULL,
    UNIQUE (customer_id, kind, value_norm)
);
CREATE INDEX contact_points_value ON contact_points (kind, value_norm);
CREATE UNIQUE INDEX contact_points_one_primary
    ON contact_points (customer_id, kind) WHERE is_primary = 1;

CREATE TABLE orders (
    id            INTEGER PRIMARY KEY,
    customer_id   INTEGER NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    external_ref  TEXT,                             -- the shop's order number, if any
    ordered_at    TEXT NOT NULL,
    amount_minor  INTEGER NOT NULL,                 -- in the currency's minor unit (VND: dong)
    currency      TEXT NOT NULL CHECK (length(currency) = 3),
    status        TEXT NOT NULL DEFAULT 'paid' CHECK (status IN ('paid', 'refunded', 'cancelled')),
    items         TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(items)),
    source_id     INTEGER REFERENCES sources (id),
    created_at    TEXT NOT NULL
);
CREATE INDEX orders_customer ON orders (customer_id, ordered_at);
CREATE UNIQUE INDEX orders_external ON orders (source_id, external_ref)
    WHERE external_ref IS NOT NULL;

CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,
    actor      TEXT NOT NULL,                       -- the OS user who ran carectl
    action     TEXT NOT NULL,                       -- e.g. customer.create, customer.update
    entity     TEXT NOT NULL,
    entity_id  TEXT,
    before     TEXT,                                -- JSON
    after      TEXT                                 -- JSON
);
CREATE INDEX audit_entity ON audit_log (entity, entity_id, id);

-- Search: trigram FTS over names (as written and accent-folded) and contact values. Fed by the
-- service functions in the same transaction as the rows, never by triggers. rowid = customers.id.
CREATE VIRTUAL TABLE customers_fts USING fts5 (names, contacts, tokenize = 'trigram');
