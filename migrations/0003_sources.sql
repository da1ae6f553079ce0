-- Sources that sluice follows (a watched folder or an S3 prefix) and what it last
-- saw of each object there, so a restarted watcher resumes without re-reading
-- unchanged files, deletions are applied from complete listings only, and mass
-- deletions are held for approval (see README "Sources").
CREATE TABLE sluice.sources (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind             text NOT NULL CHECK (kind IN ('folder', 's3')),
  uri              text NOT NULL,          -- absolute folder path or s3://bucket/prefix
  collection       text NOT NULL,
  lease_owner      text,                   -- the one watcher syncing this source
  lease_expires_at timestamptz,
  scan_seq         bigint NOT NULL DEFAULT 0,  -- bumped by every complete listing
  last_scan_at     timestamptz,
  last_scan_ms     int,
  last_error       text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (uri, collection)
);

-- One row per file or object last seen at a source. `state`: present, missing
-- (gone, waiting out SLUICE_DELETE_GRACE_MS) or held (a deletion the guard holds).
CREATE TABLE sluice.source_objects (
  source_id     bigint NOT NULL REFERENCES sluice.sources(id) ON DELETE CASCADE,
  key           text NOT NULL,             -- path relative to the folder, or the object key
  uri           text NOT NULL,             -- the document's uri
  size          bigint NOT NULL,
  mtime_ms      double precision,          -- folder: mtime; s3: LastModified
  inode         text,                      -- folder: dev:ino
  etag          text,                      -- s3
  content_hash  text,
  document_id   bigint,
  seen_seq      bigint NOT NULL DEFAULT 0, -- scan_seq of the last listing that saw it
  state         text NOT NULL DEFAULT 'present' CHECK (state IN ('present', 'missing', 'held')),
  missing_since timestamptz,
  PRIMARY KEY (source_id, key)
);
CREATE INDEX source_objects_state_idx ON sluice.source_objects (source_id, state);
