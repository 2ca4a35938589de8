-- Trigram index rows keyed by -customers.id, as 0015 did for the word index: the index's
-- natural (ascending rowid) order is then newest customer first, the order search returns.
-- FTS5 walks a doclist backwards (ORDER BY rowid DESC) by decoding each page forwards first, so
-- fragment searches (an email or phone fragment, a name fragment) read backwards cost more.
-- Rebuilt once from the stored rows (about 20-30 s at a million customers).
-- Fed by carectl.search (write_index_many), never by triggers.
CREATE VIRTUAL TABLE customers_fts_new USING fts5 (names, contacts, tokenize = 'trigram');
INSERT INTO customers_fts_new (rowid, names, contacts)
    SELECT -rowid, names, contacts FROM customers_fts ORDER BY rowid DESC;
DROP TABLE customers_fts;
ALTER TABLE customers_fts_new RENAME TO customers_fts;
INSERT INTO customers_fts (customers_fts) VALUES ('optimize');
