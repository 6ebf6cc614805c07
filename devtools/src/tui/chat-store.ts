import { PhoneApiError, type PhoneClient, type PhoneEvent } from "../phone-client.ts";

export interface ChatLine {
  from: "you" | "bot" | "note";
  text: string;
  at: Date;
}

export interface ChatState {
  /** By the bot's number: the private chat between `me` and that bot. */
  chats: ReadonlyMap<string, readonly ChatLine[]>;
  /** Set while the phone API cannot be reached. */
  problem: string | undefined;
}

const KEEP = 200;
const RETRY_MS = 2_000;

/**
 * The chat pane's data, without ink: the phone `me`'s private chats with the bots,
 * through the phone API (the same one `npm run chat` uses). Lines the bots send arrive as events.
 */
export class ChatStore {
  readonly me: string;
  readonly #phones: PhoneClient;
  readonly #listeners = new Set<() => void>();
  #state: ChatState = { chats: new Map(), problem: undefined };
  #stop: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(phones: PhoneClient, me: string) {
    this.#phones = phones;
    this.me = me;
  }

  /** Listens to the bots' messages; while the phone API is away (the runner restarting), tries again. */
  async start(): Promise<void> {
    if (this.#closed) return;
    try {
      this.#stop = await this.#phones.events(
        (event) => this.#receive(event),
        () => this.#retry("the runner closed the stream"),
      );
      if (this.#closed) this.#stop();
      else this.#set({ problem: undefined });
    } catch (error) {
      this.#retry(describe(error));
    }
  }

  #retry(reason: string): void {
    if (this.#closed) return;
    this.#set({ problem: `the phone API is not reachable (${reason}); retrying` });
    this.#timer = setTimeout(() => void this.start(), RETRY_MS);
  }

  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  getState = (): ChatState => this.#state;

  async send(botNumber: string, text: string): Promise<void> {
    this.#append(botNumber, { from: "you", text, at: new Date() });
    try {
      await this.#phones.send({ to: botNumber, from: { number: this.me, name: "TUI" }, text });
    } catch (error) {
      this.#append(botNumber, { from: "note", text: `not sent: ${describe(error)}`, at: new Date() });
    }
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#stop?.();
  }

  #receive(event: PhoneEvent): void {
    if (event.number !== this.me) return;
    const text = event.text ?? "";
    const line = event.kind === "text" ? text : `[${event.kind}]${text ? ` ${text}` : ""}`;
    this.#append(event.bot, { from: "bot", text: line, at: new Date(event.at) });
  }

  #append(botNumber: string, line: ChatLine): void {
    const chats = new Map(this.#state.chats);
    chats.set(botNumber, [...(chats.get(botNumber) ?? []), line].slice(-KEEP));
    this.#set({ chats });
  }

  #set(patch: Partial<ChatState>): void {
    this.#state = { ...this.#state, ...patch };
    for (const listener of this.#listeners) listener();
  }
}

function describe(error: unknown): string {
  if (error instanceof PhoneApiError) return error.message;
  return error instanceof Error ? error.message : String(error);
}
