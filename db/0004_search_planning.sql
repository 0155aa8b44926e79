-- search_config() as PostgreSQL can inline it. The first version cast text to regconfig at run
-- time, a lookup that depends on search_path and so is not immutable: the planner then refused to
-- inline the function and paid a full SQL function call each time, about 9 µs. That was a third of
-- the cost of writing a claim's search_vector, and made the language test in a search's filter
-- cost more than the text match it guards. Written with regconfig constants (resolved when the body
-- is parsed) the function is inlined; the answers are the same, so stored vectors stay valid.
CREATE OR REPLACE FUNCTION search_config(language text) RETURNS regconfig
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
    SELECT CASE split_part(lower(language), '-', 1)
        WHEN 'en' THEN 'english'::regconfig
        WHEN 'ru' THEN 'russian'::regconfig
        WHEN 'de' THEN 'german'::regconfig
        WHEN 'fr' THEN 'french'::regconfig
        WHEN 'es' THEN 'spanish'::regconfig
        WHEN 'it' THEN 'italian'::regconfig
        WHEN 'pt' THEN 'portuguese'::regconfig
        WHEN 'nl' THEN 'dutch'::regconfig
        ELSE 'simple'::regconfig
    END
$fn$;

-- Whether a search reads the newest claims in order or collects a word's matches through the GIN
-- index is the planner's choice, made from how common it thinks the words are. With the default
-- statistics target it keeps the frequencies of a few hundred lexemes and takes any other word to
-- match about half as often as the rarest of those, at a million claims a few thousand rows: enough
-- to read the whole updated_at index for a word no claim contains. Ten times the sample knows ten
-- times the words, and estimates an unknown one ten times lower. It takes effect at the next ANALYZE.
ALTER TABLE claims ALTER COLUMN search_vector SET STATISTICS 1000;

-- GIN indexes normally queue new entries in a pending list and merge them in batches, which makes
-- writes cheaper but makes every search read the whole list: after ten thousand new claims a rare
-- word's look-up took 29 ms instead of 0.3 ms. Claims are searched far more often than written,
-- so new entries go straight into the index.
ALTER INDEX claims_search_vector_idx SET (fastupdate = off);
ALTER INDEX claims_statement_trgm_idx SET (fastupdate = off);
ALTER INDEX claims_tags_idx SET (fastupdate = off);
ALTER INDEX sources_name_trgm_idx SET (fastupdate = off);
SELECT gin_clean_pending_list(i) FROM unnest(ARRAY['claims_search_vector_idx', 'claims_statement_trgm_idx', 'claims_tags_idx', 'sources_name_trgm_idx']::regclass[]) AS i;
