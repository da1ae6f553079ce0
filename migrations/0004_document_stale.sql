-- Document status `stale`: a newer version of a done document failed, and its last
-- good version stays indexed and searchable while error_code/error_message say why
-- (see README "Guarantees"; the statuses and their changes: src/loaders/document-state.ts).
ALTER TABLE sluice.documents DROP CONSTRAINT IF EXISTS documents_status_check;
ALTER TABLE sluice.documents
  ADD CONSTRAINT documents_status_check
    CHECK (status IN ('queued', 'processing', 'done', 'stale', 'skipped', 'failed', 'deleted'));
