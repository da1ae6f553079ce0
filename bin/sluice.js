#!/usr/bin/env node
// Launcher. In a checkout, Node (>= 22.18) runs the TypeScript sources directly, so
// a clone needs no build step and never runs a stale build. Installed as a package
// (under node_modules, where Node will not strip types), it runs the built dist/.
// Keep this file plain JavaScript that old Node versions can parse: it must be able
// to say "too old" instead of failing on a .ts import with a stack trace.
import { existsSync } from 'node:fs';

// Type stripping (running src/*.ts) is on by default from Node 22.18. Keep in step
// with package.json "engines" and scripts/ensure-node.sh (test/unit/packaging.test.ts checks).
const NODE_FLOOR = '22.18';
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
const [needMajor = 0, needMinor = 0] = NODE_FLOOR.split('.').map(Number);
if (major < needMajor || (major === needMajor && minor < needMinor)) {
  process.stderr.write(
    `sluice needs Node >= ${NODE_FLOOR}; you have v${process.versions.node}; see README "Quickstart"\n`,
  );
  process.exit(2);
}

const src = new URL('../src/cli/main.ts', import.meta.url);
const dist = new URL('../dist/cli/main.js', import.meta.url);
const installed = import.meta.url.includes('/node_modules/');
const useSrc = existsSync(src) && !installed && process.features.typescript;
const entry = useSrc || !existsSync(dist) ? src : dist;
const { runMain } = await import(entry.href);
process.exitCode = await runMain(process.argv.slice(2));
