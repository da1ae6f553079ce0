-- Document status `stale`: a newer version of a done document failed, and its last
-- good version stays indexed and searchable while error_code/error_message say why
-- (see README "Guarantees"; the statuses and their changes: src/loaders/document-state.ts).
ALTER TABLE sluice.documents DROP CONSTRAINT IF EXISTS documents_status_check;
ALTER TABLE sluice.documents
  ADD CONSTRAINT documents_status_check
    CHECK (status IN ('queued', 'processing', 'done', 'stale', 'skipped', 'failed', 'deleted'));

-- Rows an older sluice left failed over their last good version's chunks (a new
-- version failed, or was refused as too large) are exactly what `stale` means: they
-- keep serving, now with a status that says so.
UPDATE sluice.documents d SET status = 'stale'
WHERE d.status = 'failed' AND d.indexed_hash IS NOT NULL
  AND EXISTS (
    SELECT 1 FROM sluice.chunks c JOIN sluice.collections k ON k.name = c.collection
    WHERE c.document_id = d.id AND c.generation = k.active_generation
  );
