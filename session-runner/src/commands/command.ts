import type { BotRef, BotSettings, BotSettingsPatch, MediaStore } from "@whatsdex/core";
import type { aiJobs, JobQueue, mediaJobs } from "@whatsdex/core/jobs";
import type { GroupMetadata, ParticipantAction, WAMessage, WAMessageKey } from "baileys";
import type { GroupSettings } from "../bot/group-settings.ts";
import type { Language, Translate } from "../i18n/messages.ts";
import type { Person } from "../identity/person.ts";
import type { WikiProvider } from "../search/wiki-provider.ts";
import type { MediaLimits } from "../transport/baileys/media-download.ts";
import type { ParticipantResult } from "../transport/transport.ts";
import type { InboundMessage } from "./inbound-message.ts";

export type Category = "info" | "maker" | "ai" | "search" | "group" | "owner";
export const categories: readonly Category[] = ["info", "maker", "ai", "search", "group", "owner"];

/** What group commands ask of WhatsApp, through the bot's current connection. */
export interface GroupActions {
  /** Cached metadata (kept current by group events). */
  metadata(jid: string): Promise<GroupMetadata>;
  participants(jid: string, users: string[], action: ParticipantAction): Promise<ParticipantResult[]>;
  inviteCode(jid: string): Promise<string | undefined>;
  revokeInvite(jid: string): Promise<string | undefined>;
  setSubject(jid: string, subject: string): Promise<void>;
  setDescription(jid: string, description: string): Promise<void>;
  /** Deletes a message for everyone (someone else's needs the bot to be an admin). */
  deleteMessage(jid: string, key: WAMessageKey): Promise<void>;
}

/** Who is banned from this bot (persisted by `BanList`); `by` is the owner's person id. */
export interface Bans {
  has(person: Pick<Person, "lid" | "pn" | "id">): boolean;
  /** False when they were banned already. */
  ban(person: Person, by: string): Promise<boolean>;
  /** False when they were not banned. */
  unban(person: Person, by: string): Promise<boolean>;
}

/** This bot's settings per group (welcome, antilink, warnings; persisted by `GroupSettingsStore`). */
export interface GroupSettingsStorePort {
  get(groupJid: string): Promise<GroupSettings>;
  update(groupJid: string, change: (current: GroupSettings) => GroupSettings): Promise<GroupSettings>;
}

/** What the AI remembers of each chat (persisted by `ChatMemory`): `clear` forgets, true if there was anything. */
export interface ChatMemoryPort {
  clear(bot: BotRef, chat: string): Promise<boolean>;
}

/**
 * What commands reach beyond the chat: the bot, media handed to jobs, the job queues. The stores
 * are ports (the Firestore classes implement them), so the engine runs against any implementation.
 */
export interface CommandServices {
  bot: BotRef;
  group: GroupActions;
  /** This bot's per-group settings (welcome, antilink) and its banned users. */
  groupSettings: GroupSettingsStorePort;
  bans: Bans;
  /** What the AI remembers of each chat (`clear` forgets). */
  aiMemory: ChatMemoryPort;
  /** Encyclopedia lookups (`wiki`). */
  wiki: WikiProvider;
  media: MediaStore;
  /** Absent on a runner without job workers. */
  queues: { media?: JobQueue<typeof mediaJobs>; ai?: JobQueue<typeof aiJobs> };
  /** The bytes of a media message (the socket's download): MediaDownloadError past `limits` or when it cannot be had. */
  download(message: WAMessage, limits: MediaLimits): Promise<Buffer>;
  /** Owners' changes to the bot's settings, written to its document (validated; throws a ValidationError). */
  updateSettings(patch: BotSettingsPatch, owner: Person): Promise<BotSettings>;
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
  /** A text reply in the same chat, through the bot's send path: quoting the command unless told not to. */
  reply(text: string, options?: ReplyOptions): Promise<void>;
  /** The sender as the bot knows them, LID first: what bans, warnings and cooldowns are keyed by. */
  sender: Person;
  /** The bot's own WhatsApp identity (to find itself among a group's participants). */
  self: Person;
  /** Shows "typing…" in the chat while slow work (an AI answer) is under way; best effort. */
  typing(): Promise<void>;
  /** Anyone by JID (a mention, a quoted author), as the person store knows them. */
  whois(jid: string): Person;
  commands: CommandRegistry;
  /** When the bot's runtime started (for `uptime`). */
  startedAt: number;
  receivedAt: number;
  now(): number;
  version: string;
}

export interface ReplyOptions {
  /** People to notify: each `@digits` in the text, or everyone silently (hidetag). */
  mentions?: string[];
  quote?: boolean;
}

/**
 * A backend a command cannot work without, configured per runner (Gemini needs `GEMINI_API_KEY`).
 * Where one is missing, its commands are refused with a clear answer and left out of the menu.
 */
export type Backend = "gemini";

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
  /** The bot itself must be a group admin (WhatsApp refuses the change otherwise). */
  botAdmin: boolean;
  /** Per user, per command. */
  cooldownMs: number;
  /** Backends the command needs (none for most). */
  needs: readonly Backend[];
  run(context: CommandContext): Promise<void>;
}

type Defaults = "aliases" | "examples" | "chat" | "access" | "botAdmin" | "cooldownMs" | "needs";

export function defineCommand(command: Omit<Command, Defaults> & Partial<Pick<Command, Defaults>>): Command {
  return {
    aliases: [],
    examples: [],
    chat: "any",
    access: "everyone",
    botAdmin: false,
    cooldownMs: 2_000,
    needs: [],
    ...command,
  };
}

/** Commands by name and alias, case-insensitively; a duplicate name is a programming error, caught at start. */
export class CommandRegistry {
  readonly #byName = new Map<string, Command>();
  readonly #all: Command[] = [];
  readonly #unavailable: ReadonlySet<Backend>;

  /** `unavailable`: the backends this runner lacks (their commands are refused and not listed). */
  constructor(commands: readonly Command[], options: { unavailable?: Iterable<Backend> } = {}) {
    this.#unavailable = new Set(options.unavailable ?? []);
    for (const command of commands) {
      for (const name of [command.name, ...command.aliases].map((n) => n.toLowerCase())) {
        if (this.#byName.has(name)) throw new Error(`two commands are called "${name}"`);
        this.#byName.set(name, command);
      }
      this.#all.push(command);
    }
  }

  /** Whether every backend the command needs is configured on this runner. */
  available(command: Command): boolean {
    return command.needs.every((backend) => !this.#unavailable.has(backend));
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
