import { Readable } from "node:stream";
import type { Logger, StripeWebhookHandler } from "@whatsdex/core";
import type { Request, Response } from "express";

/** Stripe's events are small; a body far larger is not Stripe's. */
const MAX_EVENT_BYTES = 1_048_576;

/**
 * The `stripeWebhook` function's request handling: the raw bytes the platform kept (`req.rawBody`;
 * a parsed and re-serialised body would not verify) go to the handler with the signature header.
 * Without Stripe configured it answers 503, so Stripe keeps the events until it is.
 */
export function stripeWebhookRequestHandler(
  handler: StripeWebhookHandler | null,
  logger: Logger,
): (req: Request, res: Response) => Promise<void> {
  return async (req, res) => {
    if (req.method !== "POST") {
      res.status(405).set("Allow", "POST").json({ received: false, error: "Stripe sends events with POST." });
      return;
    }
    if (!handler) {
      logger.error("a Stripe event arrived but STRIPE_SECRET_KEY or STRIPE_WEBHOOK_SECRET is not set");
      res.status(503).json({ received: false, error: "Billing is not configured here." });
      return;
    }
    const raw = await rawBodyOf(req);
    if (raw === null) {
      res.status(413).json({ received: false, error: `The body is larger than ${MAX_EVENT_BYTES} bytes.` });
      return;
    }
    const result = await handler.handle(raw, req.get("stripe-signature"));
    res.status(result.status).json(result.body);
  };
}

/** `req.rawBody` under Cloud Functions; read from the stream when served by plain Express (tests). */
async function rawBodyOf(req: Request): Promise<Buffer | null> {
  const kept: unknown = Reflect.get(req, "rawBody");
  if (Buffer.isBuffer(kept)) return kept.length > MAX_EVENT_BYTES ? null : kept;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of Readable.from(req)) {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += bytes.length;
    if (size > MAX_EVENT_BYTES) return null;
    chunks.push(bytes);
  }
  return Buffer.concat(chunks);
}
