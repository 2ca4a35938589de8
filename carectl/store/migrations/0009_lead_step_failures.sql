-- Pipeline steps after a lead's customer was written (classify, plan follow-ups) that a plugin
-- failed on or hung in: one row per lead, step and plugin, retried by `carectl leads retry`.
-- status: failed (to retry), done (a retry succeeded).
CREATE TABLE lead_step_failures (
    id          INTEGER PRIMARY KEY,
    lead_id     INTEGER NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
    step        TEXT NOT NULL,
    plugin      TEXT NOT NULL DEFAULT '',
    error       TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL DEFAULT 'failed' CHECK (status IN ('failed', 'done')),
    attempts    INTEGER NOT NULL DEFAULT 1,
    failed_at   TEXT NOT NULL,
    retried_at  TEXT,
    UNIQUE (lead_id, step)
);
CREATE INDEX lead_step_failures_status ON lead_step_failures (status, id);
