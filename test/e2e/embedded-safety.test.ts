// The embedded data directory is opened by one process at a time and never
// harmed by a sluice that cannot use it: a second process gets one line naming
// the holder's PID (exit 2), a dead holder's lock is taken over, and a directory
// from a newer sluice or with garbage in it is refused (exit 2), files untouched.
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { type TempHome, tempHome } from '../helpers/embedded.ts';

const homes: TempHome[] = [];
const children: ChildProcess[] = [];

async function home(): Promise<TempHome> {
  const h = await tempHome('safety');
  homes.push(h);
  return h;
}

afterEach(async () => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  for (const h of homes.splice(0)) await h.remove();
});

const env = (h: TempHome) => ({ SLUICE_HOME: h.home, REDIS_URL: 'redis://127.0.0.1:1' });

/** A process that opens the embedded database and holds it until killed; resolves once it holds it. */
function holder(h: TempHome): Promise<ChildProcess> {
  const script = `
    import { createPool } from ${JSON.stringify(new URL('../../src/db/pool.ts', import.meta.url).pathname)};
    const pool = createPool(${JSON.stringify(h.url)}, { max: 1 });
    await pool.query('SELECT 1');
    process.stdout.write('holding\\n');
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr?.on('data', (d) => (err += d));
    child.stdout?.on('data', (d) => String(d).includes('holding') && resolve(child));
    child.on('exit', (code) => reject(new Error(`holder exited ${code}: ${err}`)));
  });
}

/** Every file under dir with its size and mtime, to prove nothing was written (a directory: its name). */
function snapshot(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .sort()
    .map((f) => {
      const s = statSync(join(dir, f));
      return s.isDirectory() ? `${f}/` : `${f} ${s.size} ${s.mtimeMs}`;
    });
}

describe('one process per SLUICE_HOME', () => {
  it('a second process gets one line naming the PID that holds it, exit 2', async () => {
    const h = await home();
    const first = await holder(h);
    const res = await runCli(['status'], { env: env(h) });
    expect(res.code).toBe(2);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toContain(`in use by process ${first.pid}`);
    expect(res.stderr).toMatch(/another SLUICE_HOME|DATABASE_URL/);
  });

  it("a dead process's lock is taken over", async () => {
    const h = await home();
    const first = await holder(h);
    const exited = new Promise((r) => first.once('exit', r));
    first.kill('SIGKILL');
    await exited;
    expect(JSON.parse(readFileSync(join(h.home, 'lock'), 'utf8')).pid).toBe(first.pid); // left behind
    const res = await runCli(['status', '--json'], { env: env(h) });
    expect(res.stderr).not.toContain('in use by process');
    expect(res.stdout).toContain('"documents"');
  });
});

describe('a data directory this sluice must not open', () => {
  it('written by a newer sluice: exit 2, one line, nothing touched', async () => {
    const h = await home();
    mkdirSync(h.dataDir);
    writeFileSync(join(h.dataDir, 'PG_VERSION'), '19\n');
    writeFileSync(join(h.home, 'format.json'), '{"format": 99}\n');
    const before = snapshot(h.home);
    const res = await runCli(['status'], { env: env(h) });
    expect(res.code).toBe(2);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toContain('written by a newer sluice');
    expect(snapshot(h.home)).toEqual(before);
  });

  it('garbage in pgdata: exit 2, one line naming the path, files untouched', async () => {
    const h = await home();
    mkdirSync(h.dataDir);
    writeFileSync(join(h.dataDir, 'notes.txt'), 'not a database\n');
    const before = snapshot(h.home);
    const res = await runCli(['status'], { env: env(h) });
    expect(res.code).toBe(2);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toContain(`embedded database at ${h.dataDir} cannot be opened`);
    expect(snapshot(h.home)).toEqual(before);
  });

  it('a database whose control file is broken: exit 2, one line naming the path, files untouched', async () => {
    const h = await home();
    expect((await runCli(['migrate'], { env: env(h) })).code).toBe(0);
    writeFileSync(join(h.dataDir, 'global', 'pg_control'), 'garbage\n');
    const before = snapshot(h.home);
    const res = await runCli(['status'], { env: env(h) });
    expect(res.code).toBe(2);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toContain(`embedded database at ${h.dataDir} cannot be opened`);
    expect(snapshot(h.home)).toEqual(before);
  });

  // Permissions bind only a non-root user: the CLI runs as nobody, so this needs root, like the
  // other tests that run as nobody (sources-hostile, read-file; README "Development").
  it('unwritable SLUICE_HOME: exit 2, one line naming the path', async () => {
    const h = await home();
    chmodSync(h.home, 0o755); // root's, read-only for nobody
    const target = join(h.home, 'state');
    const res = await runCli(['status'], {
      env: { SLUICE_HOME: target, REDIS_URL: 'redis://127.0.0.1:1' },
      cwd: '/tmp',
      uid: 65534,
      gid: 65534,
    });
    expect(res.code).toBe(2);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toContain(`cannot write the embedded database at ${join(target, 'pgdata')}`);
    expect(readdirSync(h.home)).toEqual([]);
  });
});
