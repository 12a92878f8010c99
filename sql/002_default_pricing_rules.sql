-- 002: the default pricing rules the contract promises (10+ units -> 10%, GOLD -> 15%).
-- Inserted only when no rule for that key exists, so a re-run (by hand, after 005 replaced the
-- unique indexes with exclusion constraints) or an operator's later edit stays intact.
INSERT INTO pricing_rules (kind, min_quantity, percent_off)
SELECT 'QUANTITY', 10, 10
WHERE NOT EXISTS (SELECT 1 FROM pricing_rules WHERE kind = 'QUANTITY' AND min_quantity = 10);

INSERT INTO pricing_rules (kind, tier, percent_off)
SELECT 'TIER', 'GOLD', 15
WHERE NOT EXISTS (SELECT 1 FROM pricing_rules WHERE kind = 'TIER' AND tier = 'GOLD');
