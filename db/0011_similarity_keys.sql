-- Near-duplicates at any size (issue 13). The trigram index answers "which claims are at least
-- this similar" by reading the posting lists of all the probe's trigrams, hundreds of thousands of
-- entries at a million claims. Instead, the application files each statement under a few dozen
-- keys (MinHash bands over its trigrams, SimilarityKeys.cs): near-duplicates share several keys,
-- unrelated statements almost never one. The look-up reads the claims filed under the probe's keys
-- and ranks the few that share the most with similarity() itself.

-- What the application computed, so that the rows below can be removed when it changes. NULL for
-- claims not filed yet: rows written before this migration, or by hand; the backfill files them.
ALTER TABLE claims ADD COLUMN similarity_keys bigint[];

-- The postings, each read in claim order and cut off at a cap, so a key that crowded claims share
-- costs no more than a rare one. No foreign key: the triggers below keep it in step with claims,
-- and a cascade would need a second index on claim_id that every write would pay for.
CREATE TABLE claim_similarity_keys (
    key bigint NOT NULL,
    claim_id uuid NOT NULL,
    PRIMARY KEY (key, claim_id)
);

-- The claims the backfill still has to file; empty once it is done.
CREATE INDEX claims_unfiled_idx ON claims (id) WHERE similarity_keys IS NULL;

-- New claims: one statement per INSERT (or COPY), whatever the number of rows.
CREATE FUNCTION file_inserted_claims() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    INSERT INTO claim_similarity_keys (key, claim_id)
    SELECT k.key, n.id FROM inserted n CROSS JOIN LATERAL unnest(n.similarity_keys) AS k (key);
    RETURN NULL;
END
$fn$;

CREATE TRIGGER claims_file_inserted AFTER INSERT ON claims
REFERENCING NEW TABLE AS inserted
FOR EACH STATEMENT EXECUTE FUNCTION file_inserted_claims();

-- Changed keys (a new statement, or the backfill): only rows whose keys changed call it, so status
-- changes and evidence, which also update claims, pay nothing.
CREATE FUNCTION refile_claim() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    DELETE FROM claim_similarity_keys WHERE key = ANY (OLD.similarity_keys) AND claim_id = OLD.id;
    INSERT INTO claim_similarity_keys (key, claim_id) SELECT k, NEW.id FROM unnest(NEW.similarity_keys) AS k;
    RETURN NULL;
END
$fn$;

CREATE TRIGGER claims_refile AFTER UPDATE OF similarity_keys ON claims
FOR EACH ROW WHEN (OLD.similarity_keys IS DISTINCT FROM NEW.similarity_keys)
EXECUTE FUNCTION refile_claim();

CREATE FUNCTION unfile_deleted_claims() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    DELETE FROM claim_similarity_keys s
    USING (SELECT d.id, k.key FROM deleted d CROSS JOIN LATERAL unnest(d.similarity_keys) AS k (key)) g
    WHERE s.key = g.key AND s.claim_id = g.id;
    RETURN NULL;
END
$fn$;

CREATE TRIGGER claims_unfile_deleted AFTER DELETE ON claims
REFERENCING OLD TABLE AS deleted
FOR EACH STATEMENT EXECUTE FUNCTION unfile_deleted_claims();
