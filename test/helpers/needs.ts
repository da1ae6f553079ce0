// Test files that need a real server say so in a marker line near their top:
//   // needs a Postgres server: <why>
//   // needs a Redis server: <why>
// When the run has no such server (test/helpers/servers.ts), vitest.config.ts
// leaves those files out and prints one line for each, never silently.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Server } from './servers.ts';

const MARKER = /^\/\/ needs a (Postgres|Redis) server: (.+)$/gm;
const LABEL: Record<Server, string> = { postgres: 'Postgres', redis: 'Redis' };

export interface Need {
  server: Server;
  why: string;
}

/** The servers a test file's marker lines declare it needs. */
export function needsOf(source: string): Need[] {
  return [...source.matchAll(MARKER)].map((m) => ({
    server: m[1] === 'Postgres' ? 'postgres' : 'redis',
    why: (m[2] ?? '').trim(),
  }));
}

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.test.ts'))
    .map((e) => join(e.parentPath, e.name));
}

export interface NotRun {
  file: string;
  line: string;
}

/**
 * The files under `dirs` (relative to `root`) that cannot run without the
 * `missing` servers, each with the one line that says so.
 */
export function filesNotRun(
  root: string,
  dirs: string[],
  missing: Partial<Record<Server, string>>,
): NotRun[] {
  const out: NotRun[] = [];
  for (const dir of dirs) {
    for (const path of testFiles(join(root, dir))) {
      const need = needsOf(readFileSync(path, 'utf8')).find((n) => missing[n.server] !== undefined);
      if (!need) continue;
      const file = relative(root, path);
      out.push({
        file,
        line: `not run: ${file} needs a ${LABEL[need.server]} server (${need.why}); ${missing[need.server]}`,
      });
    }
  }
  return out.sort((a, b) => a.file.localeCompare(b.file));
}
