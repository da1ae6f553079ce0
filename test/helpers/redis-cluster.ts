// A private three-node Redis Cluster (no replicas) for tests: each node a
// redis-server child process in one temp dir, joined by `redis-cli --cluster create`.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './redis-server.ts';
import { makeCertificates } from './redis-tls.ts';
import { until } from './until.ts';

const run = promisify(execFile);

export interface TestCluster {
  ports: number[];
  /** With `tls`: the CA that signed the nodes' certificate. */
  caFile?: string;
  /** A startup node (sluice discovers the others). */
  url: string;
  close(): Promise<void>;
}

/** TLS only, between nodes too, with the certificates of makeCertificates(). */
function tlsArgs(dir: string, port: number): string[] {
  return [
    ...['--port', '0', '--tls-port', String(port), '--tls-cluster', 'yes', '--tls-auth-clients', 'no'],
    ...['--tls-cert-file', join(dir, 'server.pem'), '--tls-key-file', join(dir, 'server.key')],
    ...['--tls-ca-cert-file', join(dir, 'ca.pem')],
  ];
}

function startNode(dir: string, port: number, busPort: number, tls: boolean): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'redis-server',
      [
        ...(tls ? tlsArgs(dir, port) : ['--port', String(port)]),
        '--cluster-port',
        String(busPort),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        `nodes-${port}.conf`,
        '--dir',
        dir,
        '--appendonly',
        'yes',
        '--appendfilename',
        `appendonly-${port}.aof`,
        '--appenddirname',
        `aof-${port}`,
        '--save',
        '',
        '--maxmemory-policy',
        'noeviction',
      ],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    let out = '';
    child.stdout?.on('data', (d) => {
      out += d;
      if (out.includes('Ready to accept connections')) resolve(child);
    });
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`redis-server exited (${code}): ${out.slice(-500)}`)));
  });
}

/** Starts the nodes, joins them into one cluster and waits until every node reports it ok. */
export async function startTestCluster(opts: { nodes?: number; tls?: boolean } = {}): Promise<TestCluster> {
  const nodes = opts.nodes ?? 3;
  const tls = opts.tls === true;
  const dir = mkdtempSync(join(tmpdir(), 'sluice-cluster-'));
  if (tls) makeCertificates(dir);
  const cli = tls ? ['--tls', '--cacert', join(dir, 'ca.pem')] : [];
  const children: ChildProcess[] = [];
  const ports: number[] = [];
  const close = async () => {
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            c.once('exit', () => resolve());
            c.kill('SIGTERM');
          }),
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < nodes; i++) {
      // A port found free can be taken again before redis-server binds it (by a parallel
      // test, or by this node's other port): start again on new ports.
      for (let tries = 1; ; tries++) {
        const port = await freePort();
        let bus = await freePort();
        while (bus === port) bus = await freePort();
        try {
          children.push(await startNode(dir, port, bus, tls));
          ports.push(port);
          break;
        } catch (err) {
          if (tries >= 5 || !/Address already in use/.test((err as Error).message)) throw err;
        }
      }
    }
    const addrs = ports.map((p) => `127.0.0.1:${p}`);
    await run('redis-cli', [
      ...cli,
      '--cluster',
      'create',
      ...addrs,
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    for (const port of ports) {
      await until(`cluster node ${port} to report cluster_state:ok`, async () => {
        const { stdout } = await run('redis-cli', [...cli, '-p', String(port), 'cluster', 'info']);
        return stdout.includes('cluster_state:ok');
      });
    }
  } catch (err) {
    await close();
    throw err;
  }
  const url = `${tls ? 'rediss' : 'redis'}://127.0.0.1:${ports[0]}`;
  return { ports, url, close, ...(tls ? { caFile: join(dir, 'ca.pem') } : {}) };
}
