-- The retention purge's watermark: the highest position it ever deleted. A reader that asks for
-- the events after a position below it may have missed purged events, so it is told (410
-- events-purged) instead of silently reading on past the hole; see EventStore and EventRetention.
-- One row, moved forward by the same statement that deletes each batch, so that a reader never
-- sees a batch gone without the watermark that covers it.
CREATE TABLE events_purged (
    one     boolean PRIMARY KEY DEFAULT true CHECK (one),
    through bigint NOT NULL CHECK (through >= 0)
);

-- A database that purged before this table existed: anything below the oldest event kept may
-- have been purged (or rolled back, which leaves only a gap), and with no event kept, anything
-- the sequence handed out. A fresh database starts at 0: nothing purged.
INSERT INTO events_purged (through)
SELECT COALESCE(
    (SELECT min(position) - 1 FROM events),
    (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM events_position_seq));
