// Child processes for the benchmark: spawn with a captured stderr tail, wait for
// a readiness line, read peak RSS (VmHWM) from /proc, and make sure every child
// (and the private Redis) dies with the benchmark, even on failure or Ctrl-C.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const live = new Set<ChildProcess>();
const cleanups: Array<() => Promise<void>> = [];
let hooked = false;

/** Runs on Ctrl-C/SIGTERM after the children are killed (databases, temp dirs): at most 15 s in all. */
export function onSignalCleanup(fn: () => Promise<void>): void {
  cleanups.push(fn);
}

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const c of live) c.kill('SIGKILL');
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      for (const c of live) c.kill('SIGKILL');
      const all = Promise.allSettled(cleanups.map((f) => f()));
      const limit = new Promise((r) => setTimeout(r, 15_000));
      void Promise.race([all, limit]).then(() => process.exit(130));
    });
  }
}

export interface Child {
  proc: ChildProcess;
  pid: number;
  /** Last ~16 KB of stderr, for error reports. */
  stderrTail(): string;
  stdout(): string;
  /** Resolves with the exit code. */
  exited: Promise<number>;
}

/** Spawns `node <args>` (or another command) tracked for cleanup. */
export function start(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Child {
  hookExit();
  const proc = spawn(cmd, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(proc);
  let err = '';
  let out = '';
  proc.stderr?.on('data', (d: Buffer) => {
    err = (err + d.toString('utf8')).slice(-16_384);
  });
  proc.stdout?.on('data', (d: Buffer) => {
    out += d.toString('utf8');
  });
  const exited = new Promise<number>((resolve) => {
    proc.on('exit', (code, signal) => {
      live.delete(proc);
      resolve(code ?? (signal ? 128 : 1));
    });
  });
  if (proc.pid === undefined) throw new Error(`could not start ${cmd}`);
  return { proc, pid: proc.pid, stderrTail: () => err, stdout: () => out, exited };
}

/** Waits until the child's stderr contains `marker` (or it exits, or time runs out). */
export async function waitFor(child: Child, marker: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void child.exited.then(() => {
    exited = true;
  });
  while (!child.stderrTail().includes(marker)) {
    if (exited || Date.now() > deadline)
      throw new Error(`child ${child.pid} never printed "${marker}":\n${child.stderrTail()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Stops a child with SIGTERM, then SIGKILL after `graceMs`. */
export async function stop(child: Child, graceMs = 10_000): Promise<void> {
  if (child.proc.exitCode !== null || child.proc.signalCode !== null) return;
  child.proc.kill('SIGTERM');
  const timer = setTimeout(() => child.proc.kill('SIGKILL'), graceMs);
  await child.exited;
  clearTimeout(timer);
}

/** Peak resident set of a live process in MB (VmHWM), or NaN once it has exited. */
export function peakRssMb(pid: number): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** CPU seconds (user + system, all threads) a live process has used, or 0 once it has exited. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After "pid (comm) ", utime and stime are fields 12 and 13 (0-based), in clock ticks (100/s).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/**
 * A private redis-server for the run (no persistence, noeviction), so command
 * counts are ours alone. Returns undefined when redis-server is not installed.
 */
export async function startPrivateRedis(cwd: string): Promise<{ url: string; child: Child } | undefined> {
  const port = await freePort();
  let child: Child;
  try {
    child = start(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      process.env,
      cwd,
    );
    child.proc.stdout?.on('data', () => undefined);
  } catch {
    return undefined;
  }
  const spawnFailed = await Promise.race([
    new Promise<boolean>((r) => child.proc.once('error', () => r(true))),
    new Promise<boolean>((r) => setTimeout(() => r(false), 300)),
  ]);
  if (spawnFailed || child.proc.exitCode !== null) return undefined;
  const url = `redis://127.0.0.1:${port}`;
  const { Redis } = await import('ioredis');
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  for (let i = 0; i < 50; i++) {
    try {
      await r.connect();
      await r.config('SET', 'maxmemory-policy', 'noeviction');
      r.disconnect();
      return { url, child };
    } catch {
      await new Promise((res) => setTimeout(res, 100));
    }
  }
  r.disconnect();
  await stop(child);
  return undefined;
}
