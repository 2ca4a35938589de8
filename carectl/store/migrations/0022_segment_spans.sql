-- Segment membership as spans. An entry lives in segment_members (since, reason) while the
-- customer stays; when the customer leaves, the entry and the exit are written to
-- segment_history together. A first recompute over a million customers then writes its
-- memberships once, not twice. "Who entered X in a month" reads the history rows entered in the
-- month and the members whose since is in the month (carectl.segments.membership.history).
ALTER TABLE segment_members ADD COLUMN reason TEXT NOT NULL DEFAULT '';
CREATE INDEX segment_members_since ON segment_members (segment, since);

-- Existing open entries move into their member rows: a member's newest history row for its
-- segment is its entry (an exit would have removed the member).
UPDATE segment_members SET reason = coalesce((
    SELECT CASE h.change WHEN 'entered' THEN h.reason END FROM segment_history h
    WHERE h.customer_id = segment_members.customer_id AND h.segment = segment_members.segment
    ORDER BY h.at DESC, h.id DESC LIMIT 1
), '');
DELETE FROM segment_history WHERE change = 'entered' AND id IN (
    SELECT (
        SELECT h.id FROM segment_history h
        WHERE h.customer_id = m.customer_id AND h.segment = m.segment
        ORDER BY h.at DESC, h.id DESC LIMIT 1
    ) FROM segment_members m
);
