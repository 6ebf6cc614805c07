import { context, propagation, type Tracer, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  InMemorySpanExporter,
  ParentBasedSampler,
  SimpleSpanProcessor,
  type SpanProcessor,
  TraceIdRatioBasedSampler,
} from "@opentelemetry/sdk-trace-base";
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from "@opentelemetry/semantic-conventions";

/**
 * `cloud-trace`: batches spans to Cloud Trace (production). `memory`: keeps them in an in-memory
 * exporter that tests read. `none`: spans are created (so trace ids reach logs) but go nowhere.
 */
export type TraceExporterKind = "cloud-trace" | "memory" | "none";

export interface TracingOptions {
  serviceName: string;
  version: string;
  exporter: TraceExporterKind;
  projectId?: string | undefined;
  /** Fraction of new traces sampled; a sampled parent (incoming traceparent) is always followed. */
  sampleRatio?: number;
}

export interface Tracing {
  tracer: Tracer;
  /** Present only for the `memory` exporter. */
  memoryExporter: InMemorySpanExporter | undefined;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

/**
 * Registers the tracer provider, the AsyncLocalStorage context manager and W3C propagation as the
 * process globals (OpenTelemetry's API is global by design) and hands the tracer back so callers
 * pass it explicitly. Call once per process, from the composition root.
 */
export async function startTracing(options: TracingOptions): Promise<Tracing> {
  const memoryExporter = options.exporter === "memory" ? new InMemorySpanExporter() : undefined;
  const spanProcessors: SpanProcessor[] = [];
  if (memoryExporter) spanProcessors.push(new SimpleSpanProcessor(memoryExporter));
  if (options.exporter === "cloud-trace") {
    // Loaded only here: the exporter pulls in gRPC, which tests and local runs never need.
    const { TraceExporter } = await import("@google-cloud/opentelemetry-cloud-trace-exporter");
    const exporter = new TraceExporter(options.projectId ? { projectId: options.projectId } : {});
    spanProcessors.push(new BatchSpanProcessor(exporter));
  }

  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: options.serviceName,
      [ATTR_SERVICE_VERSION]: options.version,
    }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(options.sampleRatio ?? 1) }),
    spanProcessors,
  });

  // The API keeps the first registration; a second one (tests that build two apps) must not tear
  // down the first one's globals when it shuts down.
  const contextManager = new AsyncLocalStorageContextManager();
  const ownsContext = context.setGlobalContextManager(contextManager.enable());
  if (!ownsContext) contextManager.disable();
  const ownsPropagator = propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const ownsProvider = trace.setGlobalTracerProvider(provider);

  return {
    tracer: provider.getTracer(options.serviceName, options.version),
    memoryExporter,
    forceFlush: () => provider.forceFlush(),
    async shutdown() {
      await provider.shutdown();
      if (ownsProvider) trace.disable();
      if (ownsPropagator) propagation.disable();
      if (ownsContext) context.disable();
    },
  };
}

/** The exporter a deployable uses when TRACE_EXPORTER is not set. */
export function defaultTraceExporter(nodeEnv: "development" | "test" | "production"): TraceExporterKind {
  if (nodeEnv === "production") return "cloud-trace";
  return nodeEnv === "test" ? "memory" : "none";
}
