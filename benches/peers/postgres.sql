-- PostgreSQL full-text search set up as teams commonly do it, for benches/peers/run.sh.
-- run.sh replaces @TSV@ with the path of `peers prep`'s posts.tsv (id, language, text).
--
-- Each post's tsvector uses its language's Snowball configuration where PostgreSQL has one
-- (ru, en, de, fr, es, tr, ar: the same stemmers chansearch uses), 'simple' (lowercase only)
-- for the rest (uk, kk, fa, zh, unknown). A query word is OR'd over its forms under every
-- configuration (chansearch likewise expands a word to its forms under the analyzers of its
-- script), the words AND'd.
\set ON_ERROR_STOP on

CREATE FUNCTION peer_cfg(lang text) RETURNS regconfig
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT (CASE lang
    WHEN 'ru' THEN 'russian' WHEN 'en' THEN 'english' WHEN 'de' THEN 'german'
    WHEN 'fr' THEN 'french' WHEN 'es' THEN 'spanish' WHEN 'tr' THEN 'turkish'
    WHEN 'ar' THEN 'arabic' ELSE 'simple' END)::regconfig
$$;

CREATE FUNCTION peer_q(q text) RETURNS tsquery
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(string_agg(forms, ' & ' ORDER BY n), '')::tsquery FROM (
    SELECT w.n, '(' || string_agg(DISTINCT quote_literal(l.lexeme), ' | ') || ')' AS forms
    FROM regexp_split_to_table(q, '\s+') WITH ORDINALITY AS w(word, n)
    CROSS JOIN unnest('{simple,russian,english,german,french,spanish,turkish,arabic}'::regconfig[]) AS c(cfg)
    CROSS JOIN LATERAL unnest(to_tsvector(c.cfg, w.word)) AS l
    GROUP BY w.n
  ) per_word
$$;

-- One transaction: with wal_level=minimal the new table and its index skip the WAL.
BEGIN;
CREATE TABLE posts (
  id bigint NOT NULL,
  lang text NOT NULL,
  body text NOT NULL,
  tsv tsvector GENERATED ALWAYS AS (to_tsvector(peer_cfg(lang), body)) STORED
);
\copy posts (id, lang, body) FROM '@TSV@'
CREATE INDEX posts_tsv ON posts USING gin (tsv);
COMMIT;
VACUUM ANALYZE posts;
