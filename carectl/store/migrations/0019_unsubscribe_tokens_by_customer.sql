-- Unsubscribe tokens keyed by customer: a token is "<customer id>.<secret>", so it is found by
-- the table's own key and a first email writes one b-tree page instead of three (the random
-- token's index page above all). Tokens made before this have no dot and stay valid through
-- a partial index on them alone.
CREATE TABLE unsubscribe_tokens_new (
    customer_id  INTEGER PRIMARY KEY REFERENCES customers (id) ON DELETE CASCADE,
    token        TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    used_at      TEXT
);
INSERT INTO unsubscribe_tokens_new (customer_id, token, created_at, used_at)
    SELECT customer_id, token, created_at, used_at FROM unsubscribe_tokens;
DROP TABLE unsubscribe_tokens;
ALTER TABLE unsubscribe_tokens_new RENAME TO unsubscribe_tokens;
CREATE UNIQUE INDEX unsubscribe_tokens_before_0019 ON unsubscribe_tokens (token)
    WHERE instr(token, '.') = 0;
