// The re-index part of `sluice status`: builds in progress (generations beside
// the active one with work left) and embedding held by a spent budget, with why.
import type { Config } from '../config.ts';
import type { Pool } from '../db/pool.ts';
import { spentToday, waitingOnBudget } from '../loaders/budget.ts';
import { listGenerations } from '../loaders/generations.ts';
import { type GenerationJson, generationJson, generationLine } from './generation-view.ts';

export interface BuildStatus {
  /** Generations that are not active and not retired: builds, and rollback targets. */
  builds: GenerationJson[];
  budget: {
    dailyTokens: number | null;
    spentToday: Record<string, number>;
    /** Live documents waiting on the budget, and why. */
    waiting: number;
    reason: string | null;
  };
}

export async function buildStatus(
  pool: Pool,
  config: Config,
  collection: string | null,
): Promise<BuildStatus> {
  const builds = await listGenerations(pool, collection ?? undefined, { besideActive: true });
  const waiting = await waitingOnBudget(pool, collection);
  return {
    builds: builds.map((g) => generationJson(g, config)),
    budget: {
      dailyTokens: config.embedBudgetTokens ?? null,
      spentToday: await spentToday(pool),
      waiting: waiting.documents,
      reason: waiting.reason,
    },
  };
}

export function buildStatusLines(s: BuildStatus): string[] {
  const out: string[] = [];
  if (s.builds.length > 0) out.push('generations beside the active one (sluice generations):');
  for (const b of s.builds) out.push(`  ${b.collection}${generationLine(b)}`);
  if (s.budget.waiting > 0)
    out.push(`waiting on the embedding budget: ${s.budget.waiting} document(s): ${s.budget.reason}`);
  if (s.budget.dailyTokens !== null) {
    const spent = Object.entries(s.budget.spentToday)
      .map(([c, n]) => `${c} ${n}`)
      .join(', ');
    out.push(
      `embedding budget: ${s.budget.dailyTokens} tokens per collection per day; today: ${spent || 'none'}`,
    );
  }
  return out;
}
