-- Demo catalog for the local stack (scripts/stack up loads it; `--no-demo` skips it).
-- Idempotent: categories are keyed by slug, variants by SKU, products by name, so a re-run adds
-- only what is missing and leaves stock that was changed since untouched.
-- Oak Desk / DESK-OAK-L is the contract's pricing example: base 500.00 + delta 50.00, quantity 10,
-- GOLD -> unit_price 420.75, total 4207.50.

BEGIN;

-- Categories: slug = lower-case name, non-alphanumerics as '-'.
INSERT INTO categories (name, slug, parent_id)
VALUES ('Apparel', 'apparel', NULL),
       ('Home', 'home', NULL)
ON CONFLICT (slug) DO NOTHING;

INSERT INTO categories (name, slug, parent_id)
SELECT c.name, c.slug, parent.id
FROM (VALUES ('Shirts', 'shirts', 'apparel'),
             ('Shoes', 'shoes', 'apparel')) AS c (name, slug, parent_slug)
JOIN categories parent ON parent.slug = c.parent_slug
ON CONFLICT (slug) DO NOTHING;

-- Products.
CREATE TEMP TABLE demo_products (name, description, category_slug, base_price) ON COMMIT DROP AS
VALUES ('Oxford Shirt', 'Button-down cotton oxford shirt.', 'shirts', 39.90::numeric(12,2)),
       ('Linen Shirt', 'Light linen shirt for warm days.', 'shirts', 49.00),
       ('Trail Runner', 'Running shoe with a grippy sole.', 'shoes', 89.00),
       ('Leather Boot', 'Full-grain leather ankle boot.', 'shoes', 129.00),
       ('Ceramic Mug', 'Stoneware mug, 350 ml.', 'home', 12.50),
       ('Oak Desk', 'Solid oak writing desk.', 'home', 500.00);

INSERT INTO products (name, description, category_id, base_price)
SELECT d.name, d.description, c.id, d.base_price
FROM demo_products d
JOIN categories c ON c.slug = d.category_slug
WHERE NOT EXISTS (SELECT 1 FROM products p WHERE p.name = d.name)
ORDER BY d.name;

-- Variants with their stock.
CREATE TEMP TABLE demo_variants (product_name, sku, name, price_delta, stock) ON COMMIT DROP AS
VALUES ('Oxford Shirt', 'SHIRT-OXF-WHT-M', 'White, M', 0.00::numeric(12,2), 40),
       ('Oxford Shirt', 'SHIRT-OXF-WHT-L', 'White, L', 0.00, 35),
       ('Oxford Shirt', 'SHIRT-OXF-BLU-M', 'Blue, M', 2.00, 20),
       ('Linen Shirt', 'SHIRT-LIN-M', 'Natural, M', 0.00, 15),
       ('Linen Shirt', 'SHIRT-LIN-L', 'Natural, L', 0.00, 12),
       ('Trail Runner', 'SHOE-TRL-42', 'EU 42', 0.00, 10),
       ('Trail Runner', 'SHOE-TRL-43', 'EU 43', 0.00, 14),
       ('Trail Runner', 'SHOE-TRL-44', 'EU 44', 0.00, 8),
       ('Leather Boot', 'BOOT-LTH-42', 'EU 42', 0.00, 6),
       ('Leather Boot', 'BOOT-LTH-43', 'EU 43', 0.00, 5),
       ('Ceramic Mug', 'MUG-CER-WHT', 'White', 0.00, 200),
       ('Ceramic Mug', 'MUG-CER-BLK', 'Black', 1.50, 150),
       ('Oak Desk', 'DESK-OAK-M', 'Medium (120 cm)', 0.00, 25),
       ('Oak Desk', 'DESK-OAK-L', 'Large (160 cm)', 50.00, 40);

INSERT INTO variants (product_id, sku, name, price_delta, stock)
SELECT (SELECT min(p.id) FROM products p WHERE p.name = v.product_name), v.sku, v.name, v.price_delta, v.stock
FROM demo_variants v
ORDER BY v.sku
ON CONFLICT (sku) DO NOTHING;

COMMIT;
