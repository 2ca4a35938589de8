-- Word index rowids become -customers.id, so that the index's natural (ascending) order is
-- newest customer first. (Filled in below by the same commit series; placeholder claim.)
SELECT 1;
