import {
  type ControlAction,
  type ControlCustomer,
  type ControlEvent,
  type ControlResult,
  type ControlSubscription,
  controlCustomerListSchema,
  controlErrorSchema,
  controlEventListSchema,
  controlResultSchema,
  controlSubscriptionListSchema,
} from "@whatsdex/core/testing/stripe-control";
import type { z } from "zod";

/** The local Stripe answered with an error: the action does not apply (409), or nothing is there (404). */
export class ControlRefused extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** The local Stripe could not be reached at all. */
export class ControlUnreachable extends Error {}

/** The local Stripe's control API (`/_control/…`), every answer read through its schema in core. */
export class StripeControlClient {
  readonly url: string;

  constructor(url: string) {
    this.url = url.replace(/\/+$/, "");
  }

  async customers(tenantId: string): Promise<ControlCustomer[]> {
    const answer = await this.call("GET", `/_control/customers?tenantId=${encodeURIComponent(tenantId)}`);
    return parse(controlCustomerListSchema, answer).data;
  }

  async subscriptions(tenantId: string): Promise<ControlSubscription[]> {
    const answer = await this.call("GET", `/_control/subscriptions?tenantId=${encodeURIComponent(tenantId)}`);
    return parse(controlSubscriptionListSchema, answer).data;
  }

  async act(subscriptionId: string, action: ControlAction): Promise<ControlResult> {
    const answer = await this.call("POST", `/_control/subscriptions/${encodeURIComponent(subscriptionId)}/${action}`);
    return parse(controlResultSchema, answer);
  }

  async events(): Promise<{ data: ControlEvent[]; webhookUrl: string | null }> {
    return parse(controlEventListSchema, await this.call("GET", "/_control/events"));
  }

  private async call(method: string, path: string): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(`${this.url}${path}`, { method, signal: AbortSignal.timeout(10_000) });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new ControlUnreachable(`No local Stripe answers at ${this.url} (${reason}). Is npm run dev running?`);
    }
    const body: unknown = await response.json().catch(() => null);
    if (!response.ok) {
      const problem = controlErrorSchema.safeParse(body);
      throw new ControlRefused(
        response.status,
        problem.success ? problem.data.error.message : `HTTP ${response.status}`,
      );
    }
    return body;
  }
}

function parse<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const result = schema.safeParse(body);
  if (!result.success) throw new Error(`The local Stripe answered something unexpected: ${result.error.message}`);
  return result.data;
}
