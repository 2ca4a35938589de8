-- Identity resolution: blocking keys, merges with their undo snapshots, and the review queue.
-- Written by carectl.dedupe (keys in the same transaction as the customer write that changes them).

-- Blocking index: a lead is compared only with customers sharing one of its keys.
-- kind: email, email_canon (provider rules applied), phone, name_year, name_region, bday_tok.
-- No foreign key: keys are rewritten by their owner and dropped on merge.
CREATE TABLE match_keys (
    customer_id  INTEGER NOT NULL,
    kind         TEXT NOT NULL,
    key          TEXT NOT NULL,
    PRIMARY KEY (kind, key, customer_id)
) WITHOUT ROWID;
CREATE INDEX match_keys_customer ON match_keys (customer_id);

-- One row per merge of merged_id into survivor_id. snapshot holds everything undo needs to put
-- both customers back exactly: both customer rows and every row that referenced merged_id.
-- A merged-away code resolves to its survivor while undone_at is NULL.
CREATE TABLE merges (
    id           INTEGER PRIMARY KEY,
    survivor_id  INTEGER NOT NULL,
    merged_id    INTEGER NOT NULL,
    merged_code  TEXT NOT NULL,
    score        REAL,
    reason       TEXT NOT NULL DEFAULT '',
    origin       TEXT NOT NULL DEFAULT 'manual',    -- manual, review, scan
    actor        TEXT NOT NULL,
    at           TEXT NOT NULL,
    snapshot     TEXT NOT NULL CHECK (json_valid(snapshot)),
    undone_at    TEXT
);
CREATE INDEX merges_merged ON merges (merged_id);  -- also reserves merged ids (max)
CREATE INDEX merges_survivor ON merges (survivor_id);

-- Pairs a person decides: pending (in the review queue), merged, or separate (never proposed
-- again). a_id < b_id always, so a pair has one row.
CREATE TABLE dedupe_pairs (
    id          INTEGER PRIMARY KEY,
    a_id        INTEGER NOT NULL,
    b_id        INTEGER NOT NULL CHECK (a_id < b_id),
    score       REAL NOT NULL,
    reason      TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'merged', 'separate')),
    created_at  TEXT NOT NULL,
    decided_at  TEXT,
    decided_by  TEXT,
    UNIQUE (a_id, b_id)
);
CREATE INDEX dedupe_pairs_status ON dedupe_pairs (status, score DESC, id);
CREATE INDEX dedupe_pairs_b ON dedupe_pairs (b_id);
