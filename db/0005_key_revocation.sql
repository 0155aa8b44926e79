-- Every instance keeps the keys it found for a few seconds, so that a request costs no extra round
-- trip for its key. A revoked key then kept working for about 5 s on the other instances, and on
-- every instance after a revocation made by hand in SQL. Each change to a key now tells the
-- instances which key to forget, whoever makes it: the API, an operator in psql, a restore script.
-- The payload is the hex of the key's SHA-256 hash, the form the instances' caches are keyed by;
-- an empty payload (TRUNCATE) means every key. NOTIFY is delivered at commit, so a rolled-back
-- revocation forgets nothing, and a listener that receives it sees the change when it looks again.
CREATE FUNCTION api_keys_notify_change() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM pg_notify('api_key_changed', '');
    ELSE
        PERFORM pg_notify('api_key_changed', encode(OLD.hash, 'hex'));
    END IF;
    RETURN NULL;
END
$fn$;

-- Not only revoked_at: the instances also remember each key's name and role. Revoking a key that
-- is already revoked leaves the row as it was and notifies nobody.
CREATE TRIGGER api_keys_updated AFTER UPDATE ON api_keys
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION api_keys_notify_change();

CREATE TRIGGER api_keys_deleted AFTER DELETE ON api_keys
    FOR EACH ROW EXECUTE FUNCTION api_keys_notify_change();

CREATE TRIGGER api_keys_truncated AFTER TRUNCATE ON api_keys
    FOR EACH STATEMENT EXECUTE FUNCTION api_keys_notify_change();
