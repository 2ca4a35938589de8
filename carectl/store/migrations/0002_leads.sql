-- Lead files and their rows: the ledger that makes ingest exactly-once, and provenance for every
-- customer a lead created or enriched. Timestamps are UTC ISO-8601 text.

-- One row per distinct file content (by SHA-256), whatever name or folder it arrived under.
-- status: processing (started, resumable after a crash), done, failed (stopped by a file error).
CREATE TABLE lead_files (
    id           INTEGER PRIMARY KEY,
    sha256       TEXT NOT NULL UNIQUE,
    file_name    TEXT NOT NULL,                     -- the name it was first delivered under
    path         TEXT NOT NULL DEFAULT '',
    source       TEXT NOT NULL,                     -- vendor tag
    size         INTEGER NOT NULL,
    rows         INTEGER NOT NULL DEFAULT 0,        -- data rows recorded in leads
    created      INTEGER NOT NULL DEFAULT 0,
    merged       INTEGER NOT NULL DEFAULT 0,
    review       INTEGER NOT NULL DEFAULT 0,
    rejected     INTEGER NOT NULL DEFAULT 0,
    status       TEXT NOT NULL DEFAULT 'processing'
                 CHECK (status IN ('processing', 'done', 'failed')),
    error        TEXT NOT NULL DEFAULT '',
    started_at   TEXT NOT NULL,
    finished_at  TEXT
);
CREATE INDEX lead_files_source ON lead_files (source, started_at);

-- The same content delivered again (another name, another time): recorded, never ingested.
CREATE TABLE lead_file_duplicates (
    id           INTEGER PRIMARY KEY,
    file_id      INTEGER NOT NULL REFERENCES lead_files (id) ON DELETE CASCADE,
    file_name    TEXT NOT NULL,
    path         TEXT NOT NULL DEFAULT '',
    source       TEXT NOT NULL,
    size         INTEGER NOT NULL,
    received_at  TEXT NOT NULL
);
CREATE INDEX lead_file_duplicates_file ON lead_file_duplicates (file_id);

-- One row per data row of a file, written in the same transaction as the customer change it
-- caused. UNIQUE (file_id, row_number) is what makes a resumed file skip rows already done.
-- action: new (created customer_id), merge (enriched customer_id), review (created customer_id,
-- doubtful match with match_customer_id), rejected (errors say why; nothing written).
CREATE TABLE leads (
    id                 INTEGER PRIMARY KEY,
    file_id            INTEGER NOT NULL REFERENCES lead_files (id) ON DELETE CASCADE,
    row_number         INTEGER NOT NULL,            -- line in the file, header = line 1
    raw                TEXT NOT NULL CHECK (json_valid(raw)),
    customer_id        INTEGER REFERENCES customers (id) ON DELETE SET NULL,
    action             TEXT NOT NULL CHECK (action IN ('new', 'merge', 'review', 'rejected')),
    match_customer_id  INTEGER REFERENCES customers (id) ON DELETE SET NULL,
    match_score        REAL,
    match_reason       TEXT NOT NULL DEFAULT '',
    errors             TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(errors)),
    warnings           TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(warnings)),
    created_at         TEXT NOT NULL,
    UNIQUE (file_id, row_number)
);
CREATE INDEX leads_customer ON leads (customer_id);
CREATE INDEX leads_review ON leads (file_id) WHERE action = 'review';
