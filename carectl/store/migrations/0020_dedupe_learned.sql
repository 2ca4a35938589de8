-- What the dedupe learner counted (carectl/dedupe/learn.py): the counts behind each learned
-- weight, kept so that another process (a scan run again, the daemon, a second import) goes on
-- from them instead of re-estimating from the pairs earlier merges left behind.
-- name: 'field:<field>' (decided one-person pairs m, random pairs u that compared the field),
-- 'level:<level>' (those of them at that level), 'home' (m: decided pairs sharing a home),
-- 'random' (u: random pairs drawn), 'through' (m: the highest customer id learned from).
CREATE TABLE dedupe_learned (
    name  TEXT PRIMARY KEY,
    m     INTEGER NOT NULL DEFAULT 0,
    u     INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
