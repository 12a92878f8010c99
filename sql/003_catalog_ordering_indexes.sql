-- 003: indexes for GET /api/products/?ordering=name|-name|base_price|-base_price. Each ordering
-- has its own prepared statement ordering by (column, id); with these indexes a page is an index
-- scan that stops after offset + limit rows instead of a sort of every product (forwards for
-- "name", backwards for "-name"). Idempotent: created only if missing.
CREATE INDEX IF NOT EXISTS products_name_id_idx ON products (name, id);
CREATE INDEX IF NOT EXISTS products_base_price_id_idx ON products (base_price, id);
