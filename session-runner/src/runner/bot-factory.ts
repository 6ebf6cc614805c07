import {
  authStateCollectionPath,
  type BotDoc,
  type BotRef,
  ContactService,
  type EventSink,
  type HeldLease,
  type Keyring,
  type MediaStore,
  type WriteFence,
} from "@whatsdex/core";
import type { Firestore } from "firebase-admin/firestore";
import type { Logger } from "pino";
import { loadFirestoreAuthState } from "../bot/auth-state/firestore-auth-state.ts";
import { BotRuntime, type RuntimeEvents } from "../bot/bot-runtime.ts";
import type { CampaignClock } from "../bot/campaigns/campaign-clock.ts";
import type { CampaignSource } from "../bot/campaigns/campaign-driver.ts";
import { PersonStore } from "../bot/person-store.ts";
import type { BackoffOptions } from "../bot/session/backoff.ts";
import type { LinkMethod } from "../bot/session/bot-session.ts";
import { CommandRegistry, type CommandServices } from "../commands/command.ts";
import { type WikiProvider, WikiUnavailableError } from "../search/wiki-provider.ts";
import type { Transport } from "../transport/transport.ts";

/** What the supervisor hands over once it holds a bot's lease: everything else the factory knows. */
export interface BotClaim {
  bot: BotRef;
  doc: BotDoc;
  lease: HeldLease;
  fence: WriteFence;
  transport: Transport;
}

/** Builds a claimed bot's runtime (not started); the supervisor only schedules. */
export type CreateBotRuntime = (claim: BotClaim) => Promise<BotRuntime>;

export interface BotRuntimeFactoryOptions {
  db: Firestore;
  keyring: Keyring;
  logger: Logger;
  backoff: BackoffOptions;
  /** The commands the bots answer; none when absent (a runner that only keeps sessions). */
  commands?: CommandRegistry;
  /** Job queues the commands hand work to (stickers to MediaProcessor). */
  queues?: CommandServices["queues"];
  /** Encyclopedia lookups for `wiki`; without one, `wiki` says it is unavailable. */
  wiki?: WikiProvider;
  /** Reported by `about`. */
  version?: string;
  /** A send with no answer for this long is recorded as indeterminate. */
  sendTimeoutMs?: number;
  /** How long a queued message waits for a disconnected bot before it fails. */
  sendMaxWaitMs?: number;
  /** Where every bot's happenings go as events for the tenants' webhooks. */
  eventSink: EventSink;
  /** Media in Cloud Storage: what jobs hand the bots to send, and the API's uploads copied for a send. */
  media: MediaStore;
  /** Keeps received media for events (`GET …/bots/{b}/media/{id}`); absent, events name media without bytes. */
  keepInboundMedia?: (bot: BotRef, mediaId: string, media: { mimetype: string; data: Buffer }) => Promise<void>;
  /** The instance's view of the scheduled and running campaigns, which each bot's driver follows. */
  campaigns: CampaignSource;
  /** The campaign drivers' time; a test moves it forward instead of sleeping through days of pacing. */
  campaignClock?: CampaignClock;
  /** What every bot reports (metrics), and each session's state changes. */
  events?: RuntimeEvents & { sessionState?: (bot: BotRef, state: string) => void };
}

/** A runner not given an encyclopedia: every lookup is answered as unavailable, honestly. */
const noWiki: WikiProvider = {
  lookup: async () => {
    throw new WikiUnavailableError("no encyclopedia is configured on this runner");
  },
};
const NO_COMMANDS = new CommandRegistry([]);

function linkOf(bot: BotDoc): LinkMethod {
  return bot.connectMethod === "pairing_code" && bot.phoneNumber
    ? { method: "pairing_code", phoneNumber: bot.phoneNumber }
    : { method: "qr" };
}

/**
 * The one place a bot's runtime is put together: its session keys and people loaded under the
 * claim's fence, and the runner's commands, queues and settings handed in. The composition root
 * builds this factory once; the supervisor calls it per claimed bot.
 */
export function botRuntimeFactory(options: BotRuntimeFactoryOptions): CreateBotRuntime {
  const { db, keyring, logger, backoff, events, keepInboundMedia } = options;
  const contacts = new ContactService(db);
  return async ({ bot, doc, lease, fence, transport }) => {
    const [auth, people] = await Promise.all([
      loadFirestoreAuthState({ db, collectionPath: authStateCollectionPath(bot.tenantId, bot.botId), keyring, fence }),
      PersonStore.load({
        db,
        tenantId: bot.tenantId,
        botId: bot.botId,
        fence,
        // The tenant's contacts follow what the bot learns: a number's contact folds into its LID's.
        onPaired: ({ lid, pn, pushName }) => {
          contacts.linkIdentity(bot.tenantId, { lid, pn, name: pushName }).catch((error: unknown) => {
            logger.debug({ err: error, tenantId: bot.tenantId }, "could not link a contact's LID");
          });
        },
      }),
    ]);
    const sessionState = events?.sessionState;
    return new BotRuntime({
      db,
      bot,
      lease,
      fence,
      auth,
      people,
      transport,
      link: linkOf(doc),
      commands: options.commands ?? NO_COMMANDS,
      settings: doc.settings,
      queues: options.queues ?? {},
      wiki: options.wiki ?? noWiki,
      version: options.version ?? "dev",
      logger: logger.child({ tenantId: bot.tenantId, botId: bot.botId }),
      backoff,
      sendTimeoutMs: options.sendTimeoutMs ?? 30_000,
      sendMaxWaitMs: options.sendMaxWaitMs ?? 5 * 60_000,
      events: { ...events, ...(sessionState ? { state: (state: string) => sessionState(bot, state) } : {}) },
      eventSink: options.eventSink,
      media: options.media,
      campaigns: options.campaigns,
      ...(options.campaignClock ? { campaignClock: options.campaignClock } : {}),
      ...(keepInboundMedia ? { keepInboundMedia: (mediaId, media) => keepInboundMedia(bot, mediaId, media) } : {}),
    });
  };
}
