-- sluice schema, version 1. Users query sluice.documents and sluice.chunks
-- directly (see README "Tables"); changes go in a new numbered file.
CREATE EXTENSION IF NOT EXISTS vector;
CREATE SCHEMA IF NOT EXISTS sluice;

-- A collection and the pipeline that builds it. `active_generation` points at the
-- generation searches read; a re-index builds generation N+1 beside it and flips
-- the pointer (later issue), so chunks and fingerprints are per generation.
CREATE TABLE sluice.collections (
  name              text PRIMARY KEY,
  active_generation int NOT NULL DEFAULT 1,
  created_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sluice.collection_generations (
  collection   text NOT NULL REFERENCES sluice.collections(name) ON DELETE CASCADE,
  generation   int NOT NULL,
  fingerprint  jsonb NOT NULL,     -- extraction, chunking and embedding settings
  embedder     text NOT NULL,
  model        text NOT NULL,
  dimensions   int NOT NULL CHECK (dimensions > 0),
  vector_type  text NOT NULL CHECK (vector_type IN ('vector', 'halfvec')),
  index_name   text NOT NULL,
  state        text NOT NULL DEFAULT 'active' CHECK (state IN ('building', 'active', 'retired')),
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (collection, generation)
);

CREATE TABLE sluice.documents (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  collection     text NOT NULL REFERENCES sluice.collections(name),
  uri            text NOT NULL,
  content_hash   text,               -- sha256 of the bytes last seen at the source
  indexed_hash   text,               -- content hash whose chunks are in sluice.chunks
  mime           text,
  bytes          bigint,
  title          text,
  metadata       jsonb NOT NULL DEFAULT '{}',
  status         text NOT NULL DEFAULT 'queued'
                 CHECK (status IN ('queued', 'processing', 'done', 'skipped', 'failed', 'deleted')),
  stage          text CHECK (stage IN ('extract', 'chunk', 'embed', 'load')),
  error_code     text,
  error_message  text,
  attempts       int NOT NULL DEFAULT 0,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  indexed_at     timestamptz,
  UNIQUE (collection, uri)
);
CREATE INDEX documents_status_idx ON sluice.documents (collection, status);

CREATE TABLE sluice.chunks (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  document_id   bigint NOT NULL REFERENCES sluice.documents(id) ON DELETE CASCADE,
  collection    text NOT NULL,
  generation    int NOT NULL DEFAULT 1,
  ordinal       int NOT NULL,
  text          text NOT NULL,
  content_hash  text NOT NULL,       -- sha256 of text
  token_count   int NOT NULL,
  metadata      jsonb NOT NULL DEFAULT '{}',  -- page_start/page_end, heading_path, char_start/char_end
  embedding     vector,              -- width fixed per collection generation; HNSW index per collection
  UNIQUE (document_id, generation, ordinal)
);
CREATE INDEX chunks_collection_idx ON sluice.chunks (collection, generation);

-- Stage outputs (checkpoints), keyed by content and the settings that made them,
-- so a re-delivered job or an identical file elsewhere skips straight ahead.
CREATE TABLE sluice.extractions (
  content_hash  text NOT NULL,
  fingerprint   text NOT NULL,
  mime          text NOT NULL,
  title         text,
  metadata      jsonb NOT NULL,
  sections      jsonb NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (content_hash, fingerprint)
);

CREATE TABLE sluice.chunk_sets (
  content_hash  text NOT NULL,
  fingerprint   text NOT NULL,
  chunks        jsonb NOT NULL,      -- [{ordinal, text, contentHash, tokenCount, metadata}]
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (content_hash, fingerprint)
);

-- Embedding cache: (provider/model/dimensions key, sha256 of chunk text) → vector.
CREATE TABLE sluice.embedding_cache (
  model_key   text NOT NULL,
  text_hash   text NOT NULL,
  embedding   vector NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (model_key, text_hash)
);

-- One row per stage run that did real work (not a checkpoint skip): proves in
-- tests that completed stages are not redone, and feeds per-stage timings.
CREATE TABLE sluice.stage_runs (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  document_id   bigint NOT NULL,
  content_hash  text NOT NULL,
  stage         text NOT NULL,
  outcome       text NOT NULL,       -- done | skipped (checkpoint hit) | failed
  duration_ms   int NOT NULL,
  detail        jsonb NOT NULL DEFAULT '{}',
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stage_runs_doc_idx ON sluice.stage_runs (document_id, stage);

-- Counters shown by `sluice status` (embedding cache hits/misses, provider calls).
CREATE TABLE sluice.counters (
  name   text PRIMARY KEY,
  value  bigint NOT NULL DEFAULT 0
);
