-- Claims, the sources behind them, the evidence linking the two, and every status change.
-- Enumerations are text with CHECK constraints rather than PostgreSQL enum types: adding a value
-- later is a constraint swap inside a transaction, and the API and the database spell them alike.

CREATE FUNCTION tags_are_valid(tags text[]) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(bool_and(t <> '' AND t = lower(t) AND t !~ '\s' AND char_length(t) <= 50), true)
    FROM unnest(tags) AS t
$$;

CREATE TABLE sources (
    id          uuid PRIMARY KEY,
    name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    kind        text NOT NULL CHECK (kind IN ('person', 'outlet', 'government', 'organization', 'document', 'social_media', 'anonymous')),
    description text CHECK (char_length(description) <= 2000),
    url         text CHECK (char_length(url) <= 2048 AND url ~* '^https?://'),
    reliability text NOT NULL DEFAULT 'F' CHECK (reliability IN ('A', 'B', 'C', 'D', 'E', 'F')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    version     integer NOT NULL DEFAULT 1 CHECK (version > 0)
);

-- Lists are newest first and paged by (created_at, id).
CREATE INDEX sources_created_at_id_idx ON sources (created_at DESC, id DESC);

CREATE TABLE claims (
    id                uuid PRIMARY KEY,
    statement         text NOT NULL CHECK (char_length(statement) BETWEEN 1 AND 2000),
    summary           text CHECK (char_length(summary) <= 4000),
    language          text NOT NULL DEFAULT 'en' CHECK (language ~ '^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$' AND char_length(language) <= 35),
    tags              text[] NOT NULL DEFAULT '{}' CHECK (cardinality(tags) <= 20 AND array_position(tags, NULL) IS NULL AND tags_are_valid(tags)),
    first_reported_on date,
    status            text NOT NULL DEFAULT 'unverified' CHECK (status IN ('unverified', 'in_review', 'confirmed', 'disputed', 'false', 'inconclusive')),
    status_note       text CHECK (char_length(status_note) <= 2000),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    version           integer NOT NULL DEFAULT 1 CHECK (version > 0),
    -- A closing verdict without its reason is not a verdict anyone can check later.
    CONSTRAINT claims_closing_status_has_note CHECK (
        status IN ('unverified', 'in_review') OR (status_note IS NOT NULL AND btrim(status_note) <> ''))
);

CREATE INDEX claims_created_at_id_idx ON claims (created_at DESC, id DESC);

CREATE TABLE evidence (
    id           uuid PRIMARY KEY,
    claim_id     uuid NOT NULL REFERENCES claims (id) ON DELETE CASCADE,
    -- A source that evidence still cites cannot disappear from under it.
    source_id    uuid NOT NULL REFERENCES sources (id) ON DELETE RESTRICT,
    stance       text NOT NULL CHECK (stance IN ('asserts', 'supports', 'refutes', 'unable_to_verify', 'mentions')),
    quote        text CHECK (char_length(quote) <= 4000),
    url          text CHECK (char_length(url) <= 2048 AND url ~* '^https?://'),
    published_at timestamptz,
    note         text CHECK (char_length(note) <= 2000),
    credibility  smallint NOT NULL DEFAULT 6 CHECK (credibility BETWEEN 1 AND 6),
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX evidence_claim_id_idx ON evidence (claim_id, created_at, id);
CREATE INDEX evidence_source_id_idx ON evidence (source_id, claim_id);

CREATE TABLE claim_status_changes (
    id          uuid PRIMARY KEY,
    claim_id    uuid NOT NULL REFERENCES claims (id) ON DELETE CASCADE,
    from_status text CHECK (from_status IN ('unverified', 'in_review', 'confirmed', 'disputed', 'false', 'inconclusive')),
    to_status   text NOT NULL CHECK (to_status IN ('unverified', 'in_review', 'confirmed', 'disputed', 'false', 'inconclusive')),
    note        text CHECK (char_length(note) <= 2000),
    changed_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (from_status IS DISTINCT FROM to_status)
);

CREATE INDEX claim_status_changes_claim_id_idx ON claim_status_changes (claim_id, changed_at, id);
