-- Finding claims: full-text search in the claim's own language, trigram similarity for
-- near-duplicates and typo-tolerant source names, and one index per filter and keyset order.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- The text search configuration for a BCP 47 tag. Languages PostgreSQL has no stemmer for
-- (Ukrainian, Korean, ...) get 'simple': lower-cased words, no stemming, no stop words.
CREATE FUNCTION search_config(language text) RETURNS regconfig
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
    SELECT CASE split_part(lower(language), '-', 1)
        WHEN 'en' THEN 'english'
        WHEN 'ru' THEN 'russian'
        WHEN 'de' THEN 'german'
        WHEN 'fr' THEN 'french'
        WHEN 'es' THEN 'spanish'
        WHEN 'it' THEN 'italian'
        WHEN 'pt' THEN 'portuguese'
        WHEN 'nl' THEN 'dutch'
        ELSE 'simple'
    END::regconfig
$fn$;

-- Korean (like Chinese and Japanese) glues particles to words and has no stemmer here: '훈련'
-- (training) stands inside the token '훈련을'. So runs of those scripts are also indexed as
-- overlapping two-character pieces, in order ('훈련을' -> '훈련 련을'); the API turns a query's
-- runs into the same pieces, adjacent, and a word of two syllables or more finds its claims.
CREATE FUNCTION cjk_bigrams(t text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
    SELECT coalesce(string_agg(CASE WHEN length(run) = 1 THEN run ELSE substr(run, i, 2) END, ' ' ORDER BY n, i), '')
    FROM regexp_matches(t, '[ᄀ-ᇿ぀-ヿ㐀-鿿가-힯]+', 'g') WITH ORDINALITY AS m (match, n)
    CROSS JOIN LATERAL (SELECT m.match[1] AS run) r
    CROSS JOIN LATERAL generate_series(1, greatest(length(run) - 1, 1)) AS i
$fn$;

-- Statement words weigh more than summary words when ranking; the CJK pieces least, and only
-- text that has CJK characters pays for making them.
ALTER TABLE claims ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector(search_config(language), statement), 'A') ||
    setweight(to_tsvector(search_config(language), coalesce(summary, '')), 'B') ||
    CASE WHEN (statement || ' ' || coalesce(summary, '')) ~ '[ᄀ-ᇿ぀-ヿ㐀-鿿가-힯]'
         THEN setweight(to_tsvector('simple', cjk_bigrams(statement || ' ' || coalesce(summary, ''))), 'C')
         ELSE ''::tsvector END) STORED;

CREATE INDEX claims_search_vector_idx ON claims USING gin (search_vector);
-- Substring matches where words have no spaces around them (Korean particles, word forms
-- 'simple' does not stem): GIN, the faster of the two for LIKE.
CREATE INDEX claims_statement_trgm_idx ON claims USING gin (statement gin_trgm_ops);
-- Near-duplicates: GiST, which hands rows over in order of trigram distance (<->), so the ten
-- nearest claims are read without ranking every candidate. The larger signature suits
-- statements of a few hundred characters. It is on lower(statement) (trigrams ignore case
-- anyway) so that the planner never takes it for the substring matches above, where it is slow.
CREATE INDEX claims_statement_trgm_knn_idx ON claims USING gist (lower(statement) gist_trgm_ops (siglen = 64));

-- Keyset orders: -updatedAt (the default), -createdAt (0001), -firstReportedOn (unknown dates last).
CREATE INDEX claims_updated_at_id_idx ON claims (updated_at DESC, id DESC);
CREATE INDEX claims_first_reported_id_idx ON claims ((coalesce(first_reported_on, '0001-01-01'::date)) DESC, id DESC);

-- Filters, each led by its column and followed by the default order, so that a filtered first
-- page and a deep page both read only the rows they return.
CREATE INDEX claims_status_updated_at_id_idx ON claims (status, updated_at DESC, id DESC);
CREATE INDEX claims_language_updated_at_id_idx ON claims (language, updated_at DESC, id DESC);
CREATE INDEX claims_tags_idx ON claims USING gin (tags);

DROP INDEX evidence_source_id_idx;
CREATE INDEX evidence_source_id_stance_idx ON evidence (source_id, stance, claim_id);
-- GET /sources/{id}/claims pages through a source's evidence, newest first.
CREATE INDEX evidence_source_id_created_at_id_idx ON evidence (source_id, created_at DESC, id DESC);

CREATE INDEX sources_name_trgm_idx ON sources USING gin (name gin_trgm_ops);
CREATE INDEX sources_kind_created_at_id_idx ON sources (kind, created_at DESC, id DESC);
CREATE INDEX sources_reliability_created_at_id_idx ON sources (reliability, created_at DESC, id DESC);
