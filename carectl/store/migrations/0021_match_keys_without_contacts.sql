-- Phones and emails are blocked on through contact_points' own index (kind, value_norm), which
-- every writer keeps and merges re-point; their copies in match_keys were written by every
-- customer write and read by nothing (~20 us a lead at import, two index entries each).
DELETE FROM match_keys WHERE kind IN ('phone', 'email');
