import type { HeldLease, OutboxItem, OutboxService, WriteFence } from "@whatsdex/core";
import type { Logger } from "pino";

export type CommandItem = Exclude<OutboxItem, { kind: "send" }>;

/** What each dashboard command does to the bot's session. */
export interface CommandHandlers {
  connect(item: Extract<OutboxItem, { kind: "connect" }>): Promise<void>;
  disconnect(): Promise<void>;
  logout(): Promise<void>;
}

export interface CommandExecutorOptions {
  outbox: OutboxService;
  lease: HeldLease;
  fence: WriteFence;
  handlers: CommandHandlers;
  logger: Logger;
}

export type CommandOutcome = "done" | "failed" | "skipped";

/**
 * Runs connect / disconnect / logout items. Unlike a send, a command is safe to run again (each
 * handler moves the session to a state, it does not add anything), so a command whose runner died
 * mid-way is simply claimed and run by the next owner.
 */
export class CommandExecutor {
  readonly #options: CommandExecutorOptions;

  constructor(options: CommandExecutorOptions) {
    this.#options = options;
  }

  async run(itemId: string): Promise<{ outcome: CommandOutcome; item?: CommandItem }> {
    const { outbox, lease, fence, handlers, logger } = this.#options;
    const claim = await outbox.claim(lease, fence, itemId);
    if (claim.kind !== "run") return { outcome: "skipped" };
    const item = claim.item;
    if (item.kind === "send") throw new Error(`${itemId} is a message, not a command`);
    try {
      if (item.kind === "connect") await handlers.connect(item);
      else if (item.kind === "disconnect") await handlers.disconnect();
      else await handlers.logout();
    } catch (error) {
      if (error instanceof Error && error.name === "LeaseLostError") throw error;
      logger.warn({ err: error, itemId, kind: item.kind }, "command failed");
      await outbox.complete(lease, fence, itemId, {
        status: "failed",
        error: { code: "command_failed", message: error instanceof Error ? error.message : String(error) },
      });
      return { outcome: "failed", item };
    }
    await outbox.complete(lease, fence, itemId, { status: "done" });
    return { outcome: "done", item };
  }

  /** For a bot that is no longer wanted: a connect that never ran is closed as superseded. */
  async supersede(itemId: string): Promise<CommandOutcome> {
    const { outbox, lease, fence } = this.#options;
    const claim = await outbox.claim(lease, fence, itemId);
    if (claim.kind !== "run") return "skipped";
    await outbox.complete(lease, fence, itemId, {
      status: "failed",
      error: { code: "superseded", message: "The bot was stopped before this connect request ran." },
    });
    return "failed";
  }
}
