// Embedding spend: tokens are reserved before a provider request, against a
// generation's run budget (`reindex --budget`) and the collection's daily budget
// (SLUICE_EMBED_BUDGET_TOKENS), in one transaction, so concurrent workers never
// overshoot; a failed request gives its tokens back.
import { type Pool, withTransaction } from '../db/pool.ts';
import { SluiceError } from '../errors.ts';

export interface Spend {
  collection: string;
  generation: number;
  tokens: number;
  /** Tokens per collection per UTC day; undefined: no daily budget (spend is still recorded). */
  dailyBudget?: number | undefined;
}

/** Reserves tokens or throws BUDGET_EXCEEDED saying which budget and how to raise it. */
export async function reserveTokens(pool: Pool, s: Spend): Promise<void> {
  await withTransaction(pool, async (client) => {
    const run = await client.query<{ budget_tokens: string | null; tokens_embedded: string }>(
      `UPDATE sluice.collection_generations SET tokens_embedded = tokens_embedded + $3
       WHERE collection = $1 AND generation = $2
       RETURNING budget_tokens, tokens_embedded`,
      [s.collection, s.generation, s.tokens],
    );
    const r = run.rows[0];
    if (r && r.budget_tokens !== null && Number(r.tokens_embedded) > Number(r.budget_tokens)) {
      const used = Number(r.tokens_embedded) - s.tokens;
      throw new SluiceError(
        'BUDGET_EXCEEDED',
        `the run budget of generation ${s.generation} of "${s.collection}" is spent (${used} of ${r.budget_tokens} tokens, ` +
          `${s.tokens} more needed); raise it with \`sluice reindex --collection ${s.collection} --budget N\``,
      );
    }
    const day = await client.query<{ tokens: string }>(
      `INSERT INTO sluice.embed_spend (collection, day, tokens) VALUES ($1, (now() AT TIME ZONE 'utc')::date, $2)
       ON CONFLICT (collection, day) DO UPDATE SET tokens = sluice.embed_spend.tokens + EXCLUDED.tokens
       RETURNING tokens`,
      [s.collection, s.tokens],
    );
    const spent = Number(day.rows[0]?.tokens);
    if (s.dailyBudget !== undefined && spent > s.dailyBudget) {
      throw new SluiceError(
        'BUDGET_EXCEEDED',
        `today's embedding budget of "${s.collection}" is spent (${spent - s.tokens} of ${s.dailyBudget} tokens, ` +
          `${s.tokens} more needed); raise SLUICE_EMBED_BUDGET_TOKENS and restart workers, or wait for tomorrow (UTC)`,
      );
    }
  });
}

/** Gives reserved tokens back (the request they were for failed). */
export async function refundTokens(pool: Pool, s: Spend): Promise<void> {
  await pool.query(
    `UPDATE sluice.collection_generations SET tokens_embedded = GREATEST(0, tokens_embedded - $3)
     WHERE collection = $1 AND generation = $2`,
    [s.collection, s.generation, s.tokens],
  );
  await pool.query(
    `UPDATE sluice.embed_spend SET tokens = GREATEST(0, tokens - $2)
     WHERE collection = $1 AND day = (now() AT TIME ZONE 'utc')::date`,
    [s.collection, s.tokens],
  );
}

/** Tokens spent today per collection, for `status`. */
export async function spentToday(pool: Pool): Promise<Record<string, number>> {
  const { rows } = await pool.query<{ collection: string; tokens: string }>(
    `SELECT collection, tokens FROM sluice.embed_spend WHERE day = (now() AT TIME ZONE 'utc')::date`,
  );
  return Object.fromEntries(rows.map((r) => [r.collection, Number(r.tokens)]));
}

/** Live documents held by a spent budget (status stays processing), with one reason. */
export async function waitingOnBudget(
  pool: Pool,
  collection: string | null,
): Promise<{ documents: number; reason: string | null }> {
  const { rows } = await pool.query<{ n: string; msg: string | null }>(
    `SELECT count(*) AS n, max(error_message) AS msg FROM sluice.documents
     WHERE status = 'processing' AND error_code = 'BUDGET_EXCEEDED' AND ($1::text IS NULL OR collection = $1)`,
    [collection],
  );
  return { documents: Number(rows[0]?.n ?? 0), reason: rows[0]?.msg ?? null };
}
