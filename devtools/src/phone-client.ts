import {
  PhoneApiError,
  type PhoneEvent,
  type PhoneMessage,
  phoneBotsSchema,
  phoneEventSchema,
  phoneProblemSchema,
} from "@whatsdex/core/phone-api";
import { z } from "zod";

export { PhoneApiError, type PhoneEvent, type PhoneMessage };

/**
 * A client of the simulator's phone API (see simulator-phones.ts): what `npm run chat`, the TUI's
 * chat pane, `npm run dev`'s demo linking and the end-to-end test use to be WhatsApp users.
 */
export class PhoneClient {
  readonly #base: string;

  constructor(baseUrl: string) {
    this.#base = baseUrl.replace(/\/$/, "");
  }

  async bots() {
    return phoneBotsSchema.parse(await this.#call("GET", "/v1/bots"));
  }

  /** Scans the QR code with the phone whose number is `number`: the bot links to it. */
  async link(qr: string, number: string): Promise<void> {
    await this.#call("POST", "/v1/link", { qr, number });
  }

  async createGroup(subject: string, participants: Array<{ number: string; admin?: "admin" | "superadmin" | null }>) {
    return z.object({ jid: z.string() }).parse(await this.#call("POST", "/v1/groups", { subject, participants }));
  }

  async send(message: PhoneMessage) {
    return z.object({ id: z.string(), chat: z.string() }).parse(await this.#call("POST", "/v1/messages", message));
  }

  async media(url: string): Promise<Buffer> {
    const response = await fetch(`${this.#base}/v1/media?url=${encodeURIComponent(url)}`);
    if (!response.ok) throw await this.#error(response);
    return Buffer.from(await response.arrayBuffer());
  }

  /**
   * Calls `listener` with every message the bots send, until the returned function is called;
   * `onClose` when the stream ends by itself (the runner restarted or stopped).
   */
  async events(listener: (event: PhoneEvent) => void, onClose?: () => void): Promise<() => void> {
    const abort = new AbortController();
    const response = await fetch(`${this.#base}/v1/events`, { signal: abort.signal });
    if (!response.ok || !response.body) throw await this.#error(response);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    void (async () => {
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
        if (done) {
          if (!abort.signal.aborted) onClose?.();
          return;
        }
        buffer += value;
        let end = buffer.indexOf("\n\n");
        while (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block
            .split("\n")
            .filter((line) => line.startsWith("data: "))
            .map((line) => line.slice(6))
            .join("\n");
          if (data) listener(phoneEventSchema.parse(JSON.parse(data)));
          end = buffer.indexOf("\n\n");
        }
      }
    })();
    return () => abort.abort();
  }

  async #call(method: "GET" | "POST", path: string, body?: unknown): Promise<unknown> {
    const response = await fetch(`${this.#base}${path}`, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
    });
    if (!response.ok) throw await this.#error(response);
    return response.json();
  }

  async #error(response: Response): Promise<PhoneApiError> {
    const problem = phoneProblemSchema.safeParse(await response.json().catch(() => undefined));
    return problem.success
      ? new PhoneApiError(response.status, problem.data.code, problem.data.message)
      : new PhoneApiError(response.status, "unknown", `the phone API answered ${response.status}`);
  }
}
