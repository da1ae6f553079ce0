// Behind a transaction pooler (PgBouncer pool_mode=transaction, Neon's and
// Supabase's pooled URLs) each transaction may run on another server connection,
// so session state leaks to strangers or is lost: a session advisory lock stays
// held (the next migrate or index build waits forever), a SET changes another
// client's connection, LISTEN hears nothing, a named prepared statement is
// missing. sluice uses none of them; this keeps it so.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../../src/', import.meta.url));

const SESSION_STATE: [string, RegExp][] = [
  ['session advisory lock (use pg_advisory_xact_lock)', /pg_(try_)?advisory_lock(_shared)?\s*\(/],
  [
    'session setting (use SET LOCAL inside a transaction)',
    /['"`]\s*SET\s+(?!LOCAL\b)(SESSION\s+)?[a-z_]+\s*(=|TO\b)/i,
  ],
  ['LISTEN', /['"`]\s*LISTEN\s/i],
  ['named prepared statement', /\bname:\s*['"`][^'"`]+['"`],\s*text:/],
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

describe('no session state in SQL (safe through a transaction pooler)', () => {
  it('src/ takes no session lock, sets no session setting, listens to nothing, names no prepared statement', () => {
    const found: string[] = [];
    // The embedded database is itself one session with no pooler in front: its
    // startup settings (search_path) are set there, once, when it opens.
    const embedded = join(SRC, 'db', 'embedded', 'session.ts');
    for (const file of sourceFiles(SRC).filter((f) => f !== embedded)) {
      const text = readFileSync(file, 'utf8');
      for (const [what, re] of SESSION_STATE) {
        if (re.test(text)) found.push(`${file.slice(SRC.length)}: ${what}`);
      }
    }
    expect(found).toEqual([]);
  });

  it('the patterns catch what they are meant to', () => {
    const hit = (s: string) => SESSION_STATE.filter(([, re]) => re.test(s)).map(([w]) => w.split(' (')[0]);
    expect(hit("client.query('SELECT pg_advisory_lock($1)', [k])")).toEqual(['session advisory lock']);
    expect(hit('SELECT pg_try_advisory_lock(hashtext($1))')).toEqual(['session advisory lock']);
    expect(hit('SELECT pg_advisory_xact_lock($1)')).toEqual([]);
    expect(hit('await client.query(`SET lock_timeout = 500`)')).toEqual(['session setting']);
    expect(hit("client.query('SET LOCAL lock_timeout = 500')")).toEqual([]);
    expect(hit('`UPDATE sluice.documents SET status = $2`')).toEqual([]);
    expect(hit("client.query('LISTEN sluice_events')")).toEqual(['LISTEN']);
    expect(hit("pool.query({ name: 'get-doc', text: 'SELECT 1' })")).toEqual(['named prepared statement']);
  });
});
