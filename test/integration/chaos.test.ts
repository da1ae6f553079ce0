// needs a Postgres server: kills sessions with pg_terminate_backend
// Bounded chaos run inside `npm test` (issue 5, #16): ≥ 3 `sluice worker` processes,
// ≥ 10 SIGKILLs, two Redis crash+restarts (appendonly), two rounds of
// pg_terminate_backend, two Postgres server stops (a cluster of its own, down 4 s
// each) and an embedding server answering 429s and 5xx; the final
// database must equal a clean run of the same corpus. The full run is `npm run test:chaos`.
import { describe, expect, it } from 'vitest';
import { formatResult, runChaos } from '../chaos/driver.ts';

describe('chaos (bounded)', () => {
  it('every document ends exactly as in a clean run despite kills, Redis and Postgres restarts and provider errors', async () => {
    const result = await runChaos({
      docs: 60,
      workers: 3,
      durationMs: 50_000,
      minKills: 10,
      redisRestarts: 2,
      pgTerminations: 2,
      pgStops: 2,
      pgDownMs: 4000,
      log: () => undefined,
    });
    process.stderr.write(`${formatResult(result)}\n`);
    expect(result.problems).toEqual([]);
    expect(result.kills).toBeGreaterThanOrEqual(10);
    expect(result.redisRestarts).toBeGreaterThanOrEqual(2);
    expect(result.pgTerminations).toBeGreaterThanOrEqual(2);
    expect(result.pgStops).toBe(2);
    expect(result.stormsAnd5xx.r429).toBeGreaterThan(0);
    expect(result.chaos.statuses.failed).toBeGreaterThan(0); // the bad files, each with a code
    expect(result.chaos.statuses.deleted).toBeGreaterThan(0);
    // At-least-once processing: killed work was redone, yet the index equals the clean run's.
    expect(result.chaos.stageRuns).toBeGreaterThanOrEqual(result.clean.stageRuns);
    // About 75–130 s on an idle 2-core machine; no hard timing assertion, since a
    // loaded CI box slows every process here alike.
  }, 420_000);
});
