import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook, WebhookVerificationError } from "standardwebhooks";
import { z } from "zod";

/** What the receiver hands on: a request whose signature checked out, and its parsed body. */
export interface ReceivedWebhook {
  id: string;
  type: string;
  timestamp: string;
  data: unknown;
}

export interface WebhookReceiver {
  url: string;
  /** The endpoint's secret, once the API has made it (requests before that are refused). */
  setSecret(secret: string): void;
  close(): Promise<void>;
}

const bodySchema = z.object({ type: z.string(), timestamp: z.string(), data: z.unknown() });
const MAX_BODY = 256 * 1024;

function header(headers: IncomingHttpHeaders, name: string): string {
  const value = headers[name];
  return Array.isArray(value) ? (value[0] ?? "") : (value ?? "");
}

/**
 * `npm run dev`'s local webhook endpoint: what a tenant's own server does, verifying every request
 * with the official Standard Webhooks library (signature and the 5-minute timestamp tolerance)
 * before believing it. Verified events go to `onEvent`; anything else is answered 400 and reported.
 */
export async function startWebhookReceiver(options: {
  host?: string;
  port?: number | undefined;
  onEvent: (event: ReceivedWebhook) => void;
  onRejected?: (reason: string) => void;
}): Promise<WebhookReceiver> {
  let verifier: Webhook | undefined;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) request.destroy();
      else chunks.push(chunk);
    });
    request.on("end", () => {
      const payload = Buffer.concat(chunks).toString("utf8");
      const headers = {
        "webhook-id": header(request.headers, "webhook-id"),
        "webhook-timestamp": header(request.headers, "webhook-timestamp"),
        "webhook-signature": header(request.headers, "webhook-signature"),
      };
      try {
        if (!verifier) throw new WebhookVerificationError("no secret yet");
        const body = bodySchema.parse(verifier.verify(payload, headers));
        response.writeHead(204).end();
        options.onEvent({ id: headers["webhook-id"], ...body });
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        response.writeHead(400, { "content-type": "text/plain" }).end(`not verified: ${reason}`);
        options.onRejected?.(reason);
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address}:${port}/webhooks`,
    setSecret: (secret) => {
      verifier = new Webhook(secret);
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const messageData = z.object({
  from: z.object({ lid: z.string().nullable(), pn: z.string().nullable(), name: z.string().nullable() }).optional(),
  to: z.string().optional(),
  chat: z.string().optional(),
  state: z.string().optional(),
  status: z.string().optional(),
  content: z
    .object({ type: z.string(), text: z.string().optional(), caption: z.string().nullable().optional() })
    .optional(),
});

/** One line for the terminal: the type and what it is about, never the QR code itself. */
export function describeWebhook(event: ReceivedWebhook): string {
  const data = messageData.safeParse(event.data);
  if (!data.success) return `${event.type} (${event.id})`;
  const { from, to, state, status, content } = data.data;
  const who = from ? (from.name ?? from.pn ?? from.lid ?? "?") : undefined;
  const text = content?.text ?? content?.caption ?? undefined;
  const what = content ? (text ? `${content.type} "${text.slice(0, 60)}"` : content.type) : undefined;
  const parts = [
    who ? `from ${who}` : undefined,
    to ? `to ${to}` : undefined,
    what,
    state ? `state ${state}` : undefined,
    status ? `status ${status}` : undefined,
  ].filter((part): part is string => Boolean(part));
  return `${event.type} ${parts.join(", ")} ✓ signed`.trim();
}
