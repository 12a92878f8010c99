-- bench/catalog_100k.sql: loads 100k products (200k variants) into a shopd database and prints
-- EXPLAIN (ANALYZE, BUFFERS) of GET /api/products/'s statements on it: with ?search=, with price
-- filters, with ?ordering=name, with ?in_stock=, each as the plugin prepares it.
--
-- Run it on a scratch database (or a throwaway stack's), never on one whose data matters: it
-- adds a category tree "bench-100k" with 100k products. The load runs once (skipped when the
-- category exists) and takes about a minute on 2 cores; the EXPLAINs run every time.
--
--   scripts/migrate --db "$DSN"        # the schema, with sql/004's indexes
--   psql "$DSN" -f bench/catalog_100k.sql
--
-- The PREPAREd texts below are the plugin's own (kProductPages, kProductSearchPages in
-- plugins/catalog/catalog_plugin.cpp); after changing those, copy them again from
--   strings -n 20 build/plugins/catalog/catalog.so | grep '^WITH RECURSIVE tree'
-- Parameters: $1 category, $2 min_price, $3 max_price, $4 in_stock, $5 limit, $6 offset,
-- $7 search (LIKE-escaped).
\set ON_ERROR_STOP on
\pset pager off

SELECT NOT EXISTS (SELECT 1 FROM categories WHERE slug = 'bench-100k') AS bench_load \gset
\if :bench_load
\echo loading 100k products ...
\timing on
BEGIN;
INSERT INTO categories (name, slug) VALUES ('Bench 100k', 'bench-100k');
INSERT INTO categories (name, slug, parent_id)
SELECT 'Bench 100k ' || g, 'bench-100k-' || g, (SELECT id FROM categories WHERE slug = 'bench-100k')
FROM generate_series(1, 10) g;

-- 2000 made-up words of 4-9 letters; hashint4 picks them, so every run loads the same catalog.
CREATE TEMP TABLE bench_words (i int PRIMARY KEY, w text NOT NULL);
INSERT INTO bench_words
SELECT i, string_agg(chr(97 + abs(hashint4(i * 16 + k)) % 26), '' ORDER BY k)
FROM generate_series(0, 1999) i, generate_series(0, 3 + i % 6) k
GROUP BY i;
ANALYZE bench_words;

-- Names of three words, descriptions of twelve, prices 1.00-1000.00, ten leaf categories.
INSERT INTO products (name, description, category_id, base_price)
SELECT initcap(w1.w || ' ' || w2.w || ' ' || w3.w),
       (SELECT string_agg(d.w, ' ' ORDER BY k)
        FROM generate_series(0, 11) k
        JOIN bench_words d ON d.i = abs(hashint4(g * 20 + 4 + k)) % 2000),
       c.id,
       (100 + abs(hashint4(g)) % 99901) / 100.0
FROM generate_series(1, 100000) g
JOIN bench_words w1 ON w1.i = abs(hashint4(g * 20 + 1)) % 2000
JOIN bench_words w2 ON w2.i = abs(hashint4(g * 20 + 2)) % 2000
JOIN bench_words w3 ON w3.i = abs(hashint4(g * 20 + 3)) % 2000
JOIN categories c ON c.slug = 'bench-100k-' || (1 + g % 10)
ORDER BY g;

-- Two variants each; stock 0-9 (about one product in a hundred has none of either).
INSERT INTO variants (product_id, sku, name, price_delta, stock)
SELECT p.id, 'BN-' || upper(w.w) || '-' || p.id || '-' || k,
       CASE k WHEN 0 THEN 'Small' ELSE 'Large' END, k * 5.00, abs(hashint4(p.id::int * 3 + k)) % 10
FROM products p
JOIN categories c ON c.id = p.category_id AND c.slug LIKE 'bench-100k-%'
CROSS JOIN generate_series(0, 1) k
JOIN bench_words w ON w.i = abs(hashint4(p.id::int * 2 + k)) % 2000
ORDER BY p.id, k;
COMMIT;
VACUUM ANALYZE categories, products, variants;
\timing off
\endif

SELECT (SELECT count(*) FROM products) AS products, (SELECT count(*) FROM variants) AS variants,
       pg_size_pretty(pg_relation_size('products_lower_name_trgm_idx')) AS name_trgm,
       pg_size_pretty(pg_relation_size('products_lower_description_trgm_idx')) AS description_trgm,
       pg_size_pretty(pg_relation_size('variants_lower_sku_trgm_idx')) AS sku_trgm;

-- A word that appears in a few hundred names and descriptions, and the bench root category.
SELECT (SELECT string_agg(chr(97 + abs(hashint4(41 * 16 + k)) % 26), '' ORDER BY k)
        FROM generate_series(0, 3 + 41 % 6) k) AS term,
       (SELECT id FROM categories WHERE slug = 'bench-100k') AS root \gset
\echo search term: :term

DEALLOCATE ALL;
PREPARE product_page_id AS WITH RECURSIVE tree (id) AS (SELECT id FROM categories WHERE id = $1 UNION SELECT c.id FROM categories c JOIN tree t ON c.parent_id = t.id), page AS (SELECT p.id, p.name, p.description, p.category_id, p.base_price FROM products p WHERE p.archived_at IS NULL AND ($1::bigint IS NULL OR p.category_id IN (SELECT id FROM tree)) AND ($2::numeric IS NULL OR p.base_price >= $2) AND ($3::numeric IS NULL OR p.base_price <= $3) AND ($4::boolean IS NULL OR $4 = (p.id IN (SELECT s.product_id FROM variants s WHERE s.archived_at IS NULL AND s.stock > s.reserved))) ORDER BY p.id LIMIT $5 OFFSET $6) SELECT p.id, p.name, p.description, p.category_id, p.base_price, v.id, v.product_id, v.sku, v.name, v.price_delta, v.stock, v.reserved, (SELECT count(*) FROM products p WHERE p.archived_at IS NULL AND ($1::bigint IS NULL OR p.category_id IN (SELECT id FROM tree)) AND ($2::numeric IS NULL OR p.base_price >= $2) AND ($3::numeric IS NULL OR p.base_price <= $3) AND ($4::boolean IS NULL OR $4 = (p.id IN (SELECT s.product_id FROM variants s WHERE s.archived_at IS NULL AND s.stock > s.reserved)))) FROM page p LEFT JOIN variants v ON v.product_id = p.id AND v.archived_at IS NULL ORDER BY p.id, v.id;
PREPARE product_page_name AS WITH RECURSIVE tree (id) AS (SELECT id FROM categories WHERE id = $1 UNION SELECT c.id FROM categories c JOIN tree t ON c.parent_id = t.id), page AS (SELECT p.id, p.name, p.description, p.category_id, p.base_price FROM products p WHERE p.archived_at IS NULL AND ($1::bigint IS NULL OR p.category_id IN (SELECT id FROM tree)) AND ($2::numeric IS NULL OR p.base_price >= $2) AND ($3::numeric IS NULL OR p.base_price <= $3) AND ($4::boolean IS NULL OR $4 = (p.id IN (SELECT s.product_id FROM variants s WHERE s.archived_at IS NULL AND s.stock > s.reserved))) ORDER BY lower(p.name), p.id LIMIT $5 OFFSET $6) SELECT p.id, p.name, p.description, p.category_id, p.base_price, v.id, v.product_id, v.sku, v.name, v.price_delta, v.stock, v.reserved, (SELECT count(*) FROM products p WHERE p.archived_at IS NULL AND ($1::bigint IS NULL OR p.category_id IN (SELECT id FROM tree)) AND ($2::numeric IS NULL OR p.base_price >= $2) AND ($3::numeric IS NULL OR p.base_price <= $3) AND ($4::boolean IS NULL OR $4 = (p.id IN (SELECT s.product_id FROM variants s WHERE s.archived_at IS NULL AND s.stock > s.reserved)))) FROM page p LEFT JOIN variants v ON v.product_id = p.id AND v.archived_at IS NULL ORDER BY lower(p.name), p.id, v.id;
PREPARE product_search_id AS WITH RECURSIVE tree (id) AS (SELECT id FROM categories WHERE id = $1 UNION SELECT c.id FROM categories c JOIN tree t ON c.parent_id = t.id), found AS (SELECT p.id, p.name, p.description, p.category_id, p.base_price FROM products p WHERE p.archived_at IS NULL AND ($1::bigint IS NULL OR p.category_id IN (SELECT id FROM tree)) AND ($2::numeric IS NULL OR p.base_price >= $2) AND ($3::numeric IS NULL OR p.base_price <= $3) AND ($4::boolean IS NULL OR $4 = (p.id IN (SELECT s.product_id FROM variants s WHERE s.archived_at IS NULL AND s.stock > s.reserved))) AND (lower(p.name) LIKE ('%' || lower($7::text) || '%') OR lower(p.description) LIKE ('%' || lower($7::text) || '%')) UNION SELECT p.id, p.name, p.description, p.category_id, p.base_price FROM products p WHERE p.archived_at IS NULL AND ($1::bigint IS NULL OR p.category_id IN (SELECT id FROM tree)) AND ($2::numeric IS NULL OR p.base_price >= $2) AND ($3::numeric IS NULL OR p.base_price <= $3) AND ($4::boolean IS NULL OR $4 = (p.id IN (SELECT s.product_id FROM variants s WHERE s.archived_at IS NULL AND s.stock > s.reserved))) AND p.id = ANY (ARRAY(SELECT product_id FROM variants WHERE lower(sku) LIKE ('%' || lower($7::text) || '%') AND archived_at IS NULL))), page AS (SELECT * FROM found p ORDER BY p.id LIMIT $5 OFFSET $6) SELECT p.id, p.name, p.description, p.category_id, p.base_price, v.id, v.product_id, v.sku, v.name, v.price_delta, v.stock, v.reserved, (SELECT count(*) FROM found) FROM page p LEFT JOIN variants v ON v.product_id = p.id AND v.archived_at IS NULL ORDER BY p.id, v.id;
PREPARE product_search_name AS WITH RECURSIVE tree (id) AS (SELECT id FROM categories WHERE id = $1 UNION SELECT c.id FROM categories c JOIN tree t ON c.parent_id = t.id), found AS (SELECT p.id, p.name, p.description, p.category_id, p.base_price FROM products p WHERE p.archived_at IS NULL AND ($1::bigint IS NULL OR p.category_id IN (SELECT id FROM tree)) AND ($2::numeric IS NULL OR p.base_price >= $2) AND ($3::numeric IS NULL OR p.base_price <= $3) AND ($4::boolean IS NULL OR $4 = (p.id IN (SELECT s.product_id FROM variants s WHERE s.archived_at IS NULL AND s.stock > s.reserved))) AND (lower(p.name) LIKE ('%' || lower($7::text) || '%') OR lower(p.description) LIKE ('%' || lower($7::text) || '%')) UNION SELECT p.id, p.name, p.description, p.category_id, p.base_price FROM products p WHERE p.archived_at IS NULL AND ($1::bigint IS NULL OR p.category_id IN (SELECT id FROM tree)) AND ($2::numeric IS NULL OR p.base_price >= $2) AND ($3::numeric IS NULL OR p.base_price <= $3) AND ($4::boolean IS NULL OR $4 = (p.id IN (SELECT s.product_id FROM variants s WHERE s.archived_at IS NULL AND s.stock > s.reserved))) AND p.id = ANY (ARRAY(SELECT product_id FROM variants WHERE lower(sku) LIKE ('%' || lower($7::text) || '%') AND archived_at IS NULL))), page AS (SELECT * FROM found p ORDER BY lower(p.name), p.id LIMIT $5 OFFSET $6) SELECT p.id, p.name, p.description, p.category_id, p.base_price, v.id, v.product_id, v.sku, v.name, v.price_delta, v.stock, v.reserved, (SELECT count(*) FROM found) FROM page p LEFT JOIN variants v ON v.product_id = p.id AND v.archived_at IS NULL ORDER BY lower(p.name), p.id, v.id;
-- Each EXPLAIN first as the plugin's first five executions run (a custom plan for the values),
-- then, for the search and the name ordering, with the generic plan PostgreSQL may switch a
-- prepared statement to after five runs.
\echo
\echo ==== 1. ?search=<term>  (ordering id)
EXPLAIN (ANALYZE, BUFFERS) EXECUTE product_search_id(NULL, NULL, NULL, NULL, 20, 0, :'term');
\echo
\echo ==== 2. ?search=<term>&min_price=100&max_price=500
EXPLAIN (ANALYZE, BUFFERS) EXECUTE product_search_id(NULL, '100.00', '500.00', NULL, 20, 0, :'term');
\echo
\echo ==== 3. ?search=<term>&ordering=name
EXPLAIN (ANALYZE, BUFFERS) EXECUTE product_search_name(NULL, NULL, NULL, NULL, 20, 0, :'term');
\echo
\echo ==== 4. ?search=BN-  (every SKU: the worst case, 100k hits to count and sort)
EXPLAIN (ANALYZE, BUFFERS) EXECUTE product_search_name(NULL, NULL, NULL, NULL, 20, 0, 'BN-');
\echo
\echo ==== 5. ?ordering=name  (no search)
EXPLAIN (ANALYZE, BUFFERS) EXECUTE product_page_name(NULL, NULL, NULL, NULL, 20, 0);
\echo
\echo ==== 6. ?ordering=name&page=100
EXPLAIN (ANALYZE, BUFFERS) EXECUTE product_page_name(NULL, NULL, NULL, NULL, 20, 1980);
\echo
\echo ==== 7. ?min_price=100&max_price=500  (no search)
EXPLAIN (ANALYZE, BUFFERS) EXECUTE product_page_id(NULL, '100.00', '500.00', NULL, 20, 0);
\echo
\echo ==== 8. ?in_stock=true
EXPLAIN (ANALYZE, BUFFERS) EXECUTE product_page_id(NULL, NULL, NULL, true, 20, 0);
\echo
\echo ==== 9. ?in_stock=false&category=<bench root>
EXPLAIN (ANALYZE, BUFFERS) EXECUTE product_page_id(:root, NULL, NULL, false, 20, 0);

SET plan_cache_mode = force_generic_plan;
\echo
\echo ==== 10. generic plan: ?search=<term>&min_price=100&max_price=500
EXPLAIN (ANALYZE, BUFFERS) EXECUTE product_search_id(NULL, '100.00', '500.00', NULL, 20, 0, :'term');
\echo
\echo ==== 11. generic plan: ?search=<term>&ordering=name
EXPLAIN (ANALYZE, BUFFERS) EXECUTE product_search_name(NULL, NULL, NULL, NULL, 20, 0, :'term');
\echo
\echo ==== 12. generic plan: ?ordering=name
EXPLAIN (ANALYZE, BUFFERS) EXECUTE product_page_name(NULL, NULL, NULL, NULL, 20, 0);
RESET plan_cache_mode;
DEALLOCATE ALL;
