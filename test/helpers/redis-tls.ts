// A private TLS-only redis-server (--port 0) with a certificate from a CA made
// here with openssl, and one ACL user with a password (the default user is off):
// the shape of a managed Redis.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './redis-server.ts';

export interface TlsRedis {
  port: number;
  /** PEM of the CA that signed the server certificate. */
  caFile: string;
  close(): Promise<void>;
}

/** CA (ca.pem) and a server certificate (server.pem, server.key) for 127.0.0.1/localhost, written into dir. */
export function makeCertificates(dir: string): void {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  ssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'ca.key');
  ssl(
    'req',
    '-x509',
    '-new',
    '-key',
    'ca.key',
    '-days',
    '2',
    '-subj',
    '/CN=sluice test CA',
    '-out',
    'ca.pem',
  );
  ssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'server.key');
  ssl('req', '-new', '-key', 'server.key', '-subj', '/CN=localhost', '-out', 'server.csr');
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  ssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    'san.ext',
    '-out',
    'server.pem',
  );
}

/** `rules`: the user's ACL rules after its password (default: every key and command). */
export async function startTlsRedis(opts: {
  user: string;
  password: string;
  rules?: string[];
}): Promise<TlsRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-redis-tls-'));
  makeCertificates(dir);
  const port = await freePort();
  let child: ChildProcess | undefined;
  try {
    child = await new Promise<ChildProcess>((resolve, reject) => {
      const c = spawn(
        'redis-server',
        [
          '--port',
          '0',
          '--tls-port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--tls-cert-file',
          join(dir, 'server.pem'),
          '--tls-key-file',
          join(dir, 'server.key'),
          '--tls-ca-cert-file',
          join(dir, 'ca.pem'),
          '--tls-auth-clients',
          'no',
          '--dir',
          dir,
          '--save',
          '',
          '--maxmemory-policy',
          'noeviction',
          '--user',
          'default',
          'off',
          '--user',
          opts.user,
          'on',
          `>${opts.password}`,
          '~*',
          '&*',
          '+@all',
        ],
        { stdio: ['ignore', 'pipe', 'ignore'] },
      );
      let out = '';
      c.stdout?.on('data', (d) => {
        out += d;
        if (out.includes('Ready to accept connections')) resolve(c);
      });
      c.on('error', reject);
      c.on('exit', (code) => reject(new Error(`redis-server exited (${code}): ${out.slice(-500)}`)));
    });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const server = child;
  return {
    port,
    caFile: join(dir, 'ca.pem'),
    async close() {
      await new Promise<void>((resolve) => {
        if (server.exitCode !== null || server.signalCode !== null) return resolve();
        server.once('exit', () => resolve());
        server.kill('SIGTERM');
      });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
