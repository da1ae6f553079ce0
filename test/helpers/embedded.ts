// A temporary SLUICE_HOME for embedded-database tests, removed afterwards.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { embeddedUrl } from '../../src/db/embedded/url.ts';

export interface TempHome {
  home: string;
  dataDir: string;
  /** The pglite:// URL config would build for this SLUICE_HOME. */
  url: string;
  remove(): Promise<void>;
}

export async function tempHome(label = 'embedded'): Promise<TempHome> {
  const home = await mkdtemp(join(tmpdir(), `sluice-${label}-`));
  const dataDir = join(home, 'pgdata');
  return {
    home,
    dataDir,
    url: embeddedUrl(dataDir),
    remove: () => rm(home, { recursive: true, force: true }),
  };
}
