import { createHash } from "node:crypto";
import { FieldValue, Timestamp, type Transaction } from "firebase-admin/firestore";
import type { TenantAccess } from "../access/access-service.ts";
import { tenantNotFound } from "../access/access-service.ts";
import { principalId } from "../access/principal.ts";
import { type AuditContext, AuditLog, auditContextOf, systemAuditContext } from "../audit/audit-log.ts";
import {
  ConflictError,
  NotFoundError,
  PlanLimitError,
  UnavailableError,
  ValidationError,
} from "../errors/domain-error.ts";
import { parseOrThrow } from "../errors/zod-issues.ts";
import { type Page, type PageRequest, paginate } from "../firestore/pagination.ts";
import type { Refs } from "../firestore/refs.ts";
import {
  type MessageContent,
  type OutboxItem,
  type OutboxItemBase,
  outboxContentOf,
  pendingOutboxItem,
  pendingSendItem,
  type SendItem,
} from "../outbox/schema.ts";
import { type SendMediaSource, stageSendMedia } from "../outbox/send-media.ts";
import { PlanCatalog } from "../plans/plan-catalog.ts";
import { UsageService } from "../usage/usage-service.ts";
import { assertAiModelAllowed } from "./ai-model.ts";
import {
  type BotDoc,
  type BotSettings,
  type BotSettingsPatch,
  botSettingsSchema,
  defaultBotSettings,
} from "./schema.ts";

export interface BotServiceOptions {
  /** The in-process WhatsApp simulator is for development and tests; production refuses it. */
  allowSimulator: boolean;
  /** Where changes are recorded (default: the tenant's audit log in `refs.db`). */
  audit?: AuditLog;
  /** Meters API sends against the plan's messages per day (default: one on the same Firestore). */
  usage?: UsageService;
  /** Where media messages' bytes come from (uploads, URLs); without it only media-less messages are accepted. */
  media?: SendMediaSource;
}

export interface CreateBotInput {
  name: string;
  transport?: "baileys" | "simulator" | undefined;
  settings?: BotSettingsPatch | undefined;
}

export interface BotPatch {
  name?: string | undefined;
  settings?: BotSettingsPatch | undefined;
  /** Keep this bot running when a downgrade leaves room for fewer. */
  keepOnDowngrade?: boolean | undefined;
}

export type ConnectInput = { method: "qr" } | { method: "pairing_code"; phoneNumber: string };

export interface QueuedCommand {
  outboxId: string;
  item: OutboxItem;
  /** True when an Idempotency-Key matched an earlier request and nothing new was queued. */
  replayed: boolean;
}

/**
 * Bots within the tenant's plan, and every change to a bot's desired state as an outbox item for
 * the runner that owns it: the API never talks to a socket.
 */
export class BotService {
  readonly #refs: Refs;
  readonly #options: BotServiceOptions;
  readonly #audit: AuditLog;
  readonly #usage: UsageService;

  constructor(refs: Refs, options: BotServiceOptions) {
    this.#refs = refs;
    this.#options = options;
    this.#audit = options.audit ?? new AuditLog(refs.db);
    this.#usage = options.usage ?? new UsageService(refs.db);
  }

  list(tenantId: string, page: PageRequest): Promise<Page<{ id: string; path: string; data: BotDoc }>> {
    return paginate(this.#refs.bots(tenantId), page);
  }

  async get(tenantId: string, botId: string): Promise<BotDoc> {
    const bot = (await this.#refs.bot(tenantId, botId).get()).data();
    if (!bot) throw botNotFound();
    return bot;
  }

  /**
   * The plan check and the counter increment share one transaction with the create, so concurrent
   * creates at the limit cannot overshoot it.
   */
  async create(
    access: TenantAccess,
    input: CreateBotInput,
    context: AuditContext = auditContextOf(access),
  ): Promise<{ id: string; bot: BotDoc }> {
    const transport = input.transport ?? "baileys";
    if (transport === "simulator" && !this.#options.allowSimulator) {
      throw new ValidationError("The simulator transport is not available here.", [
        { path: "transport", message: 'must be "baileys"' },
      ]);
    }
    const settings = mergeSettings(defaultBotSettings, input.settings);
    const tenantRef = this.#refs.tenant(access.tenantId);
    const ref = this.#refs.bots(access.tenantId).doc();
    const now = Timestamp.now();
    const bot: BotDoc = {
      name: input.name,
      transport,
      phoneNumber: null,
      desiredState: "stopped",
      connectMethod: "qr",
      status: { state: "stopped", reason: null, updatedAt: now },
      settings,
      keepOnDowngrade: false,
      stoppedFor: null,
      createdBy: principalId(access.principal),
      createdAt: now,
      updatedAt: now,
    };
    await this.#refs.db.runTransaction(
      async (tx) => {
        const tenant = (await tx.get(tenantRef)).data();
        if (!tenant) throw tenantNotFound();
        const plan = PlanCatalog.get(tenant.plan);
        assertAiModelAllowed(plan, settings.ai.model);
        if (tenant.botCount >= plan.maxBots) {
          throw new PlanLimitError(
            `The ${plan.name} plan allows ${plan.maxBots} bot${plan.maxBots === 1 ? "" : "s"}; delete one or upgrade.`,
            { details: { plan: plan.id, limit: plan.maxBots } },
          );
        }
        tx.create(ref, bot);
        tx.update(tenantRef, { botCount: FieldValue.increment(1), updatedAt: now });
        this.#audit.record(tx, access.tenantId, context, {
          action: "bot.created",
          target: `bot:${ref.id}`,
          botId: ref.id,
          before: null,
          after: bot,
        });
      },
      { maxAttempts: 50 },
    );
    return { id: ref.id, bot };
  }

  async update(
    tenantId: string,
    botId: string,
    patch: BotPatch,
    context: AuditContext = systemAuditContext,
  ): Promise<BotDoc> {
    const ref = this.#refs.bot(tenantId, botId);
    return this.#refs.db.runTransaction(async (tx) => {
      const current = (await tx.get(ref)).data();
      if (!current) throw botNotFound();
      if (patch.settings?.ai) {
        const tenant = (await tx.get(this.#refs.tenant(tenantId))).data();
        if (!tenant) throw tenantNotFound();
        assertAiModelAllowed(PlanCatalog.get(tenant.plan), patch.settings.ai.model);
      }
      const next: BotDoc = {
        ...current,
        ...(patch.name === undefined ? {} : { name: patch.name }),
        ...(patch.keepOnDowngrade === undefined ? {} : { keepOnDowngrade: patch.keepOnDowngrade }),
        settings: mergeSettings(current.settings, patch.settings),
        updatedAt: Timestamp.now(),
      };
      tx.set(ref, next);
      this.#audit.record(tx, tenantId, context, {
        action: "bot.updated",
        target: `bot:${botId}`,
        botId,
        before: current,
        after: next,
      });
      return next;
    });
  }

  /** Deletes the bot and frees its plan slot; the onBotDeleted trigger removes what lies under it. */
  async delete(tenantId: string, botId: string, context: AuditContext = systemAuditContext): Promise<void> {
    const ref = this.#refs.bot(tenantId, botId);
    const tenantRef = this.#refs.tenant(tenantId);
    await this.#refs.db.runTransaction(
      async (tx) => {
        const bot = (await tx.get(ref)).data();
        if (!bot) throw botNotFound();
        tx.delete(ref);
        this.#audit.record(tx, tenantId, context, {
          action: "bot.deleted",
          target: `bot:${botId}`,
          botId,
          before: { name: bot.name, transport: bot.transport, phoneNumber: bot.phoneNumber },
          after: null,
        });
        tx.update(tenantRef, { botCount: FieldValue.increment(-1), updatedAt: Timestamp.now() });
      },
      { maxAttempts: 50 },
    );
  }

  connect(
    access: TenantAccess,
    botId: string,
    input: ConnectInput,
    context: AuditContext = auditContextOf(access),
  ): Promise<QueuedCommand> {
    const phoneNumber = input.method === "pairing_code" ? input.phoneNumber : null;
    return this.#queue(
      access,
      context,
      "bot.connect",
      botId,
      { desiredState: "running", connectMethod: input.method, phoneNumber },
      (base) => ({
        ...base,
        kind: "connect",
        method: input.method,
        phoneNumber,
      }),
    );
  }

  disconnect(
    access: TenantAccess,
    botId: string,
    context: AuditContext = auditContextOf(access),
  ): Promise<QueuedCommand> {
    return this.#queue(access, context, "bot.disconnect", botId, { desiredState: "stopped" }, (base) => ({
      ...base,
      kind: "disconnect",
    }));
  }

  logout(access: TenantAccess, botId: string, context: AuditContext = auditContextOf(access)): Promise<QueuedCommand> {
    return this.#queue(access, context, "bot.logout", botId, { desiredState: "stopped" }, (base) => ({
      ...base,
      kind: "logout",
    }));
  }

  /**
   * Queues a message for the bot's runner. With an idempotency key the outbox id is derived from it,
   * so a retried request finds the first one instead of sending twice; the same key with a different
   * body is refused. Media is copied to the bot (from an upload, or fetched from its URL) before the
   * transaction, under an id derived from the outbox id, so a retry overwrites rather than adds a
   * copy; a request refused after the copy deletes it.
   */
  async sendMessage(
    access: TenantAccess,
    botId: string,
    input: { to: string; content: MessageContent },
    idempotencyKey: string | undefined,
  ): Promise<QueuedCommand> {
    const { content } = input;
    assertReactionTarget(input.to, content);
    const bot = { tenantId: access.tenantId, botId };
    const botRef = this.#refs.bot(access.tenantId, botId);
    const requestHash = sha256(JSON.stringify({ to: input.to, content }));
    const outboxId = idempotencyKey
      ? `idem-${sha256(idempotencyKey).slice(0, 40)}`
      : this.#refs.outbox(access.tenantId, botId).doc().id;
    const itemRef = this.#refs.outboxItem(access.tenantId, botId, outboxId);
    let mediaId: string | undefined;
    if ("media" in content) {
      const media = this.#options.media;
      if (!media) throw new UnavailableError("Media messages are not available on this deployment.");
      // A retry of a request already queued is answered below without copying (or fetching) again.
      const existing = idempotencyKey ? (await itemRef.get()).exists : false;
      if (!existing) {
        if (!(await botRef.get()).exists) throw botNotFound();
        mediaId = await stageSendMedia(media, bot, outboxId, content);
      }
    }
    try {
      return await this.#refs.db.runTransaction(async (tx) => {
        const [botDoc, existing] = [(await tx.get(botRef)).data(), (await tx.get(itemRef)).data()];
        if (existing) {
          if (existing.requestHash !== requestHash) {
            throw new ConflictError("This Idempotency-Key was already used for a different message.");
          }
          // The copy made for this retry has the first request's id: it is that message's media now.
          mediaId = undefined;
          return { outboxId, item: existing, replayed: true };
        }
        if (!botDoc) throw botNotFound();
        if (botDoc.desiredState !== "running") {
          throw new ConflictError("The bot is stopped: connect it before sending messages.", { details: { botId } });
        }
        // Metered like command replies, in this transaction: a replayed key (above) is not counted again.
        await this.#usage.takeMessageIn(tx, access.tenantId);
        const item = pendingSendItem(
          { to: input.to, content: outboxContentOf(content, mediaId), requestedBy: principalId(access.principal) },
          Timestamp.now(),
          { idempotencyKey: idempotencyKey ?? null, requestHash },
        );
        tx.create(itemRef, item);
        return { outboxId, item, replayed: false };
      });
    } catch (error) {
      if (mediaId !== undefined) await this.#options.media?.delete(bot, mediaId).catch(() => undefined);
      throw error;
    }
  }

  /** A message queued through `sendMessage` (or by the platform); not found for any other outbox id. */
  async getMessage(tenantId: string, botId: string, messageId: string): Promise<{ id: string; item: SendItem }> {
    const item = (await this.#refs.outboxItem(tenantId, botId, messageId).get()).data();
    if (item?.kind !== "send") throw new NotFoundError("Message not found.");
    return { id: messageId, item };
  }

  async #queue(
    access: TenantAccess,
    context: AuditContext,
    action: "bot.connect" | "bot.disconnect" | "bot.logout",
    botId: string,
    change: Partial<Pick<BotDoc, "desiredState" | "connectMethod" | "phoneNumber">>,
    build: (base: OutboxItemBase) => OutboxItem,
  ): Promise<QueuedCommand> {
    const botRef = this.#refs.bot(access.tenantId, botId);
    const itemRef = this.#refs.outbox(access.tenantId, botId).doc();
    const now = Timestamp.now();
    const item = build(pendingOutboxItem(principalId(access.principal), now));
    await this.#refs.db.runTransaction(async (tx: Transaction) => {
      const bot = (await tx.get(botRef)).data();
      if (!bot) throw botNotFound();
      const starting = change.desiredState === "running" && bot.desiredState !== "running";
      if (starting) await assertRoomToRunIn(tx, this.#refs, access.tenantId);
      const next: BotDoc = {
        ...bot,
        ...change,
        // Started again within the plan: the reason it was stopped no longer holds.
        ...(starting && { stoppedFor: null }),
        updatedAt: now,
      };
      tx.set(botRef, next);
      tx.create(itemRef, item);
      // Recorded even when nothing changed (connect while running): who asked is the point.
      this.#audit.record(tx, access.tenantId, context, {
        action,
        target: `bot:${botId}`,
        botId,
        before: bot,
        after: next,
      });
    });
    return { outboxId: itemRef.id, item, replayed: false };
  }
}

/**
 * A plan's `maxBots` counts bots that run: after a downgrade a tenant may keep more bots than that
 * (stopped), and starting one needs a free slot. Read in the caller's transaction, so two connects
 * at the limit cannot both start.
 */
async function assertRoomToRunIn(tx: Transaction, refs: Refs, tenantId: string): Promise<void> {
  const [tenantSnapshot, running] = await Promise.all([
    tx.get(refs.tenant(tenantId)),
    tx.get(refs.bots(tenantId).where("desiredState", "==", "running")),
  ]);
  const tenant = tenantSnapshot.data();
  if (!tenant) throw tenantNotFound();
  const plan = PlanCatalog.get(tenant.plan);
  if (running.size < plan.maxBots) return;
  throw new PlanLimitError(
    `The ${plan.name} plan runs ${plan.maxBots} bot${plan.maxBots === 1 ? "" : "s"} at once; disconnect one or upgrade.`,
    { details: { plan: plan.id, limit: plan.maxBots, running: running.size } },
  );
}

function mergeSettings(base: BotSettings, patch: BotSettingsPatch | undefined): BotSettings {
  if (!patch) return base;
  const present = Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined));
  return parseOrThrow(botSettingsSchema, { ...base, ...present }, "bot settings");
}

/** WhatsApp needs the sender of a group message to react to it; only the bot's own are known without. */
function assertReactionTarget(to: string, content: MessageContent): void {
  if (content.type !== "reaction" || !to.endsWith("@g.us")) return;
  if (content.target.fromMe || content.target.participant) return;
  throw new ValidationError("A reaction in a group must name who sent the message.", [
    { path: "body.content.target.participant", message: "is required in a group unless target.fromMe is true" },
  ]);
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

function botNotFound(): NotFoundError {
  return new NotFoundError("Bot not found.");
}
