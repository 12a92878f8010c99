-- 004: archiving. DELETE of a product or variant sets archived_at instead of erasing the row:
-- reservations and orders keep pointing at it, while every read and every cart add treats it as
-- gone. Idempotent.
ALTER TABLE products ADD COLUMN IF NOT EXISTS archived_at timestamptz;
ALTER TABLE variants ADD COLUMN IF NOT EXISTS archived_at timestamptz;

-- Search and ordering of GET /api/products/ on a large catalog (bench/catalog_100k.sql measures
-- them on 100k products). ?search= is a case-insensitive substring of the name, the description
-- or a live variant's SKU: the plugin writes lower(column) LIKE '%' || lower($text) || '%', and
-- trigram GIN indexes on exactly those lower(column) expressions serve such patterns (pg_trgm is
-- a trusted extension: the database owner may create it). ?ordering=name sorts by (lower(name),
-- id), so a page is a walk of the btree below that stops after offset + limit rows.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX IF NOT EXISTS products_lower_name_trgm_idx
    ON products USING gin (lower(name) gin_trgm_ops);
CREATE INDEX IF NOT EXISTS products_lower_description_trgm_idx
    ON products USING gin (lower(description) gin_trgm_ops);
CREATE INDEX IF NOT EXISTS variants_lower_sku_trgm_idx
    ON variants USING gin (lower(sku) gin_trgm_ops);
CREATE INDEX IF NOT EXISTS products_lower_name_id_idx ON products (lower(name), id);
-- Superseded, so no longer worth their cost on every write: ordering by name is now by
-- lower(name) (003's (name, id) served the case-sensitive order), and lower(name) alone is the
-- prefix of the index above.
DROP INDEX IF EXISTS products_name_id_idx;
DROP INDEX IF EXISTS products_lower_name_idx;
