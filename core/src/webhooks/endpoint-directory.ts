import { LRUCache } from "lru-cache";
import { type EventType, explicitOnlyEventTypes } from "../events/schema.ts";
import type { Logger } from "../logging/logger.ts";
import type { WebhookRefs } from "./webhook-refs.ts";

/** An enabled endpoint, as the publisher needs it: who it is and what it hears. */
export interface Subscriber {
  webhookId: string;
  events: readonly string[];
}

export interface EndpointDirectoryOptions {
  refs: WebhookRefs;
  logger: Logger;
  /** How long a tenant's endpoints are trusted before they are read again: 20 s. */
  ttlMs?: number;
  /** Tenants kept at once (least recently used go first): 5,000. */
  maxTenants?: number;
}

/** Whether an endpoint's filter takes the type: `*` is every type but the explicit-only ones. */
export function subscribes(events: readonly string[], type: EventType): boolean {
  if (events.includes(type)) return true;
  return events.includes("*") && !explicitOnlyEventTypes.has(type);
}

/**
 * Which of a tenant's enabled endpoints hear which events. A busy bot publishes many events a
 * second; the endpoints change rarely, so they are read once per tenant per TTL (one query of the
 * tenant's webhooks collection, concurrent callers sharing it), and a change made elsewhere (the API)
 * is seen within the TTL.
 */
export class EndpointDirectory {
  readonly #cache: LRUCache<string, readonly Subscriber[]>;
  readonly #refs: WebhookRefs;
  readonly #logger: Logger;
  /** Tenants followed live (a runner holding their bots): a registration is heard at once, not after the TTL. */
  readonly #watched = new Map<string, { holders: number; subscribers?: readonly Subscriber[]; stop: () => void }>();

  constructor(options: EndpointDirectoryOptions) {
    const { refs, logger } = options;
    this.#refs = refs;
    this.#logger = logger;
    this.#cache = new LRUCache<string, readonly Subscriber[]>({
      max: options.maxTenants ?? 5_000,
      ttl: options.ttlMs ?? 20_000,
      fetchMethod: async (tenantId) => {
        const snapshot = await refs.endpoints(tenantId).get();
        return this.#subscribersOf(tenantId, snapshot.docs);
      },
    });
  }

  #subscribersOf(
    tenantId: string,
    docs: ReadonlyArray<{ id: string; data(): { enabled: boolean; events: readonly string[] } }>,
  ): Subscriber[] {
    const subscribers: Subscriber[] = [];
    for (const doc of docs) {
      // data() parses: a malformed endpoint is logged and skipped, not a stop to every event.
      try {
        const endpoint = doc.data();
        if (endpoint.enabled) subscribers.push({ webhookId: doc.id, events: endpoint.events });
      } catch (error) {
        this.#logger.warn({ err: error, tenantId, webhookId: doc.id }, "webhook endpoint unreadable; skipped");
      }
    }
    return subscribers;
  }

  async subscribers(tenantId: string, type: EventType): Promise<Subscriber[]> {
    const all = this.#watched.get(tenantId)?.subscribers ?? (await this.#cache.fetch(tenantId)) ?? [];
    return all.filter((s) => subscribes(s.events, type));
  }

  /**
   * Follows a tenant's endpoints with a listener while anyone holds it (one listener per tenant,
   * however many of its bots this process runs): reads only on change, and no event is published to
   * a stale list. Returns the release; the listener ends with the last holder.
   */
  watch(tenantId: string): () => void {
    let entry = this.#watched.get(tenantId);
    if (!entry) {
      const created: { holders: number; subscribers?: readonly Subscriber[]; stop: () => void } = {
        holders: 0,
        stop: () => {},
      };
      created.stop = this.#refs.endpoints(tenantId).onSnapshot(
        (snapshot) => {
          created.subscribers = this.#subscribersOf(tenantId, snapshot.docs);
        },
        (error) => {
          // Back to the TTL cache: events are still published, a change is seen within the TTL.
          this.#logger.warn({ err: error, tenantId }, "lost the webhook endpoints listener");
          delete created.subscribers;
          if (this.#watched.get(tenantId) === created) this.#watched.delete(tenantId);
        },
      );
      this.#watched.set(tenantId, created);
      entry = created;
    }
    const held = entry;
    held.holders += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      held.holders -= 1;
      if (held.holders > 0) return;
      held.stop();
      if (this.#watched.get(tenantId) === held) this.#watched.delete(tenantId);
      this.#cache.delete(tenantId);
    };
  }

  /** Drops what is known of a tenant (after a change made in this process). */
  forget(tenantId: string): void {
    this.#cache.delete(tenantId);
  }
}
