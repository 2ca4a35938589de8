-- leads.match_customer_id (the customer a lead held for review was compared with) references
-- customers ON DELETE SET NULL, but had no index: every customer deleted by a merge scanned the
-- whole leads table (twice: the foreign-key action and merge re-pointing references), ~60 ms
-- per merge at 200,000 leads, growing with every file ingested. Partial: only leads held for
-- review have one, so ingesting a lead touches no more index than before.
CREATE INDEX leads_match_customer ON leads (match_customer_id) WHERE match_customer_id IS NOT NULL;
