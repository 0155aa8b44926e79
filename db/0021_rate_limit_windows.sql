-- Rate limits shared by every instance (issue 17): how many permits the instances together have
-- taken from one caller's allowance in one policy's minute. Each instance takes permits in small
-- batches and spends them from memory, so this row is written once a batch, not once a request.
-- Unlogged: a count that lives for a minute is not worth WAL, nor sending to replicas; after a
-- crash the table is empty and callers start a fresh minute.
CREATE UNLOGGED TABLE rate_limit_windows (
    caller     text        NOT NULL,
    policy     text        NOT NULL,
    starts_at  timestamptz NOT NULL,
    -- Permits taken by all instances so far in this minute (never more than the quota).
    taken      integer     NOT NULL,
    -- What the last statement took, which RETURNING cannot otherwise tell from the total.
    last_taken integer     NOT NULL,
    PRIMARY KEY (caller, policy, starts_at)
);

-- The sweep deletes past minutes by their start.
CREATE INDEX rate_limit_windows_starts_at_idx ON rate_limit_windows (starts_at);
