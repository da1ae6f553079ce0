// `npm run test:chaos`: the full chaos run (issue 5). Exits 1 when the chaos
// database differs from the clean run or any invariant is broken.
import { formatResult, runChaos } from './driver.ts';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};

const result = await runChaos({
  docs: arg('docs', 320),
  workers: arg('workers', 3),
  durationMs: arg('seconds', 300) * 1000,
  minKills: arg('kills', 50),
  redisRestarts: arg('redis-restarts', 3),
  pgTerminations: arg('pg-terminations', 3),
  pgStops: arg('pg-stops', 3),
  pgDownMs: arg('pg-down-seconds', 8) * 1000,
});
process.stdout.write(`${formatResult(result)}\n`);
process.exitCode = result.ok ? 0 : 1;
