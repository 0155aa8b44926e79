-- Positions are now given after commit, by one sequencer at a time, instead of by the writers.
--
-- 0006 made every writer take its position under a shared advisory lock and every reader take
-- that lock exclusively: each read of the feed or a stream waited for the writers in flight to
-- commit (their WAL flush included) and held new ones back, and every writer's NOTIFY took
-- PostgreSQL's queue lock at commit, which serializes the commits of notifying transactions.
-- Under 16 writers and one live stream, status changes ran at 0.61 of their rate without events.
--
-- Now a writer appends its events to event_outbox, a plain insert in its own transaction (an
-- event still exists exactly when its change committed), and wakes its instance's sequencer
-- once COMMIT is confirmed. The sequencer (EventSequencer) moves committed outbox rows into
-- events, giving them positions from the sequence, and NOTIFYs the highest, all in one
-- transaction under an exclusive advisory lock: runs of every instance follow one another, and
-- a run's positions are all greater than those of every run that committed before it. So
-- positions become visible in increasing order, and a reader needs no lock: whatever it cannot
-- see yet will get a position greater than anything it has seen. A writer waits on nothing.
CREATE TABLE event_outbox (
    -- The order of appending, which a run keeps: a claim.created precedes its evidence.added.
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The columns, defaults and checks of events, so that a row the sequencer moves can never be
    -- refused there: a bad row fails its writer's transaction instead of every later run.
    -- (A new event type changes the type check of both tables.)
    LIKE events INCLUDING DEFAULTS INCLUDING CONSTRAINTS
);

-- Given by the sequencer, in events only.
ALTER TABLE event_outbox DROP COLUMN position;

DROP TRIGGER events_position ON events;
DROP FUNCTION events_assign_position();
DROP TRIGGER events_notify ON events;
DROP FUNCTION events_notify();

-- The purge walks positions from the oldest (EventRetention), not times: this index only cost
-- every event an insert, and could lead the purge's search for the first event to keep into a
-- scan of every young event.
DROP INDEX events_time_idx;
