// OpenTelemetry traces, opt-in (OTEL_EXPORTER_OTLP_ENDPOINT): one span per stage
// run with the document id, stage and outcome, exported over OTLP/HTTP. The
// OpenTelemetry libraries load only when tracing is switched on.
import { addStageRunSink } from './telemetry.ts';

export interface Tracing {
  /** Exports the spans still buffered and stops listening. */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  /** OTLP base URL (OTEL_EXPORTER_OTLP_ENDPOINT); spans go to `<endpoint>/v1/traces`. */
  endpoint: string;
  serviceName?: string;
  /** How long spans are batched before export (default 2 s). */
  exportDelayMs?: number;
}

/** The traces URL for an OTLP base endpoint, as the OpenTelemetry spec derives it. */
export function tracesUrl(endpoint: string): string {
  return `${endpoint.replace(/\/+$/, '')}/v1/traces`;
}

export async function startTracing(opts: TracingOptions): Promise<Tracing> {
  const [
    { BasicTracerProvider, BatchSpanProcessor },
    { OTLPTraceExporter },
    { resourceFromAttributes },
    api,
  ] = await Promise.all([
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/api'),
  ]);
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': opts.serviceName ?? 'sluice' }),
    spanProcessors: [
      new BatchSpanProcessor(new OTLPTraceExporter({ url: tracesUrl(opts.endpoint) }), {
        scheduledDelayMillis: opts.exportDelayMs ?? 2000,
      }),
    ],
  });
  const tracer = provider.getTracer('sluice');
  const remove = addStageRunSink((run) => {
    const span = tracer.startSpan(`sluice.stage ${run.stage}`, {
      kind: api.SpanKind.CONSUMER,
      attributes: {
        'sluice.stage': run.stage,
        'sluice.attempt': run.attempt,
        ...(run.documentId === undefined ? {} : { 'sluice.document_id': run.documentId }),
      },
    });
    return (end) => {
      span.setAttribute('sluice.outcome', end.outcome);
      if (end.errorCode) span.setAttribute('sluice.error_code', end.errorCode);
      if (end.outcome === 'failed' || end.outcome === 'retry') {
        span.setStatus({ code: api.SpanStatusCode.ERROR, message: end.errorCode ?? 'failed' });
      }
      span.end();
    };
  });
  return {
    async shutdown() {
      remove();
      await provider.shutdown().catch(() => undefined);
    },
  };
}
