-- Word index rows keyed by -customers.id: the index's natural (ascending rowid) order is then
-- newest customer first, which is the order search returns. FTS5 walks a doclist backwards
-- (ORDER BY rowid DESC) by decoding each page forwards first, so the newest-first read of a
-- full name's common words ("nguyen", "thi") cost about 1.7 times the forward read.
-- Fed by carectl.search (write_index_many), never by triggers.
DROP TABLE customers_words;
CREATE VIRTUAL TABLE customers_words USING fts5 (
    names, tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO customers_words (rowid, names)
    SELECT -rowid, names FROM customers_fts ORDER BY rowid DESC;
INSERT INTO customers_words (customers_words) VALUES ('optimize');
