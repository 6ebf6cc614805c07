import {
  PhoneApiError,
  type PhoneEvent,
  type PhoneMessage,
  phoneEventSchema,
  phoneProblemSchema,
} from "@whatsdex/core/phone-api";
import { z } from "zod";

const sentSchema = z.object({ id: z.string().min(1), chat: z.string() });

/** A bot's answer to one message, and how long it took from the request to the event. */
export interface Answer {
  event: PhoneEvent;
  ms: number;
}

/**
 * People on the local WhatsApp server, driven only through its phone API (the process boundary the
 * benchmark keeps): link a bot by its QR code, send a phone's message, and wait for the bot's answer
 * on the event stream — matched by the id it quotes, as the command engine quotes what it answers.
 */
export class PhoneDriver {
  readonly #base: string;
  readonly #abort = new AbortController();
  /** Answers waited for, by the id of the message they quote. */
  readonly #waiting = new Map<string, (event: PhoneEvent | undefined) => void>();
  /** Answers that came before their request's response named the id (the bot can be that quick). */
  readonly #early = new Map<string, PhoneEvent>();
  /** Each number's first request: the API makes the phone then, and two at once would both try (500). */
  readonly #made = new Map<string, Promise<unknown>>();
  #unquoted = 0;
  /** Why the event stream ended, if it did: no answer can arrive after that. */
  #broken: Error | undefined;

  private constructor(base: string) {
    this.#base = base.replace(/\/$/, "");
  }

  /** Resolves once the event stream is open, so that no answer to a later message is missed. */
  static async open(phonesUrl: string): Promise<PhoneDriver> {
    const driver = new PhoneDriver(phonesUrl);
    await driver.#listen();
    return driver;
  }

  /** Events that quoted nothing: not answers to this driver's messages. */
  get unquoted(): number {
    return this.#unquoted;
  }

  close(): void {
    this.#abort.abort();
  }

  /** The phone with `number` scans `qr` (made, with its account, on first use): the bot links to it. */
  async link(qr: string, number: string): Promise<void> {
    await this.#call("/v1/link", { qr, number });
  }

  /** Sends `message` and waits for the bot's answer to it; undefined when none came within `timeoutMs`. */
  async roundTrip(message: PhoneMessage, timeoutMs: number): Promise<Answer | undefined> {
    if (this.#broken) throw this.#broken;
    const started = performance.now();
    const sent = this.#send(message);
    const { id } = sentSchema.parse(await sent);
    const early = this.#early.get(id);
    if (early) {
      this.#early.delete(id);
      return { event: early, ms: performance.now() - started };
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        resolve(undefined);
      }, timeoutMs);
      this.#waiting.set(id, (event) => {
        clearTimeout(timer);
        resolve(event && { event, ms: performance.now() - started });
      });
    });
  }

  #send(message: PhoneMessage): Promise<unknown> {
    const number = message.from.number;
    const first = this.#made.get(number);
    if (first) return first.then(() => this.#call("/v1/messages", message));
    const made = this.#call("/v1/messages", message);
    // Later requests only need the phone to exist: a failed first one leaves them to fail on their own.
    this.#made.set(
      number,
      made.catch(() => undefined),
    );
    return made;
  }

  #deliver(event: PhoneEvent): void {
    if (event.quotedId === undefined) {
      this.#unquoted += 1;
      return;
    }
    const waiter = this.#waiting.get(event.quotedId);
    if (waiter) {
      this.#waiting.delete(event.quotedId);
      waiter(event);
    } else {
      this.#early.set(event.quotedId, event);
    }
  }

  async #listen(): Promise<void> {
    const response = await fetch(`${this.#base}/v1/events`, { signal: this.#abort.signal });
    if (!response.ok || !response.body) throw await this.#error(response);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    let connected: (() => void) | undefined;
    const opened = new Promise<void>((resolve) => {
      connected = resolve;
    });
    const read = async () => {
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
        if (done) {
          if (!this.#abort.signal.aborted) throw new Error("the phone API closed its event stream");
          return;
        }
        buffer += value;
        let end = buffer.indexOf("\n\n");
        while (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          // The server's first block is the `: connected` comment: the stream is registered.
          connected?.();
          const data = block
            .split("\n")
            .filter((line) => line.startsWith("data: "))
            .map((line) => line.slice(6))
            .join("\n");
          if (data) this.#deliver(phoneEventSchema.parse(JSON.parse(data)));
          end = buffer.indexOf("\n\n");
        }
      }
    };
    read().catch((error: unknown) => {
      // A stream that ended or an event off the contract: every answer still awaited is lost.
      this.#broken = error instanceof Error ? error : new Error(String(error));
      for (const waiter of this.#waiting.values()) waiter(undefined);
      this.#waiting.clear();
      connected?.();
    });
    await opened;
    if (this.#broken) throw this.#broken;
  }

  async #call(path: string, body: unknown): Promise<unknown> {
    const response = await fetch(`${this.#base}${path}`, {
      method: "POST",
      body: JSON.stringify(body),
      headers: { "content-type": "application/json" },
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
