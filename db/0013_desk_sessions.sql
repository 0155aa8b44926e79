-- The desk (the web page served at /) signs in by sending an API key once and gets a session
-- cookie, so that the page never keeps the key where a script could read it. One row per session.
CREATE TABLE desk_sessions (
    -- SHA-256 of the cookie's value, never the value: someone who reads this table cannot act as
    -- any of its sessions. As for keys, a fast hash suffices for 32 random bytes.
    hash           bytea PRIMARY KEY CHECK (octet_length(hash) = 32),
    -- The key that signed in. Deleting its row ends its sessions; revoking it ends them too, since
    -- every look-up reads revoked_at in the same query (DeskSessionStore).
    key_id         uuid REFERENCES api_keys (id) ON DELETE CASCADE,
    -- The bootstrap admin key has no row: its sessions keep the key's hash instead, and work only
    -- while the instance's Auth:BootstrapAdminKey is still that key.
    bootstrap_hash bytea CHECK (octet_length(bootstrap_hash) = 32),
    -- The key's name and role at sign-in: the author of the session's writes, and what it may do.
    key_name       text NOT NULL CHECK (char_length(key_name) BETWEEN 1 AND 100),
    key_role       text NOT NULL CHECK (key_role IN ('reader', 'reporter', 'editor', 'admin')),
    -- Kept as is, not hashed: a reloaded page gets it back from GET /desk/session. It is worth
    -- nothing without the cookie, which this table does not hold.
    csrf_token     text NOT NULL CHECK (char_length(csrf_token) = 43),
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,
    CHECK ((key_id IS NULL) <> (bootstrap_hash IS NULL))
);

-- Each sign-in deletes the sessions that have expired; this finds them without reading the rest.
CREATE INDEX desk_sessions_expires_at_idx ON desk_sessions (expires_at);
-- Revocation is checked through the primary key of api_keys; the cascade of a deleted key
-- finds its sessions here.
CREATE INDEX desk_sessions_key_id_idx ON desk_sessions (key_id);
