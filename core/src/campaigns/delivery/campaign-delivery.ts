import { type Firestore, Timestamp, type Transaction } from "firebase-admin/firestore";
import { type ContactDoc, contactDocSchema } from "../../contacts/schema.ts";
import { PaymentRequiredError, PlanLimitError } from "../../errors/domain-error.ts";
import { zodConverter } from "../../firestore/converter.ts";
import { derivedId } from "../../firestore/ids.ts";
import {
  campaignPath,
  campaignReachPath,
  campaignRecipientPath,
  governorPath,
  outboxCollectionPath,
  outboxItemPath,
  templatePath,
  tenantContactPath,
  tenantContactsCollectionPath,
} from "../../firestore/paths.ts";
import type { BotRef, WriteFence } from "../../leases/lease-store.ts";
import { outboxItemSchema, pendingSendItem } from "../../outbox/schema.ts";
import { type CompiledTemplate, compileTemplate, renderTemplate } from "../../templates/render.ts";
import { type TemplateMedia, templateDocSchema } from "../../templates/schema.ts";
import { spinSeed } from "../../templates/spintax.ts";
import { UsageService } from "../../usage/usage-service.ts";
import { moveCount } from "../campaign-counts.ts";
import { afterOutcome, decide, type WaitReason } from "../pacing/governor.ts";
import { type GovernorState, governorStateSchema, initialGovernorState } from "../pacing/governor-state.ts";
import { builtInProfiles, type PacingProfile, stricterOf } from "../pacing/profile.ts";
import type { Random } from "../pacing/random.ts";
import {
  CAMPAIGN_REACH_WINDOW_MS,
  type CampaignDoc,
  campaignDocSchema,
  campaignReachSchema,
  type RecipientDoc,
  recipientDocSchema,
  type SkipReason,
} from "../schema.ts";
import { campaignContent } from "./campaign-message.ts";

const campaignConverter = zodConverter(campaignDocSchema);
const recipientConverter = zodConverter(recipientDocSchema);
const reachConverter = zodConverter(campaignReachSchema);
const governorConverter = zodConverter(governorStateSchema);
const itemConverter = zodConverter(outboxItemSchema);
const templateConverter = zodConverter(templateDocSchema);

/** Pending recipients read per query; a pool's bots each take theirs in a random order, so they rarely collide. */
const CANDIDATES = 20;
/** Outbox failures that certainly happened before anything left: the recipient is tried again, later. */
const NEVER_SENT = new Set(["not_connected", "bot_stopped"]);
const DAY_MS = 24 * 60 * 60_000;

/** A running campaign as a bot's driver holds it: its profile resolved and its message compiled once. */
export interface ActiveCampaign {
  id: string;
  doc: CampaignDoc;
  profile: PacingProfile;
  template: CompiledTemplate;
  media: TemplateMedia | null;
}

/** One recipient's message, queued in the bot's outbox: the driver sends it after `typingMs` of "typing…". */
export interface CampaignSend {
  campaignId: string;
  personId: string;
  itemId: string;
  to: string;
  typingMs: number;
  /** The template's media, to copy for the send as `itemId` before it goes out. */
  media: TemplateMedia | null;
}

export type NextStep =
  | { kind: "send"; send: CampaignSend }
  /** This recipient gets nothing (recorded); go on to the next at once. */
  | { kind: "skipped"; personId: string; reason: SkipReason | "unsendable" }
  /** Another bot of the pool took the recipient first: look again at once. */
  | { kind: "contended" }
  /** Nothing may go out before `until` (the governor's windows, or the plan's messages per day). */
  | { kind: "wait"; until: number; reason: WaitReason | "messages_per_day" }
  /** Pause the campaign with this reason (the governor stopped the bot, or sending needs a paid invoice). */
  | { kind: "stop"; reason: string }
  /** No recipient is pending. */
  | { kind: "drained" }
  /** The campaign is no longer running. */
  | { kind: "inactive" };

/** How a send in hand ended, as its recipient now records it. */
export type Settled = "sent" | "failed" | "retry" | "in_flight" | "not_ours";

export interface CampaignDeliveryOptions {
  db: Firestore;
  bot: BotRef;
  /** The bot's lease: a deposed owner queues, settles and counts nothing. */
  fence: WriteFence;
  now?: () => number;
  /** The governor's gaps, the pool's pick and the counter shards; seeded in tests. */
  random?: Random;
}

/** What the driver tells about a recipient that only the bot knows: whether they ever wrote to it. */
export type WroteToBot = (person: { lid: string | null; pn: string | null }) => boolean;

/**
 * One bot's share of its campaigns' sending, in Firestore, each step one fenced transaction:
 * - `next` takes the next pending recipient and, if the governor allows a send now, moves it to
 *   `sending` with its outbox item (id derived from campaign, person and attempt), the governor's
 *   count, the tenant's message quota and the person's 24-hour reach record — all or nothing, so a
 *   crash anywhere leaves either no trace or a recipient whose outbox item says what happened;
 * - `settle` moves a `sending` recipient to what its outbox item says: sent, failed (reported,
 *   never retried, unless it certainly never left), or still in flight;
 * - `refused` marks the recipient of a message WhatsApp answered with 463 as failed.
 */
export class CampaignDelivery {
  readonly #options: CampaignDeliveryOptions;
  readonly #db: Firestore;
  readonly #now: () => number;
  readonly #random: Random;
  readonly #usage: UsageService;
  /** Per campaign, the pending recipients read and not yet tried, in the order they will be. */
  readonly #queues = new Map<string, string[]>();

  constructor(options: CampaignDeliveryOptions) {
    this.#options = options;
    this.#db = options.db;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
    this.#usage = new UsageService(options.db, { now: this.#now });
  }

  /** The campaign as it will be sent: the message snapshot of its scheduling (or the template, for older ones). */
  /** Throws UnsendableCampaignError when the campaign can never be sent as it is (pause it, with the reason). */
  async activate(campaignId: string, doc: CampaignDoc): Promise<ActiveCampaign> {
    let message = doc.message;
    if (!message) {
      const template = (
        await this.#db
          .doc(templatePath(this.#options.bot.tenantId, doc.templateId))
          .withConverter(templateConverter)
          .get()
      ).data();
      if (!template) throw new UnsendableCampaignError(`its template ${doc.templateId} was deleted`);
      message = { body: template.body, fallbacks: template.fallbacks, media: template.media };
    }
    let template: CompiledTemplate;
    let profile: PacingProfile;
    try {
      template = compileTemplate(message.body, message.fallbacks);
      profile = stricterOf(builtInProfiles[doc.pacing.profile], doc.pacing.overrides);
    } catch (error) {
      throw new UnsendableCampaignError(error instanceof Error ? error.message : String(error));
    }
    return { id: campaignId, doc, profile, template, media: message.media };
  }

  async next(campaign: ActiveCampaign, wrote: WroteToBot): Promise<NextStep> {
    const queue = await this.#candidates(campaign);
    const personId = queue.shift();
    if (personId === undefined) {
      this.#queues.delete(campaign.id);
      return { kind: "drained" };
    }
    let step: NextStep;
    try {
      step = await this.#db.runTransaction((tx) => this.#claim(tx, campaign, personId, wrote));
    } catch (error) {
      queue.unshift(personId);
      // The quota check aborted the transaction: nothing was counted or queued.
      if (error instanceof PaymentRequiredError) return { kind: "stop", reason: error.message };
      if (error instanceof PlanLimitError) {
        const now = this.#now();
        return { kind: "wait", until: now - (now % DAY_MS) + DAY_MS, reason: "messages_per_day" };
      }
      throw error;
    }
    // Not taken (not yet, or not any more): the same person comes first next time.
    if (step.kind === "wait" || step.kind === "stop") queue.unshift(personId);
    if (step.kind === "inactive") this.#queues.delete(campaign.id);
    return step;
  }

  /**
   * The next pending recipients of the campaign, read a page at a time (one query per page, not per
   * send). A pool's bots each shuffle theirs, so they rarely reach for the same person; when they
   * do, the claim's transaction gives it to one and the other moves on.
   */
  async #candidates(campaign: ActiveCampaign): Promise<string[]> {
    const known = this.#queues.get(campaign.id);
    if (known && known.length > 0) return known;
    const { docs } = await this.#db
      .collection(`${campaignPath(this.#options.bot.tenantId, campaign.id)}/recipients`)
      .where("status", "==", "pending")
      .orderBy("order")
      .select()
      .limit(CANDIDATES)
      .get();
    const ids = docs.map((doc) => doc.id);
    if (campaign.doc.botIds.length > 1) {
      for (let i = ids.length - 1; i > 0; i--) {
        const j = Math.floor(this.#random() * (i + 1));
        const [a, b] = [ids[i], ids[j]];
        if (a !== undefined && b !== undefined) [ids[i], ids[j]] = [b, a];
      }
    }
    this.#queues.set(campaign.id, ids);
    return ids;
  }

  async #claim(tx: Transaction, campaign: ActiveCampaign, personId: string, wrote: WroteToBot): Promise<NextStep> {
    const { bot, fence } = this.#options;
    const at = { tenantId: bot.tenantId, campaignId: campaign.id };
    const recipientRef = this.#recipientRef(campaign.id, personId);
    const governorRef = this.#db.doc(governorPath(bot.tenantId, bot.botId)).withConverter(governorConverter);
    const reachRef = this.#db.doc(campaignReachPath(bot.tenantId, personId)).withConverter(reachConverter);
    // Reads first (Firestore's rule for transactions): the fence, then everything the decision needs.
    await fence.assertHeld(tx);
    const [campaignSnap, recipientSnap, contactSnap, reachSnap, governorSnap] = await Promise.all([
      tx.get(this.#db.doc(campaignPath(bot.tenantId, campaign.id)).withConverter(campaignConverter)),
      tx.get(recipientRef),
      tx.get(this.#db.doc(tenantContactPath(bot.tenantId, personId))),
      tx.get(reachRef),
      tx.get(governorRef),
    ]);
    if (campaignSnap.data()?.status !== "running") return { kind: "inactive" };
    const recipient = recipientSnap.data();
    if (recipient?.status !== "pending") return { kind: "contended" };
    const now = this.#now();
    const nowTs = Timestamp.fromMillis(now);

    const skip = (reason: SkipReason | "unsendable", error: RecipientDoc["error"] = null): NextStep => {
      const unsendable = reason === "unsendable";
      tx.set(recipientRef, {
        ...recipient,
        status: unsendable ? "failed" : "skipped",
        skipReason: unsendable ? null : reason,
        error,
        updatedAt: nowTs,
      });
      moveCount(tx, this.#db, at, "pending", unsendable ? "failed" : "skipped", this.#random);
      return { kind: "skipped", personId, reason };
    };
    // The contact as it is now, not as planned: an opt-out or a deletion since then is honoured. A
    // number's contact folded into its LID's since the planning (the runner learnt the pairing) is
    // found under its new id, opt-out and all.
    const contact = contactOf(contactSnap.data()) ?? (await this.#foldedContact(tx, recipient));
    if (!contact) return skip("invalid");
    if (contact.optOut) return skip("opted_out");
    const reach = reachSnap.data();
    if (reach && reach.campaignId !== campaign.id && reach.at.toMillis() > now - CAMPAIGN_REACH_WINDOW_MS) {
      return skip("recent");
    }
    const to = contact.lid ?? contact.pn;
    if (!to) return skip("invalid");
    const { text } = renderTemplate(campaign.template, contact, spinSeed(campaign.id, personId));
    if (text.trim().length === 0 && !campaign.media) {
      return skip("unsendable", {
        code: "empty_message",
        message: "The template rendered to no text for this contact.",
      });
    }

    const state: GovernorState = governorSnap.data() ?? initialGovernorState();
    const step = decide(
      state,
      campaign.profile,
      {
        now,
        textLength: text.length,
        recipientWrote: wrote({ lid: contact.lid, pn: contact.pn }),
        timezone: campaign.doc.timezone,
      },
      this.#random,
    );
    if (step.decision.kind !== "send") {
      if (step.changed) tx.set(governorRef, step.state);
      return step.decision.kind === "wait"
        ? { kind: "wait", until: step.decision.until, reason: step.decision.reason }
        : { kind: "stop", reason: step.decision.detail };
    }
    // The tenant's messages per day and the payment restriction: throws (aborting all of this) if refused.
    await this.#usage.takeMessageIn(tx, bot.tenantId);

    const itemId = deliveryItemId(campaign.id, personId, recipient.attempts);
    tx.set(governorRef, step.state);
    tx.create(
      this.#db.doc(outboxItemPath(bot.tenantId, bot.botId, itemId)).withConverter(itemConverter),
      pendingSendItem(
        {
          to,
          content: campaignContent(text, campaign.media, itemId),
          requestedBy: `campaign:${campaign.id}`,
          campaign: { campaignId: campaign.id, personId },
        },
        nowTs,
      ),
    );
    tx.set(recipientRef, {
      ...recipient,
      status: "sending",
      botId: bot.botId,
      outboxId: itemId,
      updatedAt: nowTs,
    });
    tx.set(reachRef, { campaignId: campaign.id, botId: bot.botId, at: nowTs });
    moveCount(tx, this.#db, at, "pending", "sending", this.#random);
    return {
      kind: "send",
      send: {
        campaignId: campaign.id,
        personId,
        itemId,
        to,
        typingMs: step.decision.typingMs,
        media: campaign.media,
      },
    };
  }

  /** The contact that now holds the recipient's number or LID, if theirs was folded into another. */
  async #foldedContact(tx: Transaction, recipient: RecipientDoc): Promise<ContactDoc | undefined> {
    const contacts = this.#db.collection(tenantContactsCollectionPath(this.#options.bot.tenantId));
    for (const [field, value] of [
      ["pn", recipient.pn],
      ["lid", recipient.lid],
    ] as const) {
      if (!value) continue;
      const found = await tx.get(contacts.where(field, "==", value).limit(1));
      const contact = contactOf(found.docs[0]?.data());
      if (contact) return contact;
    }
    return undefined;
  }

  /** This bot's recipients of a campaign still `sending`: what a crash (or a takeover) left in hand. */
  async inFlight(campaignId: string): Promise<Array<{ personId: string; itemId: string }>> {
    const { docs } = await this.#db
      .collection(`${campaignPath(this.#options.bot.tenantId, campaignId)}/recipients`)
      .withConverter(recipientConverter)
      .where("status", "==", "sending")
      .where("botId", "==", this.#options.bot.botId)
      .get();
    return docs.flatMap((doc) => {
      const itemId = doc.data().outboxId;
      return itemId ? [{ personId: doc.id, itemId }] : [];
    });
  }

  /** Whether any recipient of the campaign is `sending`, whichever bot holds it. */
  async anySending(campaignId: string): Promise<boolean> {
    const { size } = await this.#db
      .collection(`${campaignPath(this.#options.bot.tenantId, campaignId)}/recipients`)
      .where("status", "==", "sending")
      .limit(1)
      .get();
    return size > 0;
  }

  /** Whether any recipient of the campaign is still `pending`. */
  async anyPending(campaignId: string): Promise<boolean> {
    const { size } = await this.#db
      .collection(`${campaignPath(this.#options.bot.tenantId, campaignId)}/recipients`)
      .where("status", "==", "pending")
      .limit(1)
      .get();
    return size > 0;
  }

  /** Records what the recipient's outbox item says became of the send, with the governor's failure count. */
  settle(campaign: ActiveCampaign, personId: string): Promise<Settled> {
    const { bot, fence } = this.#options;
    const at = { tenantId: bot.tenantId, campaignId: campaign.id };
    const recipientRef = this.#recipientRef(campaign.id, personId);
    const governorRef = this.#db.doc(governorPath(bot.tenantId, bot.botId)).withConverter(governorConverter);
    return this.#db.runTransaction(async (tx): Promise<Settled> => {
      await fence.assertHeld(tx);
      const recipient = (await tx.get(recipientRef)).data();
      if (recipient?.status !== "sending" || recipient.botId !== bot.botId || !recipient.outboxId) return "not_ours";
      const [itemSnap, governorSnap] = await Promise.all([
        tx.get(this.#db.doc(outboxItemPath(bot.tenantId, bot.botId, recipient.outboxId)).withConverter(itemConverter)),
        tx.get(governorRef),
      ]);
      const item = itemSnap.data();
      const now = this.#now();
      const nowTs = Timestamp.fromMillis(now);
      if (item?.status === "pending" || item?.status === "processing") return "in_flight";
      if (item?.status === "done") {
        tx.set(recipientRef, { ...recipient, status: "sent", error: null, updatedAt: nowTs });
        moveCount(tx, this.#db, at, "sending", "sent", this.#random);
        return "sent";
      }
      const error = item?.error ?? {
        code: "outbox_item_missing",
        message: "The message's outbox item is gone; whether it was sent is unknown.",
      };
      if (item?.status === "failed" && NEVER_SENT.has(error.code)) {
        // Nothing left: the recipient waits for the next try, under a new outbox item.
        tx.set(recipientRef, {
          ...recipient,
          status: "pending",
          botId: null,
          outboxId: null,
          attempts: recipient.attempts + 1,
          error,
          updatedAt: nowTs,
        });
        moveCount(tx, this.#db, at, "sending", "pending", this.#random);
        return "retry";
      }
      // Failed or indeterminate: reported, never retried (an unknown outcome may have reached the person).
      tx.set(recipientRef, { ...recipient, status: "failed", error, updatedAt: nowTs });
      moveCount(tx, this.#db, at, "sending", "failed", this.#random);
      const governor = afterOutcome(
        governorSnap.data() ?? initialGovernorState(),
        campaign.profile,
        { kind: "failed", code: error.code },
        now,
      );
      if (governor.changed) tx.set(governorRef, governor.state);
      return "failed";
    });
  }

  /**
   * WhatsApp refused one of the bot's messages with 463 (after the send had resolved): if it was a
   * campaign's, its recipient is failed, not sent. The governor learnt of it from the signal itself.
   * Returns the campaign it belonged to, if any.
   */
  async refused(whatsappMessageId: string): Promise<{ campaignId: string; personId: string } | undefined> {
    const { bot, fence } = this.#options;
    const { docs } = await this.#db
      .collection(outboxCollectionPath(bot.tenantId, bot.botId))
      .withConverter(itemConverter)
      .where("messageId", "==", whatsappMessageId)
      .limit(1)
      .get();
    const found = docs[0];
    const item = found?.data();
    if (!found || item?.kind !== "send" || !item.campaign) return undefined;
    const { campaignId, personId } = item.campaign;
    const recipientRef = this.#recipientRef(campaignId, personId);
    await this.#db.runTransaction(async (tx) => {
      await fence.assertHeld(tx);
      const recipient = (await tx.get(recipientRef)).data();
      if (!recipient || recipient.outboxId !== found.id) return;
      if (recipient.status !== "sent" && recipient.status !== "sending") return;
      tx.set(recipientRef, {
        ...recipient,
        status: "failed",
        error: {
          code: "whatsapp_refused_463",
          message: "WhatsApp refused the message (error 463: the number may not start new chats now).",
        },
        updatedAt: Timestamp.fromMillis(this.#now()),
      });
      moveCount(tx, this.#db, { tenantId: bot.tenantId, campaignId }, recipient.status, "failed", this.#random);
    });
    return { campaignId, personId };
  }

  #recipientRef(campaignId: string, personId: string) {
    return this.#db
      .doc(campaignRecipientPath(this.#options.bot.tenantId, campaignId, personId))
      .withConverter(recipientConverter);
  }
}

/** A campaign that can never be sent as it is (its message no longer renders, its template is gone). */
export class UnsendableCampaignError extends Error {
  constructor(reason: string) {
    super(`The campaign cannot be sent: ${reason}.`);
    this.name = "UnsendableCampaignError";
  }
}

/**
 * The outbox item of one recipient's message: the same for every run of the same try (a retried
 * step queues nothing new), and a new one for each try after one that certainly never left.
 */
export function deliveryItemId(campaignId: string, personId: string, attempt: number): string {
  return attempt === 0 ? derivedId("cmp", campaignId, personId) : derivedId("cmp", campaignId, personId, `${attempt}`);
}

function contactOf(data: unknown): ContactDoc | undefined {
  if (data === undefined) return undefined;
  return contactDocSchema.safeParse(data).data;
}
