-- Claimed: the trigram index keyed by -customers.id (newest first), as 0015 did for words.
SELECT 1;
