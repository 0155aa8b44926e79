-- Provenance of evidence (issue 16): the sources the quoted source relays, nearest first. The
-- chain's last source (or the quoted source, with no chain) is the item's origin. An array on the
-- row, not a table, so that a claim's chains come with its evidence in the same read. A constant
-- default adds the column without rewriting the table.
ALTER TABLE evidence ADD COLUMN via_source_ids uuid[] NOT NULL DEFAULT '{}'
    CONSTRAINT evidence_via_length CHECK (cardinality(via_source_ids) <= 10);

-- A source that a chain names cannot be deleted; the few evidence rows with chains are found
-- through this index (queries name the predicate).
CREATE INDEX evidence_via_idx ON evidence USING gin (via_source_ids) WHERE via_source_ids <> '{}';

-- Which origins are one: the connected groups of sources joined by 'affiliated_with' or
-- 'derived_from', kept up to date by the relation and source writes (SourceOrigins.RegroupAsync),
-- so that counting a claim's independent origins is a key look-up per evidence item instead of a
-- walk of the relation graph on every status read. Only sources in a group of two or more have a row.
CREATE TABLE source_origin_groups (
    source_id uuid PRIMARY KEY REFERENCES sources (id) ON DELETE CASCADE,
    group_id  uuid NOT NULL
);

CREATE INDEX source_origin_groups_group_idx ON source_origin_groups (group_id);
