#!/usr/bin/env node
// Launcher: runs the built CLI when present, otherwise the TypeScript sources
// directly (Node >= 22.18 strips types natively, so a clone needs no build step).
import { existsSync } from 'node:fs';

const built = new URL('../dist/cli/main.js', import.meta.url);
const entry = existsSync(built) ? built : new URL('../src/cli/main.ts', import.meta.url);
const { runMain } = await import(entry.href);
process.exitCode = await runMain(process.argv.slice(2));
