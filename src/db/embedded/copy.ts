// The embedded transport of the copy sink (loaders/copy.ts): PGlite reads a COPY
// payload from its '/dev/blob' device instead of a COPY FROM STDIN stream.

export interface BlobCopier {
  copyFromBlob(sql: string, parts: readonly Uint8Array[]): Promise<void>;
}

/** The embedded connection behind a pg client, when it is one. */
export function blobCopierOf(client: unknown): BlobCopier | undefined {
  const connection = (client as { connection?: Partial<BlobCopier> } | null)?.connection;
  return typeof connection?.copyFromBlob === 'function' ? (connection as BlobCopier) : undefined;
}

/** `COPY t (...) FROM STDIN (...)` as PGlite runs it: from its blob device. */
export function blobSql(sql: string): string {
  return sql.replace(/\bFROM\s+STDIN\b/i, "FROM '/dev/blob'");
}
