-- Segment membership as spans (claimed; filled in by the segments helper).
SELECT 1;
