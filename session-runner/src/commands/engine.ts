import { SpanKind, SpanStatusCode, type Tracer } from "@opentelemetry/api";
import { type BotSettings, COMMAND_HANDLED, type CommandHandledFields } from "@whatsdex/core";
import type { WAMessage } from "baileys";
import type { Logger } from "pino";
import { type MessageKey, type Translate, translator } from "../i18n/messages.ts";
import { type Identity, type Person, personOf, personOfIdentity } from "../identity/person.ts";
import { isPlatformMessageId } from "../transport/platform-message-id.ts";
import type { Command, CommandContext, CommandRegistry, CommandServices, ReplyOptions } from "./command.ts";
import { type InboundMessage, normalizeInbound } from "./inbound-message.ts";
import { type BucketSpec, Cooldowns, TokenBuckets } from "./limits.ts";
import { parseCommand } from "./parser.ts";
import { isAdminIn, isOwner } from "./permissions.ts";
import { RecentIds } from "./recent-ids.ts";
import { SenderCaps } from "./sender-caps.ts";

export type CommandOutcome =
  | "ok"
  | "error"
  | "unknown"
  | "disabled"
  | "wrong_chat"
  | "forbidden"
  | "bot_not_admin"
  | "banned"
  | "cooldown"
  | "rate_limited"
  | "quota"
  | "unavailable";

/** What a guard sees of a message (every user message, command or not, before any command). */
export interface GuardContext {
  message: InboundMessage;
  raw: WAMessage;
  sender: Person;
  self: Person;
  settings: BotSettings;
  services: Omit<CommandServices, "stats">;
  t: Translate;
  /** Owners and group admins are exempt from what guards enforce. */
  privileged(): Promise<boolean>;
  send(text: string, options?: ReplyOptions): Promise<void>;
}

/** Enforces a rule on every message (antilink); true when it dealt with the message and nothing else should. */
export type Guard = (context: GuardContext) => Promise<boolean>;

export interface CommandEngineOptions {
  commands: CommandRegistry;
  settings: () => BotSettings;
  /** The bot's send path: text into `chat`, quoting the message it answers unless `quoted` is absent. */
  send(chat: string, text: string, options: { quoted?: WAMessage; mentions?: string[] }): Promise<void>;
  /** Shows "typing…" in `chat` (a presence update). */
  typing?(chat: string): Promise<void>;
  /** What the person store knows of a JID. */
  identify(jid: string): Identity;
  /** The bot's own account (its PN and LID), once linked. */
  self(): Identity;
  services: Omit<CommandServices, "stats">;
  /** The tenant's messages per day (its plan): a command runs only if its answer fits. */
  allowance?: { take(): Promise<boolean>; readonly limit: number };
  /** Run on every user message before commands, in order. */
  guards?: readonly Guard[];
  tracer: Tracer;
  logger: Logger;
  version: string;
  /** Every command that reached a decision, for metrics. */
  onOutcome?: (command: string, outcome: CommandOutcome, seconds: number) => void;
  /** Token buckets per user, chat and bot (defaults suit one WhatsApp number). */
  limits?: Partial<Record<"user" | "chat" | "bot", BucketSpec>>;
  now?: () => number;
}

const DEFAULT_LIMITS: Record<"user" | "chat" | "bot", BucketSpec> = {
  user: { capacity: 6, refillPerSecond: 0.5 },
  chat: { capacity: 15, refillPerSecond: 1 },
  bot: { capacity: 60, refillPerSecond: 5 },
};

/** How often one person is told about the same refusal: one explanation, not one per message. */
const REFUSAL_REPEAT_MS = 30_000;
/** Redeliveries are recognised among the last 1,000 to 2,000 messages (RecentIds keeps two generations). */
const SEEN_IDS = 1_000;
/** The one label every unregistered command name is counted under. */
export const UNKNOWN_COMMAND = "unknown";

/**
 * One bot's command pipeline: normalise (ignoring what is not a user's message), drop duplicates,
 * parse by the bot's prefixes, then the checks — mode, enabled, chat type, owner/admin, rate limits,
 * cooldown — each refusing with a (rate-limited) reply, then the command itself in a span. Never
 * throws: whatever a message looks like, the worst outcome is a logged, counted error.
 */
export class CommandEngine {
  readonly #options: CommandEngineOptions;
  readonly #now: () => number;
  readonly #startedAt: number;
  readonly #seen = new RecentIds(SEEN_IDS);
  readonly #outcomes: Record<string, number> = {};
  readonly #cooldowns: Cooldowns;
  readonly #refusals: Cooldowns;
  readonly #perUser: TokenBuckets;
  readonly #perChat: TokenBuckets;
  readonly #perBot: TokenBuckets;
  readonly #senderCaps: SenderCaps;

  constructor(options: CommandEngineOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#startedAt = this.#now();
    const now = this.#now;
    this.#cooldowns = new Cooldowns({ now });
    this.#refusals = new Cooldowns({ now });
    const limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.#perUser = new TokenBuckets(limits.user, { now });
    this.#perChat = new TokenBuckets(limits.chat, { now });
    this.#perBot = new TokenBuckets(limits.bot, { max: 1, now });
    this.#senderCaps = new SenderCaps({ now });
  }

  async handle(raw: WAMessage): Promise<CommandOutcome | "ignored"> {
    try {
      return await this.#handle(raw);
    } catch (error) {
      this.#options.logger.error({ err: error }, "command pipeline failed");
      return "error";
    }
  }

  async #handle(raw: WAMessage): Promise<CommandOutcome | "ignored"> {
    const { logger } = this.#options;
    const receivedAt = this.#now();
    const normalized = normalizeInbound(raw);
    if ("ignored" in normalized) {
      logger.debug({ reason: normalized.ignored }, "message ignored");
      return "ignored";
    }
    const message = normalized.message;
    if (this.#seen.seen(`${message.chat}|${message.id}`)) return "ignored";

    const settings = this.#options.settings();
    const sender = personOf(message.sender, message.senderAlt, this.#options.identify(message.sender));
    const owner = isOwner(settings, sender);
    const self = personOfIdentity(this.#options.self());
    const t = translator(settings.language);
    const send = (text: string, options: ReplyOptions = {}) =>
      this.#options.send(message.chat, text, {
        ...(options.quote === false ? {} : { quoted: raw }),
        ...(options.mentions ? { mentions: options.mentions } : {}),
      });
    let admin: Promise<boolean> | undefined;
    const isAdmin = () => {
      admin ??= message.isGroup ? this.#isGroupAdmin(message.chat, sender) : Promise.resolve(false);
      return admin;
    };
    for (const guard of this.#options.guards ?? []) {
      const handled = await guard({
        message,
        raw,
        sender,
        self,
        settings,
        services: this.#options.services,
        t,
        privileged: async () => owner || (await isAdmin()),
        send,
      });
      if (handled) return "ignored";
    }

    // Whatever a bot on the platform sent (an AI answer, a tenant's API message) is never a command
    // for any of them. Guards above still applied: the mark can be forged, the exemption cannot.
    if (isPlatformMessageId(message.id)) {
      logger.debug("message from a bot on the platform: not a command");
      return "ignored";
    }
    const parsed = parseCommand(message.text, settings.prefixes);
    if (!parsed) return "ignored";
    const command = this.#options.commands.find(parsed.name);
    // Metrics and logs name only registered commands: anything typed would be an unbounded label set.
    const label = command?.name ?? UNKNOWN_COMMAND;
    // A banned person gets no answer at all (not even a refusal); group rules above still apply to them.
    if (this.#options.services.bans.has(sender) && !owner) {
      this.#count(label, "banned", receivedAt);
      return "banned";
    }
    // Modes decide who the bot answers at all; outside them it stays silent.
    if (settings.mode === "self" && !owner) return "ignored";
    if (settings.mode === "group" && !message.isGroup && !owner) return "ignored";

    const refuse = async (outcome: CommandOutcome, key: MessageKey, values: Record<string, string | number>) => {
      if (this.#refusals.hit(`${sender.id}|${key}`, REFUSAL_REPEAT_MS) === 0) await send(t(key, values));
      this.#count(label, outcome, receivedAt);
      return outcome;
    };

    const shown = `${parsed.prefix}${parsed.name}`;
    if (!command) {
      // In groups a stray ".something" is often not meant for the bot: stay silent there.
      if (message.isGroup) return "ignored";
      return refuse("unknown", "refuse.unknown", { command: shown, prefix: parsed.prefix });
    }
    const named = `${parsed.prefix}${command.name}`;
    if (settings.disabledCommands.includes(command.name))
      return refuse("disabled", "refuse.disabled", { command: named });
    if (!this.#options.commands.available(command))
      return refuse("unavailable", "refuse.unavailable", { command: named });
    if (command.chat === "group" && !message.isGroup)
      return refuse("wrong_chat", "refuse.group_only", { command: named });
    if (command.chat === "private" && message.isGroup)
      return refuse("wrong_chat", "refuse.private_only", { command: named });
    if (command.access === "owner" && !owner) return refuse("forbidden", "refuse.owner_only", { command: named });
    if (command.access === "admin" && !owner && !(await isAdmin())) {
      return refuse("forbidden", "refuse.admin_only", { command: named });
    }
    if (command.botAdmin && message.isGroup && !(await this.#isGroupAdmin(message.chat, self))) {
      return refuse("bot_not_admin", "refuse.bot_not_admin", { command: named });
    }
    if (!this.#perBot.take("bot") || !this.#perChat.take(message.chat) || !this.#perUser.take(sender.id)) {
      return refuse("rate_limited", "refuse.rate_limited", {});
    }
    const wait = this.#cooldowns.hit(`${sender.id}|${command.name}`, command.cooldownMs);
    if (wait > 0) return refuse("cooldown", "refuse.cooldown", { command: named, seconds: Math.ceil(wait / 1000) });
    // A sender's own daily caps come first, so a capped stranger draws nothing from the tenant's allowance.
    const ai = command.category === "ai" || command.category === "search";
    const capped = owner ? undefined : this.#senderCaps.take(sender.id, ai, settings.limits);
    if (capped?.tell) {
      return refuse("quota", capped.cap === "ai" ? "refuse.sender_ai" : "refuse.sender_commands", {
        limit: capped.limit,
      });
    }
    // Told once a day; answering every further attempt would spend the number on one stranger.
    if (capped) {
      this.#count(label, "quota", receivedAt);
      return "quota";
    }
    const { allowance } = this.#options;
    if (allowance && !(await allowance.take())) return refuse("quota", "refuse.quota", { limit: allowance.limit });

    const context: CommandContext = {
      message,
      raw,
      services: { ...this.#options.services, stats: () => ({ ...this.#outcomes }) },
      command: command.name,
      prefix: parsed.prefix,
      args: parsed.args,
      rest: parsed.rest,
      settings,
      language: settings.language,
      t,
      reply: send,
      sender,
      self,
      whois: (jid) => personOf(jid, null, this.#options.identify(jid)),
      typing: async () => {
        await this.#options.typing?.(message.chat).catch((error: unknown) => {
          this.#options.logger.debug({ err: error }, "could not show typing");
        });
      },
      commands: this.#options.commands,
      startedAt: this.#startedAt,
      receivedAt,
      now: this.#now,
      version: this.#options.version,
    };
    return this.#run(command, context, named);
  }

  async #run(command: Command, context: CommandContext, named: string): Promise<CommandOutcome> {
    const { tracer, logger } = this.#options;
    return tracer.startActiveSpan(
      `command ${command.name}`,
      { kind: SpanKind.SERVER, attributes: { "command.name": command.name, "command.group": context.message.isGroup } },
      async (span) => {
        let outcome: CommandOutcome = "ok";
        try {
          await command.run(context);
        } catch (error) {
          outcome = "error";
          span.recordException(error instanceof Error ? error : String(error));
          span.setStatus({ code: SpanStatusCode.ERROR });
          logger.error({ err: error, command: command.name }, "command failed");
          await context.reply(context.t("error.failed", { command: named })).catch(() => undefined);
        } finally {
          span.setAttribute("command.outcome", outcome);
          span.end();
          this.#count(command.name, outcome, context.receivedAt);
        }
        return outcome;
      },
    );
  }

  #count(command: string, outcome: CommandOutcome, receivedAt: number): void {
    this.#outcomes[outcome] = (this.#outcomes[outcome] ?? 0) + 1;
    const seconds = (this.#now() - receivedAt) / 1000;
    this.#options.onOutcome?.(command, outcome, seconds);
    // One line per command: what an operator (and the TUI's recent-commands pane) reads.
    const fields: CommandHandledFields = { command, outcome, ms: Math.round(seconds * 10_000) / 10 };
    this.#options.logger.info(fields, COMMAND_HANDLED);
  }

  async #isGroupAdmin(chat: string, person: Identity): Promise<boolean> {
    const group = await this.#options.services.group.metadata(chat).catch(() => undefined);
    return isAdminIn(group, person);
  }
}
