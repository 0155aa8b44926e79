-- Bulk import (POST /imports): the keys that make importing a file twice change nothing, and the
-- jobs with their reports.

-- A claim's or a source's id in the system it came from (a spreadsheet's row id, another tool's
-- id). Unique per newsroom, so that a line whose claim is here already is left unchanged; a
-- claim imported without one gets a key made from its language and statement (see ImportLines).
ALTER TABLE claims ADD COLUMN external_id text CHECK (char_length(external_id) BETWEEN 1 AND 200);
ALTER TABLE sources ADD COLUMN external_id text CHECK (char_length(external_id) BETWEEN 1 AND 200);
CREATE UNIQUE INDEX claims_external_id_key ON claims (external_id) WHERE external_id IS NOT NULL;
CREATE UNIQUE INDEX sources_external_id_key ON sources (external_id) WHERE external_id IS NOT NULL;

-- An import matches a source named in a spreadsheet by its name (any case) and kind. Not unique:
-- sources logged through the API may share both.
CREATE INDEX sources_lower_name_kind_idx ON sources (lower(name), kind);

CREATE TABLE imports (
    id              uuid PRIMARY KEY,
    state           text NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'done', 'failed')),
    format          text NOT NULL CHECK (format IN ('ndjson', 'csv')),
    dry_run         boolean NOT NULL,
    created_by      text,
    started_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    -- Lines are counted as read (parsed from the body), then settled batch by batch in the
    -- transaction that writes them: every line up to settled_through was created, left unchanged
    -- or rejected, as the counts and import_lines say, and no line after it was written.
    lines_read      integer NOT NULL DEFAULT 0,
    settled_through integer NOT NULL DEFAULT 0,
    created         integer NOT NULL DEFAULT 0,
    unchanged       integer NOT NULL DEFAULT 0,
    rejected        integer NOT NULL DEFAULT 0,
    sources_created integer NOT NULL DEFAULT 0,
    failure         text
);

-- The lines that were not created, with why: an error (rejected; one row per field) or the claim
-- that was there already (unchanged; field and message null).
CREATE TABLE import_lines (
    import_id uuid NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    line      integer NOT NULL,
    outcome   text NOT NULL CHECK (outcome IN ('unchanged', 'rejected')),
    field     text,
    message   text,
    claim_id  uuid
);

CREATE INDEX import_lines_import_id_line_idx ON import_lines (import_id, line);
