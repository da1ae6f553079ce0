// Which real servers the test run has: Postgres at TEST_ADMIN_DATABASE_URL and
// Redis at TEST_REDIS_URL, probed once when vitest loads its config. Without
// them the integration suites run on the embedded stack (PGlite, BullMQ's
// PostgreSQL backend) and files that need a real server are not run, each
// saying so in one line (test/helpers/needs.ts).
import { connect } from 'node:net';

export type Server = 'postgres' | 'redis';

/** Environment variables the probe's verdict travels in, to global-setup and the test workers. */
export const NO_SERVER_ENV: Record<Server, string> = {
  postgres: 'SLUICE_TEST_NO_POSTGRES',
  redis: 'SLUICE_TEST_NO_REDIS',
};

export const ADMIN_URL =
  process.env.TEST_ADMIN_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Why the server is missing in this run (set by the config's probe), or undefined when it is here. */
export function missingServer(server: Server): string | undefined {
  return process.env[NO_SERVER_ENV[server]] || undefined;
}

/** Resolves undefined when something accepts a TCP connection at the URL's host and port, else why not. */
function probe(url: string, defaultPort: number, timeoutMs: number): Promise<string | undefined> {
  const u = new URL(url);
  const host = u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
  const port = Number(u.port || defaultPort);
  const where = `${host}:${port}`;
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (why: string | undefined) => {
      socket.destroy();
      resolve(why);
    };
    socket.setTimeout(timeoutMs, () => done(`${where} did not answer within ${timeoutMs} ms`));
    socket.once('connect', () => done(undefined));
    socket.once('error', (err: NodeJS.ErrnoException) =>
      done(`${where} did not answer (${err.code ?? err.message})`),
    );
  });
}

/** Probes both servers; each entry says why that server is missing, absent when it answers. */
export async function probeServers(timeoutMs = 2000): Promise<Partial<Record<Server, string>>> {
  const [postgres, redis] = await Promise.all([
    probe(ADMIN_URL, 5432, timeoutMs),
    probe(TEST_REDIS_URL, 6379, timeoutMs),
  ]);
  return { ...(postgres ? { postgres } : {}), ...(redis ? { redis } : {}) };
}
