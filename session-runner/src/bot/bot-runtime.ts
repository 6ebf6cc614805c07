import { trace } from "@opentelemetry/api";
import type { BotRef, BotSettings, EventSink, HeldLease, OutboxItem, WriteFence } from "@whatsdex/core";
import {
  CampaignDelivery,
  CampaignRuns,
  GovernorStore,
  type MediaStore,
  MessageStore,
  OutboxService,
  UsageService,
} from "@whatsdex/core";
import { jidNormalizedUser, NO_MESSAGE_FOUND_ERROR_TEXT, proto, type WAMessage } from "baileys";
import type { Firestore } from "firebase-admin/firestore";
import type { Logger } from "pino";
import type { CommandRegistry, CommandServices, GroupActions } from "../commands/command.ts";
import { CommandEngine, type CommandOutcome } from "../commands/engine.ts";
import { optOutGuard } from "../commands/opt-out.ts";
import { antilinkGuard } from "../group-rules/antilink-guard.ts";
import { type WelcomeDeps, welcomeNewMembers } from "../group-rules/welcome-members.ts";
import { translator } from "../i18n/messages.ts";
import { personOfIdentity, userOf } from "../identity/person.ts";
import type { WikiProvider } from "../search/wiki-provider.ts";
import { platformMessageId } from "../transport/platform-message-id.ts";
import { watchSignals } from "../transport/signals.ts";
import type { Transport, TransportSocket } from "../transport/transport.ts";
import type { FirestoreAuthState } from "./auth-state/firestore-auth-state.ts";
import { BanList } from "./ban-list.ts";
import { type CampaignClock, realClock } from "./campaigns/campaign-clock.ts";
import { CampaignDriver, type CampaignSource } from "./campaigns/campaign-driver.ts";
import { ChatMemory } from "./chat-memory.ts";
import { BotEvents } from "./events/bot-events.ts";
import type { InboundMedia } from "./events/message-events.ts";
import { GroupCache } from "./group-cache.ts";
import { GroupSettingsStore } from "./group-settings.ts";
import { MessageAllowance } from "./message-allowance.ts";
import { MessageLog } from "./message-log.ts";
import { CommandExecutor } from "./outbox/command-executor.ts";
import { DeliveryReceipts } from "./outbox/delivery-receipts.ts";
import { OutboxConsumer } from "./outbox/outbox-consumer.ts";
import { QuotableMessages } from "./outbox/quotable-messages.ts";
import { SendEvents } from "./outbox/send-events.ts";
import { SendExecutor } from "./outbox/send-executor.ts";
import type { PersonStore } from "./person-store.ts";
import type { BackoffOptions } from "./session/backoff.ts";
import { BotSession, type LinkMethod } from "./session/bot-session.ts";
import { lruCacheStore } from "./session/cache-store.ts";
import { RecentMessages } from "./session/recent-messages.ts";
import { StatusWriter } from "./session/status-writer.ts";
import { SettingsWriter } from "./settings-writer.ts";
import { WhatsAppSignals } from "./whatsapp-signals.ts";

/** What the runtime reports to the instance's metrics. */
export interface RuntimeEvents {
  state?: (state: string) => void;
  decryptFailure?: () => void;
  outboxPickup?: (kind: OutboxItem["kind"], lagSeconds: number) => void;
  command?: (command: string, outcome: CommandOutcome, seconds: number) => void;
}

export interface BotRuntimeOptions {
  db: Firestore;
  bot: BotRef;
  lease: HeldLease;
  fence: WriteFence;
  auth: FirestoreAuthState;
  people: PersonStore;
  transport: Transport;
  link: LinkMethod;
  /** The commands WhatsApp users can send (shared by every bot of the instance). */
  commands: CommandRegistry;
  /** Job queues commands hand work to. */
  queues: CommandServices["queues"];
  wiki: WikiProvider;
  /** The bot's settings as last read from its document. */
  settings: BotSettings;
  version: string;
  logger: Logger;
  backoff: BackoffOptions;
  /** A send with no answer for this long counts as indeterminate. */
  sendTimeoutMs: number;
  /** How long a message waits for a disconnected bot before it fails. */
  sendMaxWaitMs: number;
  events?: RuntimeEvents;
  /** Where the bot's happenings go as events for the tenant's webhooks. */
  eventSink: EventSink;
  /** Media in Cloud Storage (what jobs and the API hand over to send). */
  media: MediaStore;
  /** Keeps a received message's media bytes for `GET …/bots/{b}/media/{id}` (when someone listens). */
  keepInboundMedia?: (mediaId: string, media: { mimetype: string; data: Buffer }) => Promise<void>;
  /** The bot's campaigns, as the instance's CampaignWatch follows them. */
  campaigns: CampaignSource;
  /** The campaign driver's time (pacing windows, waits); a test moves it forward instead of sleeping. */
  campaignClock?: CampaignClock;
  now?: () => number;
}

/** Received media kept for events: larger files are named in the event without bytes. */
const INBOUND_MEDIA_MAX_BYTES = 16 * 1024 * 1024;

/** Kept small on purpose: one runner holds hundreds of bots (see docs/benchmarks). */
const RECENT_MESSAGES = { max: 256, maxBytes: 256 * 1024, ttlMs: 60 * 60_000 };
/** Received messages an API send may quote or react to (the bot's own sends are in RECENT_MESSAGES). */
const QUOTABLE_RECEIVED = { max: 128, maxBytes: 128 * 1024, ttlMs: 60 * 60_000 };
const GROUPS = { max: 200, ttlMs: 10 * 60_000 };
const RETRY_COUNTERS = { max: 1_000, ttlMs: 60 * 60_000 };
/** Identity changes are written in batches, not per message. */
const PEOPLE_FLUSH_MS = 15_000;

/** A decrypt failure reaches us as a CIPHERTEXT stub; "absent from node" is an unencrypted placeholder, not a failure. */
function isDecryptFailure(message: WAMessage): boolean {
  return (
    message.messageStubType === proto.WebMessageInfo.StubType.CIPHERTEXT &&
    message.messageStubParameters?.[0] !== NO_MESSAGE_FOUND_ERROR_TEXT
  );
}

/**
 * Everything one owned bot needs while this instance holds its lease: the connection state
 * machine, its outbox, its identity store, group metadata and recent sends (for Baileys' retries),
 * wired to each new socket. The supervisor creates one per claimed bot and stops it before the
 * lease is given back.
 */
export class BotRuntime {
  readonly bot: BotRef;
  readonly session: BotSession;
  readonly people: PersonStore;
  readonly groups: GroupCache;
  readonly recent: RecentMessages;
  readonly #options: BotRuntimeOptions;
  readonly #consumer: OutboxConsumer;
  readonly #campaigns: CampaignDriver;
  readonly #engine: CommandEngine;
  readonly bans: BanList;
  readonly #groupSettings: GroupSettingsStore;
  readonly #welcome: WelcomeDeps;
  readonly #events: BotEvents;
  readonly #messageLog: MessageLog;
  readonly #sendEvents: SendEvents;
  readonly #receipts: DeliveryReceipts;
  readonly #quotable: QuotableMessages;
  /** WhatsApp's signals about the number, kept in the governor state; a campaign driver may listen too. */
  readonly signals: WhatsAppSignals;
  readonly #now: () => number;
  #settings: BotSettings;
  #lastFrameAt: number | undefined;
  #flushTimer: NodeJS.Timeout | undefined;
  #stopped = false;
  #unwatchEndpoints: (() => void) | undefined;

  constructor(options: BotRuntimeOptions) {
    const { db, bot, lease, fence, auth, logger } = options;
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.bot = bot;
    this.people = options.people;
    this.#settings = options.settings;
    this.recent = new RecentMessages(RECENT_MESSAGES);
    this.#quotable = new QuotableMessages({ ...QUOTABLE_RECEIVED, own: (key) => this.recent.get(key) });
    this.#events = new BotEvents({
      sink: options.eventSink,
      bot,
      logger,
      resolve: (jid) => this.people.resolve(jid),
      keepMedia: (mediaId, raw, media) => this.#keepInboundMedia(mediaId, raw, media),
    });
    const campaignClock = options.campaignClock ?? realClock;
    this.signals = new WhatsAppSignals(
      new GovernorStore(db, { now: options.campaignClock ? campaignClock.now : (options.now ?? Date.now) }).forBot(
        bot,
        fence,
      ),
      logger,
    );
    this.#messageLog = new MessageLog({
      store: new MessageStore(db),
      bot,
      settings: () => this.#settings,
      resolve: (jid) => this.people.resolve(jid),
      logger,
    });
    this.groups = new GroupCache({
      ...GROUPS,
      fetch: (jid) => {
        const socket = this.session.socket;
        if (!socket) return Promise.reject(new Error("the bot is not connected"));
        return socket.groupMetadata(jid).then((metadata) => {
          this.people.observeContacts(metadata.participants);
          return metadata;
        });
      },
    });
    this.session = new BotSession({
      transport: options.transport,
      auth,
      status: new StatusWriter(db, bot, fence, (state, written) => {
        this.#events.status(state, written.reason ?? null, userOf(this.#self().pn));
        if (written.linking?.qr) this.#events.qr(written.linking.qr.code);
      }),
      logger,
      link: options.link,
      backoff: options.backoff,
      connect: {
        getMessage: async (key) => this.recent.get(key),
        // Read-through: a miss is fetched once and kept, instead of Baileys querying on every group send.
        cachedGroupMetadata: (jid) => this.groups.get(jid).catch(() => undefined),
        msgRetryCounterCache: lruCacheStore(RETRY_COUNTERS),
      },
    });
    this.session.onSocket((socket) => this.#wire(socket));
    this.session.onState((state) => {
      options.events?.state?.(state);
      if (state === "open") this.#consumer.kick();
    });

    const outbox = new OutboxService(db, {
      newMessageId: platformMessageId,
      deadlineMs: options.sendTimeoutMs * 2,
      ...(options.now ? { now: options.now } : {}),
    });
    this.#sendEvents = new SendEvents({ sink: options.eventSink, bot, logger });
    this.#receipts = new DeliveryReceipts({
      outbox,
      lease,
      fence,
      events: this.#sendEvents,
      logger,
      ...(options.now ? { now: options.now } : {}),
    });
    const sends = new SendExecutor({
      outbox,
      lease,
      fence,
      session: this.session,
      logger,
      sendTimeoutMs: options.sendTimeoutMs,
      media: options.media,
      onSent: (message) => this.#sent(message),
      events: this.#sendEvents,
      receipts: this.#receipts,
      quotable: (chat, id) => this.#quotable.find(chat, id),
    });
    this.#campaigns = new CampaignDriver({
      bot,
      campaigns: options.campaigns,
      delivery: new CampaignDelivery({ db, bot, fence, now: campaignClock.now }),
      runs: new CampaignRuns(db, { events: options.eventSink, logger, now: campaignClock.now }),
      sends,
      session: this.session,
      wrote: (person) => this.people.wrote(person),
      copyMedia: (mediaId, transitId) => options.media.copyTemplateMediaToBot(bot.tenantId, mediaId, bot, transitId),
      signals: this.signals,
      clock: campaignClock,
      logger: logger.child({ component: "campaigns" }),
    });
    const commands = new CommandExecutor({
      outbox,
      lease,
      fence,
      logger,
      handlers: {
        connect: async (item) => {
          this.session.connect(
            item.method === "pairing_code" && item.phoneNumber
              ? { method: "pairing_code", phoneNumber: item.phoneNumber }
              : { method: "qr" },
          );
        },
        disconnect: () => this.session.stop("disconnected from the dashboard"),
        logout: () => this.session.logout(),
      },
    });
    const settingsWriter = new SettingsWriter(db, bot, fence);
    this.bans = new BanList(db, bot, fence);
    this.#groupSettings = new GroupSettingsStore({ db, bot, fence });
    const send = async (chat: string, text: string, extra: { quoted?: WAMessage; mentions?: string[] }) => {
      const socket = this.#connected();
      const content = extra.mentions ? { text, mentions: extra.mentions } : { text };
      this.#sent(
        await socket.sendMessage(chat, content, {
          messageId: platformMessageId(),
          ...(extra.quoted ? { quoted: extra.quoted } : {}),
        }),
      );
    };
    this.#engine = new CommandEngine({
      commands: options.commands,
      settings: () => this.#settings,
      send,
      identify: (jid) => {
        const person = this.people.resolve(jid);
        return { lid: person?.lid ?? null, pn: person?.pn ?? null };
      },
      self: () => this.#self(),
      typing: (chat) => this.#connected().sendPresenceUpdate("composing", chat),
      services: {
        bot,
        media: options.media,
        queues: options.queues,
        group: this.#groupActions(),
        groupSettings: this.#groupSettings,
        bans: this.bans,
        aiMemory: new ChatMemory(db),
        wiki: options.wiki,
        updateSettings: (patch, owner) => settingsWriter.patch(patch, owner.id),
        download: (message, limits) => this.#connected().downloadMedia(message, limits),
      },
      // Opt-out first: a STOP is recorded whatever else the bot does with messages.
      guards: [optOutGuard({ db, bot, logger, ...(options.now ? { now: options.now } : {}) }), antilinkGuard],
      allowance: new MessageAllowance({ usage: new UsageService(db), tenantId: bot.tenantId }),
      tracer: trace.getTracer("whatsdex-session-runner"),
      logger,
      version: options.version,
      ...(options.events?.command ? { onOutcome: options.events.command } : {}),
    });
    this.#welcome = {
      groupSettings: this.#groupSettings,
      metadata: (jid) => this.groups.get(jid),
      t: () => translator(this.#settings.language),
      self: () => personOfIdentity(this.#self()),
      send: (chat, text, mentions) => send(chat, text, { mentions }),
    };
    this.#consumer = new OutboxConsumer({
      db,
      outbox,
      lease,
      fence,
      sends,
      commands,
      logger,
      isOpen: () => this.session.state === "open",
      maxWaitMs: options.sendMaxWaitMs,
      ...(options.events?.outboxPickup ? { onPickup: options.events.outboxPickup } : {}),
      ...(options.now ? { now: options.now } : {}),
    });
  }

  /** The current socket, if the connection is open: commands act on WhatsApp only through an open one. */
  #connected(): TransportSocket {
    const socket = this.session.socket;
    if (!socket || this.session.state !== "open") throw new Error("the bot is not connected");
    return socket;
  }

  /** The linked account, from the session's credentials (PN device JID and LID). */
  #self(): { lid: string | null; pn: string | null } {
    const me = this.#options.auth.state.creds.me;
    return {
      lid: me?.lid ? jidNormalizedUser(me.lid) : null,
      pn: me?.id ? jidNormalizedUser(me.id) : null,
    };
  }

  #groupActions(): GroupActions {
    return {
      metadata: (jid) => this.groups.get(jid),
      participants: (jid, users, action) => this.#connected().groupParticipantsUpdate(jid, users, action),
      inviteCode: (jid) => this.#connected().groupInviteCode(jid),
      revokeInvite: (jid) => this.#connected().groupRevokeInvite(jid),
      setSubject: (jid, subject) => this.#connected().groupUpdateSubject(jid, subject),
      setDescription: (jid, description) => this.#connected().groupUpdateDescription(jid, description),
      deleteMessage: async (jid, key) => {
        await this.#connected().sendMessage(jid, { delete: key });
      },
    };
  }

  /** What the bot sent: kept for Baileys' retries, and in the message store when it is on. */
  #sent(message: WAMessage | undefined): void {
    this.recent.remember(message);
    this.#receipts.sentElsewhere(message?.key.id);
    this.#messageLog.sent(message);
  }

  async #keepInboundMedia(mediaId: string, raw: WAMessage, media: InboundMedia): Promise<boolean> {
    const keep = this.#options.keepInboundMedia;
    if (!keep || (media.bytes !== null && media.bytes > INBOUND_MEDIA_MAX_BYTES)) return false;
    const data = await this.#connected().downloadMedia(raw, { maxBytes: INBOUND_MEDIA_MAX_BYTES });
    await keep(mediaId, { mimetype: media.mimetype ?? "application/octet-stream", data });
    return true;
  }

  /** Resolves once the events handed on so far were published (or given up). */
  async eventsIdle(): Promise<void> {
    // Receipts end in message.status events: applied first, then everything published.
    await this.#receipts.idle();
    await Promise.all([this.#events.idle(), this.#sendEvents.idle()]);
  }

  /** The bot document changed: commands see the new settings from the next message on. */
  updateSettings(settings: BotSettings): void {
    this.#settings = settings;
  }

  /** Time since the server last sent anything on the current connection; undefined before the first frame. */
  get msSinceServerFrame(): number | undefined {
    return this.#lastFrameAt === undefined ? undefined : this.#now() - this.#lastFrameAt;
  }

  async start(): Promise<void> {
    // Bans hold from the first message on: loaded before the socket can deliver any.
    await this.bans.load();
    // Stopped while loading (the lease moved, the bot was turned off): start nothing.
    if (this.#stopped) return;
    // The tenant's webhooks followed live from the first event on (one listener per tenant per process).
    this.#unwatchEndpoints = this.#options.eventSink.watchTenant(this.bot.tenantId);
    this.session.start();
    this.#flushTimer = setInterval(() => void this.flushPeople(), PEOPLE_FLUSH_MS);
    await this.#consumer.start();
    if (this.#stopped) return;
    this.#campaigns.start();
  }

  async flushPeople(): Promise<void> {
    await this.people.flush().catch((error: unknown) => {
      // A deposed owner's flush is refused by the fence; the next owner learns the same people again.
      this.#options.logger.debug({ err: error }, "identity flush failed");
    });
  }

  /**
   * Ends the bot's work here. `wanted: false` (its desired state is stopped) also settles its
   * outbox first: remaining commands run (a logout still logs out) and unsent messages fail.
   */
  async stop(reason: string, { wanted }: { wanted: boolean }): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#flushTimer);
    await this.#campaigns.stop();
    await this.#consumer.stop();
    if (!wanted) {
      await this.#consumer.drainStopped().catch((error: unknown) => {
        this.#options.logger.warn({ err: error }, "could not settle the outbox of a stopped bot");
      });
    }
    await this.session.stop(reason);
    // Writes the socket started (a ratchet step, a creds update) land before the lease is given up.
    await this.#options.auth.idle();
    await this.flushPeople();
    // Events already seen (the last messages, the final state) are published before the bot moves on.
    await this.#receipts.idle();
    await Promise.all([this.#events.idle(), this.#messageLog.idle(), this.#sendEvents.idle(), this.signals.idle()]);
    this.#unwatchEndpoints?.();
  }

  /** Its bot document changed: a command may be waiting. */
  botChanged(): void {
    this.#consumer.pollCommands().catch((error: unknown) => {
      this.#options.logger.warn({ err: error }, "could not look for pending commands");
    });
  }

  /** As a crash would leave it: the socket gone, nothing written, no timer left. */
  abandon(): void {
    this.#stopped = true;
    clearInterval(this.#flushTimer);
    this.#unwatchEndpoints?.();
    void this.#campaigns.stop();
    void this.#consumer.stop();
    this.session.abandon();
  }

  #wire(socket: TransportSocket): void {
    const { events } = this.#options;
    this.#lastFrameAt = undefined;
    socket.onFrame(() => {
      if (this.session.socket === socket) this.#lastFrameAt = this.#now();
    });
    socket.on("messages.upsert", ({ messages, type }) => {
      for (const message of messages) {
        if (isDecryptFailure(message)) events?.decryptFailure?.();
        this.people.observeMessageKey(message.key, message.pushName);
        // "append" is history and our own sends echoed back: only new messages are commands and events.
        if (type !== "notify") continue;
        this.#quotable.received(message);
        this.#events.received(message);
        this.#messageLog.received(message);
        void this.#engine.handle(message);
      }
    });
    socket.on("messages.update", (updates) => this.#receipts.updates(updates));
    watchSignals(socket, (signal) => this.signals.record(signal));
    socket.on("message-receipt.update", (receipts) => this.#receipts.groupReceipts(receipts));
    socket.on("lid-mapping.update", (mapping) => this.people.observeLidMappings([mapping]));
    socket.on("contacts.upsert", (contacts) => this.people.observeContacts(contacts));
    socket.on("groups.upsert", (groups) => {
      this.groups.upsert(groups);
      for (const group of groups) this.people.observeContacts(group.participants);
    });
    socket.on("groups.update", (updates) => this.groups.update(updates));
    socket.on("group-participants.update", (update) => {
      this.groups.participants(update);
      this.people.observeContacts(update.participants);
      this.#events.participants(update);
      welcomeNewMembers(this.#welcome, update).catch((error: unknown) => {
        this.#options.logger.warn({ err: error, group: update.id }, "could not welcome new group members");
      });
    });
  }
}
