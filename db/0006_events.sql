-- The transactional outbox: every change writes its event(s) in its own transaction, so an event
-- exists exactly when its change committed. Clients follow the table by position (GET /events,
-- the live stream, webhooks).
CREATE SEQUENCE events_position_seq AS bigint;

CREATE TABLE events (
    -- Set by the trigger below, never by the writer: see there why.
    position bigint PRIMARY KEY,
    type     text NOT NULL CHECK (type IN (
                 'claim.created', 'claim.updated', 'claim.deleted', 'claim.status_changed',
                 'evidence.added', 'evidence.removed',
                 'source.created', 'source.updated', 'source.deleted')),
    -- The claim's or the source's id (for evidence: the evidence item's).
    subject  uuid NOT NULL,
    -- The claim the event concerns, for the claimId filter; null for sources.
    claim_id uuid,
    -- Set by the trigger too, once the position is taken.
    time     timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- The API key's name, as in created_by.
    actor    text CHECK (char_length(actor) <= 100),
    data     jsonb NOT NULL
);

ALTER SEQUENCE events_position_seq OWNED BY events.position;

-- The feed's filters read in position order from an index each; the purge deletes by age.
CREATE INDEX events_type_position_idx ON events (type, position);
CREATE INDEX events_claim_id_position_idx ON events (claim_id, position) WHERE claim_id IS NOT NULL;
CREATE INDEX events_time_idx ON events (time);

-- Commit order. A plain sequence hands out numbers in the order transactions ask, not the order
-- they commit: 41 may commit after 42, and a reader that already saw 42 would skip 41 for ever.
-- So a writer takes its number under a transaction-scoped advisory lock in SHARED mode, held
-- until COMMIT or ROLLBACK: writers do not wait for each other (their commits still share WAL
-- flushes). A reader (EventStore.ReadAsync) first takes the same lock EXCLUSIVELY, which waits
-- until every writer that already holds a number has committed or rolled back and keeps new
-- writers from taking one; it then reads only up to the sequence's last value. Every position up
-- to there belongs to a finished transaction, so what the reader sees below it can never be
-- joined later by a smaller number: a reader that saw N never finds a new event below N. A
-- rollback leaves a harmless gap. Writers hold the lock from their first event to their COMMIT,
-- so every write path appends its events as its LAST statement before COMMIT, keeping readers'
-- waits short. The two-key form (7274, 12) cannot meet the one-key locks of migrations (727274)
-- or of Idempotency-Keys (hashes).
CREATE FUNCTION events_assign_position() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(7274, 12);
    NEW.position := nextval('events_position_seq');
    NEW.time := clock_timestamp();
    RETURN NEW;
END
$fn$;

CREATE TRIGGER events_position BEFORE INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION events_assign_position();

-- Tells listeners (every instance's live stream) which position committed; NOTIFY is delivered
-- at commit and never for a rollback. Positions only: a listener reads the rows, so a lost or
-- late notification delays an event and never drops it.
CREATE FUNCTION events_notify() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM pg_notify('claims_events', NEW.position::text);
    RETURN NULL;
END
$fn$;

CREATE TRIGGER events_notify AFTER INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION events_notify();
