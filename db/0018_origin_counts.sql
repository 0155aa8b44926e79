-- Each claim's number of distinct origins per stance, in the order asserts, supports, refutes,
-- unable_to_verify, mentions (issue 16). Written with the claim's evidence and recounted for the
-- claims an origin group touches when a relation between sources changes, so that the status
-- look-up, the API's most frequent request, reads five numbers instead of working them out from
-- every item on every read.
--
-- Claims that were there before are NULL, "not counted yet": reads count those on the fly, and
-- OriginCountsBackfill counts them in the background, so that the migration rewrites no row (at a
-- million claims, rewriting them all here took minutes with every index of claims). New rows
-- start at zero.
ALTER TABLE claims ADD COLUMN origin_counts int[]
    CONSTRAINT claims_origin_counts_length CHECK (cardinality(origin_counts) = 5);
ALTER TABLE claims ALTER COLUMN origin_counts SET DEFAULT '{0,0,0,0,0}';

CREATE INDEX claims_uncounted_idx ON claims (id) WHERE origin_counts IS NULL;
