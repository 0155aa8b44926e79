-- Typed relations between sources (issue 16): who belongs with whom, and who relays whom, so
-- that two voices of one government, or an outlet and the agency it repeats, can be told apart
-- from independent ones.
CREATE TABLE source_relations (
    id                uuid PRIMARY KEY,
    source_id         uuid NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    related_source_id uuid NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    kind              text NOT NULL CHECK (kind IN ('affiliated_with', 'cites', 'derived_from')),
    created_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    created_by        text CHECK (char_length(created_by) <= 100),
    CHECK (source_id <> related_source_id),
    UNIQUE (source_id, related_source_id, kind)
);

-- Affiliation has no direction: A with B is B with A, recorded once.
CREATE UNIQUE INDEX source_relations_affiliation_key
    ON source_relations (least(source_id, related_source_id), greatest(source_id, related_source_id))
    WHERE kind = 'affiliated_with';

-- A source's relations are listed from either side, newest first.
CREATE INDEX source_relations_source_idx ON source_relations (source_id, created_at DESC, id DESC);
CREATE INDEX source_relations_related_idx ON source_relations (related_source_id, created_at DESC, id DESC);

-- The two new event types, in events and in the outbox, which keeps the same check (see 0010) so
-- that no row it holds can be refused on its move.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['events', 'event_outbox'] LOOP
        EXECUTE format($sql$
            ALTER TABLE %I DROP CONSTRAINT events_type_check,
            ADD CONSTRAINT events_type_check CHECK (type IN (
                'claim.created', 'claim.updated', 'claim.deleted', 'claim.status_changed',
                'evidence.added', 'evidence.removed',
                'source.created', 'source.updated', 'source.deleted',
                'source.relation_added', 'source.relation_removed'))
            $sql$, t);
    END LOOP;
END $$;
