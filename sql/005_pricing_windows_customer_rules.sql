-- 005: pricing rule windows and customer rules (issue 8).
-- A rule counts while valid_from <= now() < valid_until (NULL: open on that side). A third kind,
-- CUSTOMER, gives one customer a discount after the TIER step. At most one rule per key
-- (QUANTITY: min_quantity, TIER: tier, CUSTOMER: customer_id) may be valid at any instant: the
-- exclusion constraints below over tstzrange(valid_from, valid_until) replace 001's unique
-- indexes, which allowed one rule per key for ever and so no successor with a later window.
-- Idempotent: columns and constraints are added only if missing; the CHECKs are re-created.
CREATE EXTENSION IF NOT EXISTS btree_gist;

ALTER TABLE pricing_rules ADD COLUMN IF NOT EXISTS valid_from timestamptz;
ALTER TABLE pricing_rules ADD COLUMN IF NOT EXISTS valid_until timestamptz;
ALTER TABLE pricing_rules ADD COLUMN IF NOT EXISTS customer_id bigint;

-- The kind's CHECK (named by PostgreSQL in 001) and the shape CHECK admit CUSTOMER rules, which
-- carry a customer_id and nothing else; the other kinds carry no customer_id.
ALTER TABLE pricing_rules DROP CONSTRAINT IF EXISTS pricing_rules_kind_check;
ALTER TABLE pricing_rules ADD CONSTRAINT pricing_rules_kind_check
    CHECK (kind IN ('QUANTITY', 'TIER', 'CUSTOMER'));
ALTER TABLE pricing_rules DROP CONSTRAINT IF EXISTS pricing_rules_shape_check;
ALTER TABLE pricing_rules ADD CONSTRAINT pricing_rules_shape_check CHECK (
    (kind = 'QUANTITY' AND min_quantity IS NOT NULL AND tier IS NULL AND customer_id IS NULL) OR
    (kind = 'TIER' AND tier IS NOT NULL AND min_quantity IS NULL AND customer_id IS NULL) OR
    (kind = 'CUSTOMER' AND customer_id IS NOT NULL AND min_quantity IS NULL AND tier IS NULL));
-- An empty or reversed window would be a rule that never counts (tstzrange also refuses a
-- reversed one with an error of its own).
ALTER TABLE pricing_rules DROP CONSTRAINT IF EXISTS pricing_rules_window_check;
ALTER TABLE pricing_rules ADD CONSTRAINT pricing_rules_window_check
    CHECK (valid_from < valid_until);

DO $$
BEGIN
    -- A customer's rules go with the customer.
    IF NOT EXISTS (SELECT 1 FROM pg_constraint
                   WHERE conrelid = 'pricing_rules'::regclass
                     AND conname = 'pricing_rules_customer_id_fkey') THEN
        ALTER TABLE pricing_rules ADD CONSTRAINT pricing_rules_customer_id_fkey
            FOREIGN KEY (customer_id) REFERENCES customers(id) ON DELETE CASCADE;
    END IF;
    -- One constraint per kind, as 001's partial unique indexes were: each compares only rules of
    -- its kind, and its GiST index also serves the price quote's "valid now" lookup.
    IF NOT EXISTS (SELECT 1 FROM pg_constraint
                   WHERE conrelid = 'pricing_rules'::regclass
                     AND conname = 'pricing_rules_quantity_excl') THEN
        ALTER TABLE pricing_rules ADD CONSTRAINT pricing_rules_quantity_excl
            EXCLUDE USING gist (min_quantity WITH =, tstzrange(valid_from, valid_until) WITH &&)
            WHERE (kind = 'QUANTITY');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_constraint
                   WHERE conrelid = 'pricing_rules'::regclass
                     AND conname = 'pricing_rules_tier_excl') THEN
        ALTER TABLE pricing_rules ADD CONSTRAINT pricing_rules_tier_excl
            EXCLUDE USING gist (tier WITH =, tstzrange(valid_from, valid_until) WITH &&)
            WHERE (kind = 'TIER');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_constraint
                   WHERE conrelid = 'pricing_rules'::regclass
                     AND conname = 'pricing_rules_customer_excl') THEN
        ALTER TABLE pricing_rules ADD CONSTRAINT pricing_rules_customer_excl
            EXCLUDE USING gist (customer_id WITH =, tstzrange(valid_from, valid_until) WITH &&)
            WHERE (kind = 'CUSTOMER');
    END IF;
END $$;

-- The foreign key's own index: deleting a customer finds its rules without a scan.
CREATE INDEX IF NOT EXISTS pricing_rules_customer_id_idx
    ON pricing_rules(customer_id) WHERE customer_id IS NOT NULL;

-- Replaced by the exclusion constraints (which also refuse what these refused: two rules of one
-- key with open windows overlap).
DROP INDEX IF EXISTS pricing_rules_quantity_key;
DROP INDEX IF EXISTS pricing_rules_tier_key;
