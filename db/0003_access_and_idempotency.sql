-- Who may do what, who did it, and replayable writes.

CREATE TABLE api_keys (
    id         uuid PRIMARY KEY,
    name       text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    role       text NOT NULL CHECK (role IN ('reader', 'reporter', 'editor', 'admin')),
    -- SHA-256 of the secret: the secret itself is shown once and never stored. A fast hash is
    -- enough for 32 random bytes; there is nothing to guess.
    hash       bytea NOT NULL UNIQUE CHECK (octet_length(hash) = 32),
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);

CREATE INDEX api_keys_created_at_id_idx ON api_keys (created_at DESC, id DESC);

-- The actor is the key's name at the time of the write, kept as text so that the record of who
-- did what survives the key's revocation. Rows from before this migration have none.
ALTER TABLE sources ADD COLUMN created_by text CHECK (char_length(created_by) <= 100);
ALTER TABLE claims ADD COLUMN created_by text CHECK (char_length(created_by) <= 100);
ALTER TABLE evidence ADD COLUMN created_by text CHECK (char_length(created_by) <= 100);
ALTER TABLE claim_status_changes ADD COLUMN changed_by text CHECK (char_length(changed_by) <= 100);

-- Idempotency-Key: the first response to a key, stored in the transaction of the write it
-- protects, so that a retry replays it instead of writing again.
CREATE TABLE idempotency_keys (
    owner         text NOT NULL,
    key           text NOT NULL CHECK (char_length(key) BETWEEN 1 AND 255),
    request_hash  bytea NOT NULL,
    status_code   smallint NOT NULL,
    location      text,
    response_body text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (owner, key)
);

CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at);

-- When the status, its note or the evidence last changed: what GET /claims/{id}/status reports,
-- so that its ETag (which ignores edits to the statement) covers its whole answer.
ALTER TABLE claims ADD COLUMN status_updated_at timestamptz NOT NULL DEFAULT now();
UPDATE claims SET status_updated_at = updated_at;
