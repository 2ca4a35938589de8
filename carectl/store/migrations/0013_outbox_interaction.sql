-- The interaction a sent message became on the customer's timeline, so a reply or a survey
-- answer that arrives later can be linked to it (carectl.builtin.outbox_replies).
ALTER TABLE outbox ADD COLUMN interaction_id INTEGER REFERENCES interactions (id) ON DELETE SET NULL;
