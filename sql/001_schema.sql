-- 001: the whole shopd data model. Idempotent: every object is created only if missing.

CREATE TABLE IF NOT EXISTS categories (
    id         bigserial PRIMARY KEY,
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    slug       text NOT NULL UNIQUE,
    parent_id  bigint REFERENCES categories(id),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS categories_parent_id_idx ON categories(parent_id);

CREATE TABLE IF NOT EXISTS products (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description text NOT NULL DEFAULT '',
    category_id bigint NOT NULL REFERENCES categories(id),
    base_price  numeric(12,2) NOT NULL CHECK (base_price >= 0),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS products_category_id_idx ON products(category_id);
CREATE INDEX IF NOT EXISTS products_lower_name_idx ON products(lower(name));

CREATE TABLE IF NOT EXISTS variants (
    id          bigserial PRIMARY KEY,
    product_id  bigint NOT NULL REFERENCES products(id),
    sku         text NOT NULL UNIQUE CHECK (length(sku) BETWEEN 1 AND 64),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    price_delta numeric(12,2) NOT NULL DEFAULT 0,
    stock       integer NOT NULL DEFAULT 0,
    reserved    integer NOT NULL DEFAULT 0,
    CONSTRAINT variants_stock_reserved_check CHECK (reserved >= 0 AND reserved <= stock)
);
CREATE INDEX IF NOT EXISTS variants_product_id_idx ON variants(product_id);

CREATE TABLE IF NOT EXISTS customers (
    id         bigserial PRIMARY KEY,
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    tier       text NOT NULL DEFAULT 'STANDARD'
               CHECK (tier IN ('STANDARD', 'SILVER', 'GOLD', 'PLATINUM')),
    -- SHA-256 (hex) of the bearer token; the token itself is never stored.
    token_hash text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS carts (
    id          bigserial PRIMARY KEY,
    customer_id bigint NOT NULL UNIQUE REFERENCES customers(id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS cart_items (
    id         bigserial PRIMARY KEY,
    cart_id    bigint NOT NULL REFERENCES carts(id) ON DELETE CASCADE,
    variant_id bigint NOT NULL REFERENCES variants(id),
    quantity   integer NOT NULL CHECK (quantity BETWEEN 1 AND 10000),
    unit_price numeric(12,2) NOT NULL CHECK (unit_price >= 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    -- One line per variant: concurrent adds merge through INSERT ... ON CONFLICT.
    CONSTRAINT cart_items_cart_variant_key UNIQUE (cart_id, variant_id)
);
CREATE INDEX IF NOT EXISTS cart_items_variant_id_idx ON cart_items(variant_id);

CREATE TABLE IF NOT EXISTS pricing_rules (
    id           bigserial PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN ('QUANTITY', 'TIER')),
    min_quantity integer CHECK (min_quantity >= 1),
    tier         text CHECK (tier IN ('STANDARD', 'SILVER', 'GOLD', 'PLATINUM')),
    percent_off  numeric(5,2) NOT NULL CHECK (percent_off BETWEEN 0 AND 100),
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pricing_rules_shape_check CHECK (
        (kind = 'QUANTITY' AND min_quantity IS NOT NULL AND tier IS NULL) OR
        (kind = 'TIER' AND tier IS NOT NULL AND min_quantity IS NULL))
);
CREATE UNIQUE INDEX IF NOT EXISTS pricing_rules_quantity_key
    ON pricing_rules(min_quantity) WHERE kind = 'QUANTITY';
CREATE UNIQUE INDEX IF NOT EXISTS pricing_rules_tier_key
    ON pricing_rules(tier) WHERE kind = 'TIER';

CREATE TABLE IF NOT EXISTS reservations (
    id          bigserial PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers(id),
    status      text NOT NULL DEFAULT 'ACTIVE'
                CHECK (status IN ('ACTIVE', 'CONFIRMED', 'CANCELLED', 'EXPIRED')),
    expires_at  timestamptz NOT NULL,
    total       numeric(14,2) NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS reservations_customer_id_idx ON reservations(customer_id);
CREATE INDEX IF NOT EXISTS reservations_status_expires_at_idx ON reservations(status, expires_at);

CREATE TABLE IF NOT EXISTS reservation_items (
    id             bigserial PRIMARY KEY,
    reservation_id bigint NOT NULL REFERENCES reservations(id),
    variant_id     bigint NOT NULL REFERENCES variants(id),
    quantity       integer NOT NULL CHECK (quantity >= 1),
    unit_price     numeric(12,2) NOT NULL,
    line_total     numeric(14,2) NOT NULL
);
CREATE INDEX IF NOT EXISTS reservation_items_reservation_id_idx ON reservation_items(reservation_id);
CREATE INDEX IF NOT EXISTS reservation_items_variant_id_idx ON reservation_items(variant_id);

CREATE TABLE IF NOT EXISTS expiry_log (
    id             bigserial PRIMARY KEY,
    reservation_id bigint NOT NULL REFERENCES reservations(id),
    released_at    timestamptz NOT NULL DEFAULT now(),
    -- Who released it: the reservation-release job or a checkout that needed the stock.
    released_by    text NOT NULL,
    item_count     integer NOT NULL,
    unit_count     integer NOT NULL
);
CREATE INDEX IF NOT EXISTS expiry_log_reservation_id_idx ON expiry_log(reservation_id);

CREATE TABLE IF NOT EXISTS idempotency_keys (
    customer_id    bigint NOT NULL REFERENCES customers(id),
    key            text NOT NULL,
    -- SHA-256 of the cart contents the key was first used with: same key, other cart -> 422.
    request_hash   text NOT NULL,
    reservation_id bigint REFERENCES reservations(id),
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_id, key)
);
CREATE INDEX IF NOT EXISTS idempotency_keys_reservation_id_idx ON idempotency_keys(reservation_id);
