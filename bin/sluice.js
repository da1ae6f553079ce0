#!/usr/bin/env node
// Launcher. In a checkout, Node (>= 22.18) runs the TypeScript sources directly, so
// a clone needs no build step and never runs a stale build. Installed as a package
// (under node_modules, where Node will not strip types), it runs the built dist/.
import { existsSync } from 'node:fs';

const src = new URL('../src/cli/main.ts', import.meta.url);
const dist = new URL('../dist/cli/main.js', import.meta.url);
const installed = import.meta.url.includes('/node_modules/');
const useSrc = existsSync(src) && !installed && process.features.typescript;
const entry = useSrc || !existsSync(dist) ? src : dist;
const { runMain } = await import(entry.href);
process.exitCode = await runMain(process.argv.slice(2));
