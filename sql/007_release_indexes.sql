-- 007: cheaper reservation-release (issue 14: 100k expired in < 2 s). Idempotent, and safe for
-- plugin generations built against 006: none of their statements changes meaning or plan shape.

-- The release finds ACTIVE reservations past expires_at, oldest first. A partial index holds
-- only ACTIVE rows, so marking one EXPIRED (or CONFIRMED, CANCELLED) adds no entry to it, where
-- (status, expires_at) took a new entry on every status change. It serves every query the old
-- index served (status = 'ACTIVE' AND expires_at < ...; ORDER BY expires_at, id).
CREATE INDEX IF NOT EXISTS reservations_active_expires_at_idx
    ON reservations (expires_at, id) WHERE status = 'ACTIVE';
DROP INDEX IF EXISTS reservations_status_expires_at_idx;

-- expiry_log is an append-only record written only by the release statements, each from
-- reservation rows they hold locked, and reservations are never deleted: its foreign key only
-- cost a lookup and a row lock on reservations for every row logged (a quarter of the release's
-- CPU with the index change above, measured on 10k-row batches).
ALTER TABLE expiry_log DROP CONSTRAINT IF EXISTS expiry_log_reservation_id_fkey;
