-- A search for a common word reads the most recently changed claims newest first and tests each
-- one's search_vector (ClaimSearch, "Recent"). Read from the table, every claim tested cost a
-- page of its own wherever the claim happens to lie: at a million claims, ranking the 500 newest
-- matches of a word in a tenth of the claims read 5,100 claims on 4,500 pages, 10.8 ms of which
-- 8 went to visiting the table. These indexes hold the walk's order with the vectors in it, so
-- that the walk reads a few hundred index pages and no table page (where VACUUM has marked the
-- pages all-visible; a claim changed since is read from the table, as before): 3.7 ms.
--
-- A B-tree entry must stay under 2,704 bytes, and a search_vector grows with its text: at most
-- five bytes per byte of text (one-letter words, Korean syllables that are also indexed as
-- pieces), so a text of at most 400 bytes (statement and summary) always fits. That is 99% of
-- the claims; the rest are walked through an index of their own, and a search merges the two in
-- order. The predicates are written as ClaimSearch writes them, so that the planner sees they hold.
CREATE INDEX claims_search_walk_idx ON claims (updated_at DESC, id DESC) INCLUDE (search_vector)
    WHERE octet_length(statement) + coalesce(octet_length(summary), 0) <= 400;
CREATE INDEX claims_search_walk_long_idx ON claims (updated_at DESC, id DESC)
    WHERE octet_length(statement) + coalesce(octet_length(summary), 0) > 400;
