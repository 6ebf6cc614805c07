import type { EventSink, EventType, NewEvent } from "@whatsdex/core";

/**
 * An EventSink for tests that are not about webhooks: it keeps what the runner published, in order,
 * so a test can look, and says whether `subscribed` types were asked for. The real publisher (with
 * endpoints, documents and jobs) is exercised by the webhook tests.
 */
export class EventRecorder implements EventSink {
  readonly events: Array<NewEvent & { tenantId: string }> = [];
  /** Events published, kept or not. */
  published = 0;
  readonly #keep: boolean;

  /** `keep: false` counts without keeping (a memory benchmark must not measure the recorder). */
  constructor({ keep = true }: { keep?: boolean } = {}) {
    this.#keep = keep;
  }
  /** Types someone "listens" to: what makes the runner build costly payload parts (inbound media). */
  readonly listening = new Set<EventType>();

  async publish(tenantId: string, events: readonly NewEvent[]): Promise<void> {
    this.published += events.length;
    if (this.#keep) for (const event of events) this.events.push({ ...event, tenantId });
  }

  async subscribed(_tenantId: string, type: EventType): Promise<boolean> {
    return this.listening.has(type);
  }

  /** Tenants held by a running bot: what a real publisher would follow live. */
  readonly watched = new Map<string, number>();

  watchTenant(tenantId: string): () => void {
    this.watched.set(tenantId, (this.watched.get(tenantId) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.watched.set(tenantId, (this.watched.get(tenantId) ?? 1) - 1);
    };
  }

  of<T extends EventType>(type: T): Array<Extract<NewEvent, { type: T }>> {
    return this.events.filter(
      (event): event is Extract<NewEvent, { type: T }> & { tenantId: string } => event.type === type,
    );
  }
}
