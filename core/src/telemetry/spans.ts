import { type Attributes, type Span, SpanStatusCode, type Tracer } from "@opentelemetry/api";

/**
 * Runs `work` inside an active span that records a thrown error and ends however `work` finishes,
 * so a forgotten `span.end()` can never leak a span.
 */
export async function inSpan<T>(
  tracer: Tracer,
  name: string,
  attributes: Attributes,
  work: (span: Span) => Promise<T>,
): Promise<T> {
  return tracer.startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      throw error;
    } finally {
      span.end();
    }
  });
}
