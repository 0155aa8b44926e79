-- Typed relations between claims (issue 16): the same claim logged twice (duplicate_of, with a
-- direction: the claim in claim_id is the duplicate), one contradicting another, a narrower
-- version (refines), or merely related. contradicts and related have no direction and are
-- recorded once for both claims.
CREATE TABLE claim_relations (
    id               uuid PRIMARY KEY,
    claim_id         uuid NOT NULL REFERENCES claims (id) ON DELETE CASCADE,
    related_claim_id uuid NOT NULL REFERENCES claims (id) ON DELETE CASCADE,
    kind             text NOT NULL CHECK (kind IN ('duplicate_of', 'contradicts', 'refines', 'related')),
    created_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    created_by       text CHECK (char_length(created_by) <= 100),
    CHECK (claim_id <> related_claim_id),
    UNIQUE (claim_id, related_claim_id, kind)
);

CREATE UNIQUE INDEX claim_relations_undirected_key
    ON claim_relations (kind, least(claim_id, related_claim_id), greatest(claim_id, related_claim_id))
    WHERE kind IN ('contradicts', 'related');

-- A claim is a duplicate of one claim at most: its canonical is then never in doubt.
CREATE UNIQUE INDEX claim_relations_one_canonical_key ON claim_relations (claim_id) WHERE kind = 'duplicate_of';

-- A claim's relations are listed from either side, newest first; the second also walks a
-- canonical's duplicates down their chains.
CREATE INDEX claim_relations_claim_idx ON claim_relations (claim_id, created_at DESC, id DESC);
CREATE INDEX claim_relations_related_idx ON claim_relations (related_claim_id, created_at DESC, id DESC);

-- The end of a duplicate's duplicate_of chain, kept by the relation writes (Duplicates.Sql):
-- NULL for a claim that is no duplicate, which is nearly every claim. The status look-up reads it
-- with the claim's row, lists leave such claims out, and a canonical's origins count its
-- duplicates' evidence, none of which walks a chain. No foreign key: claim deletion re-points the
-- duplicates in its own transaction.
ALTER TABLE claims ADD COLUMN canonical_claim_id uuid;

-- A canonical's duplicates, for its origins and its read.
CREATE INDEX claims_canonical_idx ON claims (canonical_claim_id) WHERE canonical_claim_id IS NOT NULL;

-- Searches leave duplicates out. The walk of the newest claims (db/0012_search_walk.sql) reads
-- its index only, so the duplicates leave that index: with them in it, each claim a search
-- matched cost a probe of an index of the duplicates, 200 for a ranked search's window, a fifth of
-- its throughput. A search that lists duplicates reads their own small index beside it. Building the
-- index again blocks writes to claims while it runs, about 10 s at a million claims, as 0012 did.
CREATE INDEX claims_search_walk_new_idx ON claims (updated_at DESC, id DESC) INCLUDE (search_vector)
    WHERE octet_length(statement) + coalesce(octet_length(summary), 0) <= 400 AND canonical_claim_id IS NULL;
DROP INDEX claims_search_walk_idx;
ALTER INDEX claims_search_walk_new_idx RENAME TO claims_search_walk_idx;
CREATE INDEX claims_search_walk_duplicates_idx ON claims (updated_at DESC, id DESC) INCLUDE (search_vector)
    WHERE octet_length(statement) + coalesce(octet_length(summary), 0) <= 400 AND canonical_claim_id IS NOT NULL;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['events', 'event_outbox'] LOOP
        EXECUTE format($sql$
            ALTER TABLE %I DROP CONSTRAINT events_type_check,
            ADD CONSTRAINT events_type_check CHECK (type IN (
                'claim.created', 'claim.updated', 'claim.deleted', 'claim.status_changed',
                'claim.relation_added', 'claim.relation_removed',
                'evidence.added', 'evidence.removed',
                'source.created', 'source.updated', 'source.deleted',
                'source.relation_added', 'source.relation_removed'))
            $sql$, t);
    END LOOP;
END $$;
