-- Search by whole words: an FTS5 word index over the same folded names the trigram index holds.
-- A full name's words ("nguyen", "thi", "linh") are each one posting list here, instead of a
-- dozen trigram lists as long as the table ("ngu", "yen", "thi"). Trigrams stay for fragments.
-- Fed by carectl.search in the same transaction as the rows, never by triggers. rowid = customers.id.
CREATE VIRTUAL TABLE customers_words USING fts5 (
    names, tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO customers_words (rowid, names) SELECT rowid, names FROM customers_fts;
