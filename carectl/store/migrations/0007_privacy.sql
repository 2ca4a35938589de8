-- Privacy: the contact points of people erased on request, kept only as keyed hashes, so a
-- re-import or a queued message recognises them without the database holding them any more.

-- One random key per database: digest = HMAC-SHA256(key, kind || ':' || normalised value).
-- The key is not a secret from someone holding the file (phone numbers are few enough to
-- enumerate); it keeps the digests useless outside this database and unlinkable across copies.
CREATE TABLE privacy_key (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    key  TEXT NOT NULL
);
INSERT INTO privacy_key (id, key) VALUES (1, lower(hex(randomblob(32))));

-- kind: email (normalised, lower-case) or phone (E.164). Never deleted by carectl.
CREATE TABLE suppressions (
    kind    TEXT NOT NULL CHECK (kind IN ('email', 'phone')),
    digest  TEXT NOT NULL,
    reason  TEXT NOT NULL DEFAULT 'erased',
    at      TEXT NOT NULL,
    PRIMARY KEY (kind, digest)
) WITHOUT ROWID;
