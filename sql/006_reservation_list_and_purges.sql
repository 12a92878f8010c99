-- 006: indexes for GET /api/reservations/ and for reservation-release's purges. Idempotent:
-- created only if missing.

-- A customer's list (and the admin's ?customer=): newest first, a page stops after LIMIT rows,
-- and its count reads only that customer's entries. It leads with customer_id, so it also serves
-- every lookup the single-column index of 001 served (the FK to customers among them): that one
-- would only cost every checkout an index write more.
CREATE INDEX IF NOT EXISTS reservations_customer_id_id_idx ON reservations (customer_id, id DESC);
DROP INDEX IF EXISTS reservations_customer_id_idx;

-- The admin's ?status= without ?customer=: a rare status (ACTIVE among many CONFIRMED) is found
-- and counted without a scan of every reservation.
CREATE INDEX IF NOT EXISTS reservations_status_id_idx ON reservations (status, id DESC);

-- reservation-release --cart-ttl: the oldest untouched carts first, without a scan of all carts.
CREATE INDEX IF NOT EXISTS carts_updated_at_idx ON carts (updated_at);

-- reservation-release --idempotency-ttl: the oldest keys first, without a scan of all keys.
CREATE INDEX IF NOT EXISTS idempotency_keys_created_at_idx ON idempotency_keys (created_at);
