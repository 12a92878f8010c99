-- 002: the default pricing rules the contract promises (10+ units -> 10%, GOLD -> 15%).
-- ON CONFLICT keeps a re-run, or an operator's later edit, intact.
INSERT INTO pricing_rules (kind, min_quantity, percent_off)
VALUES ('QUANTITY', 10, 10)
ON CONFLICT (min_quantity) WHERE kind = 'QUANTITY' DO NOTHING;

INSERT INTO pricing_rules (kind, tier, percent_off)
VALUES ('TIER', 'GOLD', 15)
ON CONFLICT (tier) WHERE kind = 'TIER' DO NOTHING;
