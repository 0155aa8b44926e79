-- GET /claimreview walks verdicts (a claim's last move, to a closing status) oldest first by
-- (changed_at, id), from updatedSince or a cursor. The history's only index leads with claim_id,
-- so without this one the feed read and sorted every change in the table: at 100,000 claims
-- (183,000 changes) a page of 51 took 47 ms (parallel seq scan, sort); with it, 0.9 ms (an index
-- scan that stops at the page's end; the NOT EXISTS probes claim_status_changes_claim_id_idx).
-- Partial: only moves to a closing status, the part of the history the feed ever reads.
CREATE INDEX claim_status_changes_verdicts_idx ON claim_status_changes (changed_at, id)
    WHERE to_status IN ('confirmed', 'disputed', 'false', 'inconclusive');
