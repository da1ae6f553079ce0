-- sluice schema, version 2: re-indexing without downtime (blue/green generations),
-- per-generation progress, embedding spend and budgets. See README "Re-indexing".

-- States: building (documents still going through the new settings), ready
-- (complete, or a former active generation kept for rollback), active (what
-- searches read), retired (chunks dropped).
ALTER TABLE sluice.collection_generations DROP CONSTRAINT IF EXISTS collection_generations_state_check;
ALTER TABLE sluice.collection_generations
  ADD CONSTRAINT collection_generations_state_check
    CHECK (state IN ('building', 'ready', 'active', 'retired')),
  ADD COLUMN auto_switch      boolean NOT NULL DEFAULT false,  -- switch as soon as it is ready
  ADD COLUMN budget_tokens    bigint CHECK (budget_tokens > 0), -- per-run budget (reindex --budget)
  ADD COLUMN tokens_embedded  bigint NOT NULL DEFAULT 0,        -- tokens sent to the provider for it
  ADD COLUMN ready_at         timestamptz,
  ADD COLUMN activated_at     timestamptz,
  ADD COLUMN retired_at       timestamptz;

-- The generation searches used before the last switch: what `sluice rollback` returns to.
ALTER TABLE sluice.collections ADD COLUMN previous_generation int;

-- Progress of each document through a generation that is not the one live
-- ingestion writes (a build, or a former active generation kept for rollback).
CREATE TABLE sluice.generation_documents (
  collection     text NOT NULL,
  generation     int NOT NULL,
  document_id    bigint NOT NULL REFERENCES sluice.documents(id) ON DELETE CASCADE,
  content_hash   text NOT NULL,      -- the document version this generation holds or is building
  status         text NOT NULL DEFAULT 'queued'
                 CHECK (status IN ('queued', 'processing', 'done', 'failed')),
  stage          text CHECK (stage IN ('extract', 'chunk', 'embed', 'load')),
  error_code     text,
  error_message  text,
  attempts       int NOT NULL DEFAULT 0,
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (collection, generation, document_id),
  FOREIGN KEY (collection, generation)
    REFERENCES sluice.collection_generations(collection, generation) ON DELETE CASCADE
);
CREATE INDEX generation_documents_status_idx ON sluice.generation_documents (collection, generation, status);

-- Which generation a stage run worked for (NULL: live ingestion into the active one).
ALTER TABLE sluice.stage_runs ADD COLUMN generation int;

-- Tokens sent to the embedding provider per collection per UTC day, for
-- SLUICE_EMBED_BUDGET_TOKENS. Reserved before a request, refunded if it fails.
CREATE TABLE sluice.embed_spend (
  collection  text NOT NULL,
  day         date NOT NULL,
  tokens      bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (collection, day)
);
