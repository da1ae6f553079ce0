// The embedded database's URL: `pglite://<absolute data directory>`. Config
// builds one when DATABASE_URL is unset, so `databaseUrl` stays a string that
// flows everywhere a server URL does; only the pool looks inside it.
import { fileURLToPath, pathToFileURL } from 'node:url';

const SCHEME = 'pglite://';

/** Whether a database URL names the embedded database (PGlite) rather than a server. */
export function isEmbeddedUrl(url: string): boolean {
  return url.startsWith(SCHEME);
}

/** The URL of the embedded database whose data directory is `dataDir` (absolute). */
export function embeddedUrl(dataDir: string): string {
  return `${SCHEME}${pathToFileURL(dataDir).pathname}`;
}

/** The data directory an embedded URL names. */
export function embeddedDataDir(url: string): string {
  return fileURLToPath(`file://${url.slice(SCHEME.length)}`);
}
