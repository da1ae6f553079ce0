// What `npm ci --omit=dev` (the Docker image) installs must be enough to run:
// every package src/ imports is a dependency, every required peer of a dependency
// is one too, and heavy optional providers are optional and imported lazily.
// The Node floor is the same in package.json, the launcher and ensure-node.sh.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ENV_KEYS, loadConfig } from '../../src/config.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  engines: { node: string };
  dependencies: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  devDependencies: Record<string, string>;
};
const runtime = new Set(Object.keys(pkg.dependencies));
const optional = new Set(Object.keys(pkg.optionalDependencies ?? {}));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}

/** Package name of a bare specifier ('@a/b/c' → '@a/b', 'x/y' → 'x'); undefined for node: and relative. */
function packageOf(spec: string): string | undefined {
  if (spec.startsWith('.') || spec.startsWith('node:')) return undefined;
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

interface Use {
  file: string;
  name: string;
  lazy: boolean;
}

function packageImports(): Use[] {
  const uses: Use[] = [];
  for (const file of sourceFiles(join(ROOT, 'src'))) {
    const text = readFileSync(file, 'utf8');
    // `import type` is erased: it needs nothing at run time.
    for (const m of text.matchAll(/^import (?!type )[^;]*? from '([^']+)'/gm)) {
      const name = packageOf(m[1]!);
      if (name) uses.push({ file, name, lazy: false });
    }
    for (const m of text.matchAll(/await import\('([^']+)'\)/g)) {
      const name = packageOf(m[1]!);
      if (name) uses.push({ file, name, lazy: true });
    }
  }
  return uses;
}

describe('production install', () => {
  it('every package src/ imports is a dependency (not dev-only)', () => {
    const missing = packageImports().filter((u) => !runtime.has(u.name) && !optional.has(u.name));
    // domhandler comes with cheerio and is only used for its types at run time.
    expect(missing.filter((u) => u.name !== 'domhandler')).toEqual([]);
  });

  it('optional providers are imported lazily, only inside the function that needs them', () => {
    const eager = packageImports().filter((u) => optional.has(u.name) && !u.lazy);
    expect(eager).toEqual([]);
    expect(optional.has('@huggingface/transformers')).toBe(true);
    expect(runtime.has('@huggingface/transformers')).toBe(false);
  });

  it("each dependency's required peers are dependencies too (legacy-peer-deps does not install them)", () => {
    const missing: string[] = [];
    for (const dep of runtime) {
      const file = join(ROOT, 'node_modules', dep, 'package.json');
      if (!existsSync(file)) continue;
      const meta = JSON.parse(readFileSync(file, 'utf8')) as {
        peerDependencies?: Record<string, string>;
        peerDependenciesMeta?: Record<string, { optional?: boolean }>;
      };
      for (const peer of Object.keys(meta.peerDependencies ?? {})) {
        if (meta.peerDependenciesMeta?.[peer]?.optional) continue;
        if (!runtime.has(peer)) missing.push(`${dep} needs ${peer}`);
      }
    }
    expect(missing).toEqual([]);
  });
});

describe('Node version floor', () => {
  const floor = /NODE_FLOOR = '(\d+\.\d+)'/.exec(readFileSync(join(ROOT, 'bin', 'sluice.js'), 'utf8'))?.[1];

  it('is 22.18 (type stripping) in package.json, the launcher, ensure-node.sh and the README', () => {
    expect(floor).toBe('22.18');
    expect(pkg.engines.node).toBe(`>=${floor}`);
    const ensure = readFileSync(join(ROOT, 'scripts', 'ensure-node.sh'), 'utf8');
    expect(ensure).toContain('[ "$minor" -lt 18 ]');
    expect(ensure).not.toContain('22.12');
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain(`Node.js ≥ ${floor}`);
    expect(readme).not.toMatch(/22\.12/);
  });

  it('an older Node gets one line naming both versions and exit 2, not a stack trace', () => {
    // Pretend to be 22.12, the version the README used to promise.
    const fake = 'data:text/javascript,Object.defineProperty(process.versions,"node",{value:"22.12.0"})';
    const res = spawnSync(process.execPath, ['--import', fake, join(ROOT, 'bin', 'sluice.js'), '--help'], {
      encoding: 'utf8',
    });
    expect(res.status).toBe(2);
    expect(res.stdout).toBe('');
    expect(res.stderr).toBe('sluice needs Node >= 22.18; you have v22.12.0; see README "Quickstart"\n');
  });

  it('the real system Node 20, where there is one, gets the same line', () => {
    const old = '/usr/bin/node';
    const version = existsSync(old) ? spawnSync(old, ['--version'], { encoding: 'utf8' }).stdout.trim() : '';
    const major = Number(/^v(\d+)/.exec(version)?.[1] ?? 99);
    if (major >= 22) return; // no older Node on this machine: the faked test above covers the check
    const res = spawnSync(old, [join(ROOT, 'bin', 'sluice.js'), 'status'], { encoding: 'utf8' });
    expect(res.status).toBe(2);
    expect(res.stderr).toBe(`sluice needs Node >= 22.18; you have ${version}; see README "Quickstart"\n`);
  });

  it('--version and -V print the package version', { timeout: 60_000 }, () => {
    for (const flag of ['--version', '-V']) {
      const res = spawnSync(process.execPath, [join(ROOT, 'bin', 'sluice.js'), flag], { encoding: 'utf8' });
      expect(res.status).toBe(0);
      expect(res.stdout.trim()).toBe(pkg.version);
    }
  });
});

describe('docker-compose.yml', () => {
  const compose = (file: string) =>
    parseYaml(readFileSync(join(ROOT, file), 'utf8')) as {
      services: Record<string, { ports?: string[]; environment?: Record<string, string> }>;
    };

  it('publishes nothing by default, and the example override only on loopback', () => {
    for (const [name, svc] of Object.entries(compose('docker-compose.yml').services)) {
      expect({ name, ports: svc.ports ?? [] }).toEqual({ name, ports: [] });
    }
    for (const svc of Object.values(compose('docker-compose.override.example.yml').services)) {
      for (const port of svc.ports ?? []) expect(port).toMatch(/^127\.0\.0\.1:/);
    }
  });

  it('passes every embedder setting through to the worker', () => {
    const env = compose('docker-compose.yml').services.worker?.environment ?? {};
    const embedderVars = Object.keys(ENV_KEYS).filter((k) =>
      /^(SLUICE_EMBED|OPENAI_|OLLAMA_|SLUICE_LOCAL_|SLUICE_MODEL_)/.test(k),
    );
    expect(embedderVars.length).toBeGreaterThan(8);
    for (const name of embedderVars) expect(env[name], name).toContain(`\${${name}`);
  });

  it('gives a stopping worker longer than an extraction may take, plus time to store and close', () => {
    const worker = compose('docker-compose.yml').services.worker as {
      stop_grace_period?: string;
      environment?: Record<string, string>;
    };
    // `${SLUICE_STOP_GRACE_PERIOD:-150s}`: the default applies unless the operator sets both.
    const grace = /^(?:\$\{SLUICE_STOP_GRACE_PERIOD:-)?(?:(\d+)m)?(?:(\d+)s)?\}?$/.exec(
      worker.stop_grace_period ?? '',
    );
    expect(grace, worker.stop_grace_period).not.toBeNull();
    const seconds = Number(grace?.[1] ?? 0) * 60 + Number(grace?.[2] ?? 0);
    const extractSeconds = loadConfig({ env: {}, cwd: '/' }).extractTimeoutMs / 1000;
    expect(seconds).toBeGreaterThanOrEqual(extractSeconds + 30);
    // The worker sees the same extraction limit the grace period was sized for.
    expect(worker.environment?.SLUICE_EXTRACT_TIMEOUT_MS).toContain('${SLUICE_EXTRACT_TIMEOUT_MS');
  });
});
