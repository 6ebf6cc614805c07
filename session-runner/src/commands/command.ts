import type { BotRef, BotSettings, BotSettingsPatch, MediaStore } from "@whatsdex/core";
import type { aiJobs, JobQueue, mediaJobs } from "@whatsdex/core/jobs";
import type { WAMessage } from "baileys";
import type { Language, Translate } from "./catalog.ts";
import type { InboundMessage } from "./inbound/inbound-message.ts";

export type Category = "info" | "maker" | "ai" | "search" | "group" | "owner";
export const categories: readonly Category[] = ["info", "maker", "ai", "search", "group", "owner"];

/** What commands reach beyond the chat: the bot, media handed to jobs, the job queues. */
export interface CommandServices {
  bot: BotRef;
  media: MediaStore;
  /** Absent on a runner without job workers. */
  queues: { media?: JobQueue<typeof mediaJobs>; ai?: JobQueue<typeof aiJobs> };
  /** The bytes of a media message (the socket's download). */
  download(message: WAMessage): Promise<Buffer>;
  /** Owners' changes to the bot's settings, written to its document (validated; throws a ValidationError). */
  updateSettings(patch: BotSettingsPatch): Promise<BotSettings>;
  /** What the engine has decided since the bot's runtime started, by outcome. */
  stats(): Readonly<Record<string, number>>;
}

export interface CommandContext {
  message: InboundMessage;
  /** The message as Baileys delivered it (to download its media, or quote it). */
  raw: WAMessage;
  services: CommandServices;
  /** The command's own name (not the alias typed). */
  command: string;
  prefix: string;
  args: string[];
  rest: string;
  settings: BotSettings;
  language: Language;
  t: Translate;
  /** A text reply in the same chat, quoting the command, through the bot's send path. */
  reply(text: string): Promise<void>;
  commands: CommandRegistry;
  /** When the bot's runtime started (for `uptime`). */
  startedAt: number;
  receivedAt: number;
  now(): number;
  version: string;
}

export interface Command {
  name: string;
  aliases: readonly string[];
  category: Category;
  /** `{prefix}` is the prefix the user typed. */
  usage: string;
  examples: readonly string[];
  summary: Readonly<Record<Language, string>>;
  chat: "any" | "group" | "private";
  access: "everyone" | "admin" | "owner";
  /** Per user, per command. */
  cooldownMs: number;
  run(context: CommandContext): Promise<void>;
}

type Defaults = "aliases" | "examples" | "chat" | "access" | "cooldownMs";

export function defineCommand(command: Omit<Command, Defaults> & Partial<Pick<Command, Defaults>>): Command {
  return { aliases: [], examples: [], chat: "any", access: "everyone", cooldownMs: 2_000, ...command };
}

/** Commands by name and alias, case-insensitively; a duplicate name is a programming error, caught at start. */
export class CommandRegistry {
  readonly #byName = new Map<string, Command>();
  readonly #all: Command[] = [];

  constructor(commands: readonly Command[]) {
    for (const command of commands) {
      for (const name of [command.name, ...command.aliases].map((n) => n.toLowerCase())) {
        if (this.#byName.has(name)) throw new Error(`two commands are called "${name}"`);
        this.#byName.set(name, command);
      }
      this.#all.push(command);
    }
  }

  find(name: string): Command | undefined {
    return this.#byName.get(name.toLowerCase());
  }

  get all(): readonly Command[] {
    return this.#all;
  }

  inCategory(category: Category): Command[] {
    return this.#all.filter((command) => command.category === category);
  }
}
