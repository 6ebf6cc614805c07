import { FieldPath, Timestamp, type Transaction } from "firebase-admin/firestore";
import { type TenantAccess, tenantNotFound } from "../access/access-service.ts";
import { principalId } from "../access/principal.ts";
import { type AuditContext, AuditLog } from "../audit/audit-log.ts";
import type { AuditAction } from "../audit/schema.ts";
import { outboundRestricted } from "../billing/subscription-state.ts";
import {
  ConflictError,
  NotFoundError,
  PaymentRequiredError,
  PlanLimitError,
  ValidationError,
} from "../errors/domain-error.ts";
import type { EventSink } from "../events/schema.ts";
import { zodConverter } from "../firestore/converter.ts";
import { type Page, type PageRequest, paginate } from "../firestore/pagination.ts";
import { botPath, campaignPath, governorPath, templatePath } from "../firestore/paths.ts";
import type { Refs } from "../firestore/refs.ts";
import type { Logger } from "../logging/logger.ts";
import { PlanCatalog } from "../plans/plan-catalog.ts";
import { templateDocSchema } from "../templates/schema.ts";
import { planShard, readCounts } from "./campaign-counts.ts";
import { campaignStatusEvent } from "./campaign-events.ts";
import { campaignOverPlan } from "./campaign-limits.ts";
import { campaignMessageProblem } from "./delivery/campaign-message.ts";
import { afterResume, cappingStops } from "./pacing/governor.ts";
import { governorStateSchema } from "./pacing/governor-state.ts";
import {
  type BuiltInProfileName,
  builtInProfiles,
  type PacingOverrides,
  pacingOverridesSchema,
  stricterOf,
} from "./pacing/profile.ts";
import { countRecipients, planRecipients } from "./recipient-planner.ts";
import {
  type Audience,
  type CampaignCounts,
  type CampaignDoc,
  type CampaignStatus,
  campaignDocSchema,
  noCounts,
  type RecipientDoc,
  type RecipientStatus,
  recipientDocSchema,
} from "./schema.ts";

export interface CampaignInput {
  name: string;
  botIds: string[];
  templateId: string;
  audience: Audience;
  /** ISO time; null or absent: as soon as it is scheduled. */
  startAt?: string | null | undefined;
  timezone: string;
  pacing?: { profile: BuiltInProfileName; overrides?: PacingOverrides | undefined } | undefined;
}

/** Any of a draft's fields; absent (or undefined) ones keep their value. */
export type CampaignPatch = { [K in keyof CampaignInput]?: CampaignInput[K] | undefined };

export interface CampaignView {
  id: string;
  campaign: CampaignDoc;
  counts: CampaignCounts;
}

export interface CampaignServiceOptions {
  audit?: AuditLog;
  /** Where `campaign.status` events go (the tenant's webhooks); absent, none are published. */
  events?: EventSink;
  logger?: Logger;
  now?: () => number;
}

/** A campaign that would take longer than this at the plan's messages per day is refused. */
export const MAX_CAMPAIGN_DAYS = 30;

const campaignConverter = zodConverter(campaignDocSchema);
const recipientConverter = zodConverter(recipientDocSchema);
const templateConverter = zodConverter(templateDocSchema);
const governorConverter = zodConverter(governorStateSchema);

/**
 * Campaigns through their life: a draft is edited freely; scheduling checks the plan, writes the
 * recipients (RecipientPlanner, resumable) and makes it `scheduled` or `running`; a person pauses,
 * resumes or cancels it. The sending itself is the owning runners' (paced per bot); this service
 * never sends.
 */
export class CampaignService {
  readonly #refs: Refs;
  readonly #options: CampaignServiceOptions;
  readonly #audit: AuditLog;
  readonly #now: () => number;

  constructor(refs: Refs, options: CampaignServiceOptions = {}) {
    this.#refs = refs;
    this.#options = options;
    this.#audit = options.audit ?? new AuditLog(refs.db);
    this.#now = options.now ?? Date.now;
  }

  async create(access: TenantAccess, input: CampaignInput, context: AuditContext): Promise<CampaignView> {
    const { tenantId } = access;
    await this.#checkReferences(tenantId, input.botIds, input.templateId);
    const pacing = this.#pacing(input.pacing);
    const now = Timestamp.fromMillis(this.#now());
    const ref = this.#refs.db.collection(`${this.#refs.tenant(tenantId).path}/campaigns`).doc();
    const campaign: CampaignDoc = {
      name: input.name,
      botIds: [...new Set(input.botIds)],
      templateId: input.templateId,
      audience: input.audience,
      startAt: startAtOf(input.startAt),
      timezone: input.timezone,
      pacing,
      status: "draft",
      statusReason: null,
      planning: { state: "not_started", cursor: null, recipients: 0, addressed: 0 },
      message: null,
      createdBy: principalId(access.principal),
      createdAt: now,
      updatedAt: now,
      startedAt: null,
      endedAt: null,
    };
    await this.#refs.db.runTransaction(async (tx) => {
      tx.create(ref.withConverter(campaignConverter), campaign);
      this.#record(tx, tenantId, context, "campaign.created", ref.id, null, campaign);
    });
    return { id: ref.id, campaign, counts: noCounts };
  }

  async get(tenantId: string, campaignId: string): Promise<CampaignView> {
    const campaign = (await this.#ref(tenantId, campaignId).get()).data();
    if (!campaign) throw campaignNotFound();
    return { id: campaignId, campaign, counts: await this.counts(tenantId, campaignId) };
  }

  async list(tenantId: string, page: PageRequest): Promise<Page<CampaignView>> {
    const query = this.#refs.db
      .collection(`${this.#refs.tenant(tenantId).path}/campaigns`)
      .withConverter(campaignConverter);
    const result = await paginate(query, page);
    const items = await Promise.all(
      result.items.map(async (item) => ({
        id: item.id,
        campaign: item.data,
        counts: await this.counts(tenantId, item.id),
      })),
    );
    return { items, nextCursor: result.nextCursor };
  }

  /** A draft's settings; anything else is refused (a running campaign's audience and text are fixed). */
  async update(
    access: TenantAccess,
    campaignId: string,
    patch: CampaignPatch,
    context: AuditContext,
  ): Promise<CampaignView> {
    const { tenantId } = access;
    const ref = this.#ref(tenantId, campaignId);
    const before = (await ref.get()).data();
    if (!before) throw campaignNotFound();
    if (patch.botIds || patch.templateId) {
      await this.#checkReferences(tenantId, patch.botIds ?? before.botIds, patch.templateId ?? before.templateId);
    }
    const pacing = patch.pacing ? this.#pacing(patch.pacing) : undefined;
    assertStatus(before, ["draft"], "changed");
    // Recipients written by an earlier scheduling (refused over a limit, or interrupted) were for the
    // old settings: they go before the planning is reset, so none can outlive the change.
    if (before.planning.state !== "not_started") await this.#dropPlanned(ref.path);
    const campaign = await this.#refs.db.runTransaction(async (tx) => {
      const current = (await tx.get(ref)).data();
      if (!current) throw campaignNotFound();
      assertStatus(current, ["draft"], "changed");
      const next: CampaignDoc = {
        ...current,
        ...(patch.name !== undefined && { name: patch.name }),
        ...(patch.botIds !== undefined && { botIds: [...new Set(patch.botIds)] }),
        ...(patch.templateId !== undefined && { templateId: patch.templateId }),
        ...(patch.audience !== undefined && { audience: patch.audience }),
        ...(patch.startAt !== undefined && { startAt: startAtOf(patch.startAt) }),
        ...(patch.timezone !== undefined && { timezone: patch.timezone }),
        ...(pacing !== undefined && { pacing }),
        planning: { state: "not_started", cursor: null, recipients: 0, addressed: 0 },
        updatedAt: Timestamp.fromMillis(this.#now()),
      };
      tx.set(ref, next);
      this.#record(tx, tenantId, context, "campaign.updated", campaignId, current, next);
      return next;
    });
    return { id: campaignId, campaign, counts: noCounts };
  }

  /** Deletes a draft (nothing was planned or sent). Campaigns that ran are kept as the record of what was sent. */
  async delete(access: TenantAccess, campaignId: string, context: AuditContext): Promise<void> {
    const ref = this.#ref(access.tenantId, campaignId);
    const current = (await ref.get()).data();
    if (!current) throw campaignNotFound();
    assertStatus(current, ["draft"], "deleted");
    await this.#dropPlanned(ref.path);
    await this.#refs.db.runTransaction(async (tx) => {
      const current = (await tx.get(ref)).data();
      if (!current) throw campaignNotFound();
      assertStatus(current, ["draft"], "deleted");
      tx.delete(ref);
      this.#record(tx, access.tenantId, context, "campaign.deleted", campaignId, current, null);
    });
  }

  /**
   * Checks the plan, writes the recipients and makes the campaign `scheduled` (a start in the
   * future) or `running`. Interrupted (a timeout, a crash), the campaign stays a draft whose
   * planning resumes when this is called again; a campaign over the plan's limits is refused with
   * the limit named, and stays a draft.
   */
  async schedule(access: TenantAccess, campaignId: string, context: AuditContext): Promise<CampaignView> {
    const { tenantId } = access;
    const current = (await this.#ref(tenantId, campaignId).get()).data();
    if (!current) throw campaignNotFound();
    assertStatus(current, ["draft"], "scheduled");
    await this.#checkReferences(tenantId, current.botIds, current.templateId);
    const tenant = (await this.#refs.tenant(tenantId).get()).data();
    if (!tenant) throw tenantNotFound();
    const plan = PlanCatalog.get(tenant.plan);
    if (plan.maxCampaignRecipients === 0) {
      throw new PlanLimitError(`Campaigns are not part of the ${plan.name} plan; upgrade to send them.`, {
        details: { plan: plan.id, limit: 0 },
      });
    }
    if (outboundRestricted(tenant.billing, this.#now())) {
      throw new PaymentRequiredError("Sending is paused until the subscription's open invoice is paid.");
    }
    const planned = await planRecipients(this.#refs.db, tenantId, campaignId, { now: this.#now });
    const addressed = planned.counts.pending;
    if (addressed === 0) {
      throw new ValidationError("The audience has nobody to send to (no contacts, or all opted out).", [
        { path: "audience", message: `matches ${planned.counts.total} contacts, none of whom can be sent to` },
      ]);
    }
    if (addressed > plan.maxCampaignRecipients) {
      throw new PlanLimitError(
        `This campaign addresses ${addressed} people; the ${plan.name} plan allows ${plan.maxCampaignRecipients} per campaign.`,
        { details: { plan: plan.id, limit: plan.maxCampaignRecipients, recipients: addressed } },
      );
    }
    const days = Math.ceil(addressed / plan.messagesPerDay);
    if (days > MAX_CAMPAIGN_DAYS) {
      throw new PlanLimitError(
        `At the ${plan.name} plan's ${plan.messagesPerDay} messages a day this campaign would take ${days} days (at most ${MAX_CAMPAIGN_DAYS}); narrow the audience or upgrade.`,
        { details: { plan: plan.id, messagesPerDay: plan.messagesPerDay, recipients: addressed } },
      );
    }
    const ref = this.#ref(tenantId, campaignId);
    const campaign = await this.#refs.db.runTransaction(async (tx) => {
      const latest = (await tx.get(ref)).data();
      if (!latest) throw campaignNotFound();
      assertStatus(latest, ["draft"], "scheduled");
      const template = (
        await tx.get(this.#refs.db.doc(templatePath(tenantId, latest.templateId)).withConverter(templateConverter))
      ).data();
      if (!template) {
        throw new ValidationError(`Invalid campaign: templateId: no template ${latest.templateId} in this tenant`, [
          { path: "templateId", message: `no template ${latest.templateId} in this tenant` },
        ]);
      }
      const problem = campaignMessageProblem(template);
      if (problem) {
        throw new ValidationError(`Invalid campaign: templateId: ${problem}`, [
          { path: "templateId", message: problem },
        ]);
      }
      const now = Timestamp.fromMillis(this.#now());
      const startsLater = latest.startAt !== null && latest.startAt.toMillis() > now.toMillis();
      const next: CampaignDoc = {
        ...latest,
        // What every recipient gets: the template as it is now, whatever edits follow.
        message: { body: template.body, fallbacks: template.fallbacks, media: template.media },
        status: startsLater ? "scheduled" : "running",
        statusReason: null,
        startedAt: startsLater ? null : now,
        updatedAt: now,
      };
      tx.set(ref, next);
      // The plan's counts: what the runners' shards then move between states.
      tx.set(planShard(this.#refs.db, tenantId, campaignId), { ...planned.counts });
      this.#record(tx, tenantId, context, "campaign.scheduled", campaignId, latest, next);
      return next;
    });
    await this.#publish(tenantId, campaignId, campaign, planned.counts);
    return { id: campaignId, campaign, counts: planned.counts };
  }

  pause(access: TenantAccess, campaignId: string, reason: string | null, context: AuditContext): Promise<CampaignView> {
    return this.#transition(access.tenantId, campaignId, context, {
      from: ["scheduled", "running"],
      to: "paused",
      action: "campaign.paused",
      reason: reason ?? "paused by a person",
    });
  }

  /** Resumes a paused campaign, if the plan still allows it (a downgrade pauses campaigns it no longer does). */
  async resume(access: TenantAccess, campaignId: string, context: AuditContext): Promise<CampaignView> {
    const [tenant, current] = await Promise.all([
      this.#refs
        .tenant(access.tenantId)
        .get()
        .then((snapshot) => snapshot.data()),
      this.#ref(access.tenantId, campaignId)
        .get()
        .then((snapshot) => snapshot.data()),
    ]);
    if (!tenant) throw tenantNotFound();
    if (!current) throw campaignNotFound();
    const plan = PlanCatalog.get(tenant.plan);
    const refusal = campaignOverPlan(plan, current.planning.addressed);
    if (refusal) {
      throw new PlanLimitError(`${refusal} Upgrade to resume it.`, {
        details: { plan: plan.id, limit: plan.maxCampaignRecipients, recipients: current.planning.addressed },
      });
    }
    if (outboundRestricted(tenant.billing, this.#now())) {
      throw new PaymentRequiredError("Sending is paused until the subscription's open invoice is paid.");
    }
    return this.#transition(access.tenantId, campaignId, context, {
      from: ["paused"],
      to: "running",
      action: "campaign.resumed",
      reason: null,
      // A person looked: what the governor latched on its bots (a 463, the failure breaker) is cleared.
      also: (tx, campaign) => this.#clearLatchedStops(tx, access.tenantId, campaign),
    });
  }

  cancel(access: TenantAccess, campaignId: string, context: AuditContext): Promise<CampaignView> {
    return this.#transition(access.tenantId, campaignId, context, {
      from: ["draft", "scheduled", "running", "paused"],
      to: "cancelled",
      action: "campaign.cancelled",
      reason: "cancelled by a person",
    });
  }

  /** One page of recipients, in sending order, optionally of one status. */
  async recipients(
    tenantId: string,
    campaignId: string,
    query: { status?: RecipientStatus | undefined; limit: number; cursor?: string | undefined },
  ): Promise<{ items: Array<{ personId: string; recipient: RecipientDoc }>; nextCursor: string | null }> {
    if (!(await this.#ref(tenantId, campaignId).get()).exists) throw campaignNotFound();
    let ordered = this.#refs.db
      .collection(`${campaignPath(tenantId, campaignId)}/recipients`)
      .withConverter(recipientConverter)
      .orderBy(FieldPath.documentId())
      .limit(query.limit + 1);
    if (query.status) ordered = ordered.where("status", "==", query.status);
    if (query.cursor) ordered = ordered.startAfter(query.cursor);
    const { docs } = await ordered.get();
    const page = docs.slice(0, query.limit);
    return {
      items: page.map((doc) => ({ personId: doc.id, recipient: doc.data() })),
      nextCursor: docs.length > query.limit ? (page[page.length - 1]?.id ?? null) : null,
    };
  }

  /** Recipients per state: the plan's counts plus every runner shard's moves. */
  counts(tenantId: string, campaignId: string): Promise<CampaignCounts> {
    return readCounts(this.#refs.db, tenantId, campaignId);
  }

  /** Recounts from the recipients themselves (repairs the shards' view; reads one per 1,000). */
  recount(tenantId: string, campaignId: string): Promise<CampaignCounts> {
    return countRecipients(this.#refs.db, tenantId, campaignId);
  }

  async #transition(
    tenantId: string,
    campaignId: string,
    context: AuditContext,
    change: {
      from: CampaignStatus[];
      to: CampaignStatus;
      action: AuditAction;
      reason: string | null;
      /** More of the same transaction: its reads, then the writes it returns (Firestore wants reads first). */
      also?: (tx: Transaction, campaign: CampaignDoc) => Promise<() => void>;
    },
  ): Promise<CampaignView> {
    const ref = this.#ref(tenantId, campaignId);
    const campaign = await this.#refs.db.runTransaction(async (tx) => {
      const current = (await tx.get(ref)).data();
      if (!current) throw campaignNotFound();
      assertStatus(current, change.from, change.to === "running" ? "resumed" : change.to);
      const writeAlso = await change.also?.(tx, current);
      const now = Timestamp.fromMillis(this.#now());
      const next: CampaignDoc = {
        ...current,
        status: change.to,
        statusReason: change.reason,
        ...(change.to === "cancelled" && { endedAt: now }),
        ...(change.to === "running" && current.startedAt === null && { startedAt: now }),
        updatedAt: now,
      };
      tx.set(ref, next);
      writeAlso?.();
      this.#record(tx, tenantId, context, change.action, campaignId, current, next);
      return next;
    });
    const counts = await this.counts(tenantId, campaignId);
    await this.#publish(tenantId, campaignId, campaign, counts);
    return { id: campaignId, campaign, counts };
  }

  /**
   * Reads the governors of the campaign's bots and returns the writes that clear their latched stops;
   * refuses while WhatsApp's own capping warning holds on one (resuming into it would only pause again).
   */
  async #clearLatchedStops(tx: Transaction, tenantId: string, campaign: CampaignDoc): Promise<() => void> {
    const refs = campaign.botIds.map((botId) =>
      this.#refs.db.doc(governorPath(tenantId, botId)).withConverter(governorConverter),
    );
    const states = (await Promise.all(refs.map((governor) => tx.get(governor)))).map((snapshot) => snapshot.data());
    const profile = stricterOf(builtInProfiles[campaign.pacing.profile], campaign.pacing.overrides);
    states.forEach((state, index) => {
      const capped = state && cappingStops(state, profile, this.#now());
      if (!capped) return;
      throw new ConflictError(
        `Bot ${campaign.botIds[index]}: ${capped}; the campaign can resume once WhatsApp lifts it or its cycle ends.`,
        { details: { botId: campaign.botIds[index], cycleEndsAt: state.signals.capping?.cycleEndsAt ?? null } },
      );
    });
    return () =>
      states.forEach((state, index) => {
        const governor = refs[index];
        if (state?.stopped && governor) tx.set(governor, afterResume(state));
      });
  }

  async #checkReferences(tenantId: string, botIds: readonly string[], templateId: string): Promise<void> {
    const issues: Array<{ path: string; message: string }> = [];
    const bots = await this.#refs.db.getAll(...botIds.map((botId) => this.#refs.db.doc(botPath(tenantId, botId))));
    bots.forEach((bot, index) => {
      if (!bot.exists) issues.push({ path: `botIds[${index}]`, message: `no bot ${botIds[index]} in this tenant` });
    });
    if (!(await this.#refs.db.doc(templatePath(tenantId, templateId)).get()).exists) {
      issues.push({ path: "templateId", message: `no template ${templateId} in this tenant` });
    }
    if (issues.length > 0) {
      throw new ValidationError(`Invalid campaign: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`, issues);
    }
  }

  /** The profile and overrides as given, once the overrides are known to be no looser than the profile. */
  #pacing(input: CampaignInput["pacing"]): CampaignDoc["pacing"] {
    const profile = input?.profile ?? "standard";
    const overrides = input?.overrides ?? {};
    try {
      stricterOf(builtInProfiles[profile], overrides);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      const issues = error.issues.map((issue) => ({ ...issue, path: `pacing.overrides.${issue.path}` }));
      throw new ValidationError(`Invalid pacing: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`, issues);
    }
    return { profile, overrides: pacingOverridesSchema.parse(overrides) };
  }

  /** The recipients and counts an earlier scheduling wrote (a draft's, before it changes or goes). */
  async #dropPlanned(campaignDocPath: string): Promise<void> {
    for (const sub of ["recipients", "counters"]) {
      await this.#refs.db.recursiveDelete(this.#refs.db.collection(`${campaignDocPath}/${sub}`));
    }
  }

  #ref(tenantId: string, campaignId: string) {
    return this.#refs.db.doc(campaignPath(tenantId, campaignId)).withConverter(campaignConverter);
  }

  #record(
    tx: Transaction,
    tenantId: string,
    context: AuditContext,
    action: AuditAction,
    campaignId: string,
    before: CampaignDoc | null,
    after: CampaignDoc | null,
  ): void {
    this.#audit.record(tx, tenantId, context, { action, target: `campaign:${campaignId}`, before, after });
  }

  async #publish(tenantId: string, campaignId: string, campaign: CampaignDoc, counts: CampaignCounts): Promise<void> {
    const events = this.#options.events;
    if (!events) return;
    await events
      .publish(tenantId, [campaignStatusEvent(campaignId, campaign, counts, this.#now())])
      .catch((error: unknown) =>
        this.#options.logger?.warn({ err: error, tenantId, campaignId }, "campaign event not published"),
      );
  }
}

function startAtOf(startAt: string | null | undefined): Timestamp | null {
  return startAt ? Timestamp.fromDate(new Date(startAt)) : null;
}

function assertStatus(campaign: CampaignDoc, allowed: readonly CampaignStatus[], verb: string): void {
  if (allowed.includes(campaign.status)) return;
  throw new ConflictError(`A ${campaign.status} campaign cannot be ${verb}.`, {
    details: { status: campaign.status, allowed },
  });
}

function campaignNotFound(): NotFoundError {
  return new NotFoundError("Campaign not found.");
}
