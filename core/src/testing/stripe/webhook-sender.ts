import Stripe from "stripe";
import { STRIPE_API_VERSION } from "../../billing/stripe-client.ts";
import { newId } from "./state.ts";

/** One POST of an event to the webhook URL. */
export interface DeliveryAttempt {
  /** Wall-clock time of the attempt (ms), not the server's clock: signatures are checked against it. */
  at: number;
  /** The receiver's HTTP status; 0 when it could not be reached or did not answer in time. */
  status: number;
  error: string | null;
  /** A `redeliver()`, outside the retry schedule. */
  redelivery: boolean;
}

/** An event as it was sent (its payload is fixed when it happens, like Stripe's snapshot events). */
export interface LocalStripeEvent {
  id: string;
  type: Stripe.Event.Type;
  created: number;
  /** Events with the same key (the subscription's id, else the customer's) are delivered in order. */
  orderKey: string;
  /** The JSON body posted, byte for byte. */
  payload: string;
  state: "pending" | "delivered" | "failed";
  attempts: DeliveryAttempt[];
}

export interface NewEvent {
  type: Stripe.Event.Type;
  created: number;
  object: unknown;
  previousAttributes?: Record<string, unknown>;
  /** The API request that caused it; null for what Stripe does by itself (renewals, the hosted pages). */
  request: { id: string; idempotencyKey: string | null } | null;
  orderKey: string;
}

export interface WebhookSenderOptions {
  secret: string;
  url: string | undefined;
  deliver: "auto" | "manual";
  /** Waits before each retry of a failed delivery; the event fails after the last. */
  retryDelaysMs: readonly number[];
  timeoutMs: number;
}

/**
 * Keeps every event and posts it, signed as Stripe signs (`Stripe-Signature`, made by the SDK's own
 * helper so it verifies with `constructEventAsync`), to the webhook URL: at least once, retried on a
 * non-2xx or a network error, in order per subscription. In `manual` mode nothing is posted until
 * `flush()`, so a test can reorder or replay events itself. Nothing here throws into its callers'
 * flow: delivery failures are recorded on the event.
 */
export class WebhookSender {
  readonly events: LocalStripeEvent[] = [];
  private url: string | undefined;
  private readonly options: WebhookSenderOptions;
  private readonly scheduled = new Set<string>();
  private readonly chains = new Map<string, Promise<void>>();
  private readonly sleepers = new Set<{ timer: NodeJS.Timeout; wake: () => void }>();
  private readonly aborts = new Set<AbortController>();
  private stopped = false;

  constructor(options: WebhookSenderOptions) {
    this.options = options;
    this.url = options.url;
  }

  get webhookUrl(): string | undefined {
    return this.url;
  }

  add(event: NewEvent): LocalStripeEvent {
    const id = newId("evt");
    const payload = JSON.stringify(
      {
        id,
        object: "event",
        api_version: STRIPE_API_VERSION,
        created: event.created,
        data: {
          object: event.object,
          ...(event.previousAttributes ? { previous_attributes: event.previousAttributes } : {}),
        },
        livemode: false,
        pending_webhooks: 1,
        request: { id: event.request?.id ?? null, idempotency_key: event.request?.idempotencyKey ?? null },
        type: event.type,
      },
      null,
      2,
    );
    const record: LocalStripeEvent = {
      id,
      type: event.type,
      created: event.created,
      orderKey: event.orderKey,
      payload,
      state: "pending",
      attempts: [],
    };
    this.events.push(record);
    if (this.options.deliver === "auto") this.schedule(record);
    return record;
  }

  setUrl(url: string): void {
    this.url = url;
    if (this.options.deliver === "auto") for (const event of this.events) this.schedule(event);
  }

  /** Delivers every event not yet handed to delivery, and settles when no delivery is in flight. */
  async flush(): Promise<void> {
    if (!this.url) throw new Error("The local Stripe has no webhook URL yet: call setWebhookUrl first.");
    for (const event of this.events) this.schedule(event);
    await this.idle();
  }

  /** Settles when no delivery is scheduled or in flight (retries included). */
  async idle(): Promise<void> {
    while (this.chains.size > 0) await Promise.all([...this.chains.values()]);
  }

  /** Posts an event once more, now, whatever its state (Stripe delivers at least once). */
  async redeliver(eventId: string): Promise<DeliveryAttempt> {
    const event = this.events.find((e) => e.id === eventId);
    if (!event) throw new Error(`No such event: ${eventId}`);
    const attempt = await this.post(event, true);
    if (attempt.status >= 200 && attempt.status < 300) event.state = "delivered";
    return attempt;
  }

  /** The `Stripe-Signature` header for a payload, now (for tests that post events themselves). */
  sign(payload: string): Promise<string> {
    return Stripe.webhooks.generateTestHeaderStringAsync({ payload, secret: this.options.secret });
  }

  stop(): void {
    this.stopped = true;
    for (const sleeper of this.sleepers) {
      clearTimeout(sleeper.timer);
      sleeper.wake();
    }
    this.sleepers.clear();
    for (const controller of this.aborts) controller.abort();
  }

  private schedule(event: LocalStripeEvent): void {
    if (!this.url || this.stopped || event.state !== "pending" || this.scheduled.has(event.id)) return;
    this.scheduled.add(event.id);
    const previous = this.chains.get(event.orderKey) ?? Promise.resolve();
    const next: Promise<void> = previous
      .then(() => this.deliverWithRetries(event))
      .catch(() => undefined)
      .finally(() => {
        if (this.chains.get(event.orderKey) === next) this.chains.delete(event.orderKey);
      });
    this.chains.set(event.orderKey, next);
  }

  private async deliverWithRetries(event: LocalStripeEvent): Promise<void> {
    const delays = this.options.retryDelaysMs;
    for (let attempt = 0; attempt <= delays.length; attempt++) {
      // A redelivery may have got it through meanwhile.
      if (this.stopped || event.state !== "pending") return;
      const result = await this.post(event, false);
      if (result.status >= 200 && result.status < 300) {
        event.state = "delivered";
        return;
      }
      const delay = delays[attempt];
      if (delay !== undefined) await this.sleep(delay);
    }
    if (!this.stopped && event.state === "pending") event.state = "failed";
  }

  private async post(event: LocalStripeEvent, redelivery: boolean): Promise<DeliveryAttempt> {
    const attempt: DeliveryAttempt = { at: Date.now(), status: 0, error: null, redelivery };
    const controller = new AbortController();
    this.aborts.add(controller);
    try {
      const url = this.url;
      if (!url) throw new Error("no webhook URL");
      const response = await fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json; charset=utf-8",
          "stripe-signature": await this.sign(event.payload),
          "user-agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        },
        body: event.payload,
        signal: AbortSignal.any([controller.signal, AbortSignal.timeout(this.options.timeoutMs)]),
      });
      attempt.status = response.status;
      // Read (and drop) the answer so the connection is reused.
      await response.arrayBuffer().catch(() => undefined);
    } catch (error) {
      attempt.status = 0;
      attempt.error = error instanceof Error ? error.message : String(error);
    } finally {
      this.aborts.delete(controller);
    }
    event.attempts.push(attempt);
    return attempt;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const sleeper = {
        timer: setTimeout(() => {
          this.sleepers.delete(sleeper);
          resolve();
        }, ms),
        wake: resolve,
      };
      this.sleepers.add(sleeper);
    });
  }
}
