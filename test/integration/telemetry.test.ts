// needs a Postgres server: runs sluice in child processes on the test's database (the embedded one is single-process)
// Telemetry from workers: OpenTelemetry spans (one per stage run, with document
// id, stage and outcome) sent over real OTLP/HTTP to a receiver this test runs,
// and `sluice worker --metrics-port` serving the same /metrics as the dashboard.
import { copyFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../helpers/browser.ts';
import { spawnWorker, waitExit } from '../helpers/cli.ts';
import { FIXTURES, scratchDir } from '../helpers/corpus.ts';
import { promtoolCheck, sample } from '../helpers/metrics.ts';
import { startPipeline, type TestPipeline } from '../helpers/pipeline.ts';

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
}
interface OtlpSpan {
  name: string;
  attributes: { key: string; value: OtlpValue }[];
  status?: { code?: number };
}
interface OtlpBody {
  resourceSpans: {
    resource: { attributes: { key: string; value: OtlpValue }[] };
    scopeSpans: { spans: OtlpSpan[] }[];
  }[];
}

/** A minimal OTLP/HTTP (JSON) trace receiver: records every span it is sent. */
async function startReceiver(): Promise<{
  url: string;
  spans: OtlpSpan[];
  services: string[];
  server: Server;
}> {
  const spans: OtlpSpan[] = [];
  const services: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      if (
        req.method === 'POST' &&
        req.url === '/v1/traces' &&
        req.headers['content-type']?.includes('json')
      ) {
        const parsed = JSON.parse(body) as OtlpBody;
        for (const rs of parsed.resourceSpans) {
          const service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue;
          if (service) services.push(service);
          for (const ss of rs.scopeSpans) spans.push(...ss.spans);
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } else res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans, services, server };
}

function attr(span: OtlpSpan, key: string): string | undefined {
  const v = span.attributes.find((a) => a.key === key)?.value;
  return v === undefined ? undefined : String(v.stringValue ?? v.intValue);
}

describe('OpenTelemetry', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let p: TestPipeline;
  let scratch: ReturnType<typeof scratchDir>;

  beforeAll(async () => {
    receiver = await startReceiver();
    p = await startPipeline({ label: 'otel', env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url } });
    scratch = scratchDir('otel');
  });
  afterAll(async () => {
    await p?.close();
    receiver?.server.close();
    scratch?.cleanup();
  });

  it('exports one span per stage run with document id, stage and outcome', async () => {
    copyFileSync(join(FIXTURES, 'md/docling-wiki.md'), join(scratch.dir, 'wiki.md'));
    copyFileSync(join(FIXTURES, 'txt/deb-dedication-9.0.txt'), join(scratch.dir, 'dedication.txt'));
    copyFileSync(join(FIXTURES, 'pdf/pdfparse-invalid.pdf'), join(scratch.dir, 'broken.pdf'));
    const summary = await p.ingestAndWait([scratch.dir]);
    await p.workers?.close(); // flushes the spans still batched
    const byDoc = new Map<string, OtlpSpan[]>();
    for (const s of receiver.spans)
      byDoc.set(attr(s, 'sluice.document_id') ?? '?', [
        ...(byDoc.get(attr(s, 'sluice.document_id') ?? '?') ?? []),
        s,
      ]);
    expect(byDoc.size).toBe(3);
    const [broken] = await p.query<{ id: string }>(
      "SELECT id FROM sluice.documents WHERE uri LIKE '%broken.pdf'",
    );
    for (const id of summary.ids.map(String)) {
      const spans = byDoc.get(id) ?? [];
      if (id === broken?.id) {
        expect(spans.map((s) => [s.name, attr(s, 'sluice.outcome'), attr(s, 'sluice.error_code')])).toEqual([
          ['sluice.stage extract', 'failed', 'CORRUPT_FILE'],
        ]);
        expect(spans[0]?.status?.code).toBe(2); // ERROR
      } else {
        expect(spans.map((s) => attr(s, 'sluice.stage')).sort()).toEqual([
          'chunk',
          'embed',
          'extract',
          'load',
        ]);
        expect(spans.every((s) => attr(s, 'sluice.outcome') === 'done')).toBe(true);
      }
    }
    expect(new Set(receiver.services)).toEqual(new Set(['sluice']));
  });
});

describe('sluice worker --metrics-port', () => {
  let p: TestPipeline;
  let scratch: ReturnType<typeof scratchDir>;
  beforeAll(async () => {
    p = await startPipeline({ label: 'wmetrics', stages: [] });
    scratch = scratchDir('wmetrics');
  });
  afterAll(async () => {
    await p?.close();
    scratch?.cleanup();
  });

  it('serves the same Prometheus /metrics, and its stage counters count what it did', async () => {
    const port = await freePort();
    const child = await spawnWorker(p.env, ['--metrics-port', String(port)]);
    try {
      const scrape = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const before = await scrape();
      expect(promtoolCheck(before)).toEqual({ status: 0, output: '' });
      expect(sample(before, 'sluice_queue_workers', { stage: 'load' })).toBe(1);
      copyFileSync(join(FIXTURES, 'md/docling-wiki.md'), join(scratch.dir, 'wiki.md'));
      await p.ingest([scratch.dir]);
      const after = await until('the worker to load the document', async () => {
        const text = await scrape();
        return sample(text, 'sluice_stage_jobs_total', { stage: 'load', outcome: 'done' }) === 1
          ? text
          : undefined;
      });
      expect(promtoolCheck(after).status).toBe(0);
      expect(sample(after, 'sluice_stage_jobs_total', { stage: 'extract', outcome: 'done' })).toBe(1);
      expect(sample(after, 'sluice_freshness_seconds_count')).toBe(1);
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(404); // metrics only, no pages
    } finally {
      child.kill('SIGTERM');
      expect(await waitExit(child)).toBe(0);
    }
  });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
