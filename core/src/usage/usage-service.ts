import { FieldValue, type Firestore, Timestamp, type Transaction } from "firebase-admin/firestore";
import { outboundRestricted } from "../billing/subscription-state.ts";
import { PaymentRequiredError, PlanLimitError } from "../errors/domain-error.ts";
import { zodConverter } from "../firestore/converter.ts";
import { tenantPath, usagePath } from "../firestore/paths.ts";
import { type Plan, PlanCatalog } from "../plans/plan-catalog.ts";
import { type TenantDoc, tenantDocSchema } from "../tenants/schema.ts";
import { type UsageCounter, usageDocSchema } from "./schema.ts";

/** The UTC day a usage counter belongs to. */
export function usageDay(at: number = Date.now()): string {
  return new Date(at).toISOString().slice(0, 10);
}

const tenantConverter = zodConverter(tenantDocSchema);
const usageConverter = zodConverter(usageDocSchema);

/**
 * Per-tenant daily counters (`tenants/{t}/usage/{YYYY-MM-DD}`) checked against the plan. A call is
 * reserved before it is made (in a transaction, so concurrent jobs cannot overshoot the limit) and
 * its token usage added afterwards.
 */
export class UsageService {
  readonly #db: Firestore;
  readonly #now: () => number;

  constructor(db: Firestore, options: { now?: () => number } = {}) {
    this.#db = db;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Takes one AI call from today's allowance; false when the plan's limit is reached. `model` is the
   * one to ask: `wantedModel` if the tenant's plan allows it, else the plan's default (a bot whose
   * stored model its plan no longer has, after a downgrade, keeps answering).
   */
  async reserveAiCall(
    tenantId: string,
    wantedModel = "",
  ): Promise<{ allowed: boolean; used: number; limit: number; model: string }> {
    const { granted, used, limit, plan } = await this.#db.runTransaction((tx) =>
      this.#reserveIn(tx, tenantId, "aiCalls", (p) => p.aiCallsPerDay, 1),
    );
    const model = plan ? PlanCatalog.aiModelFor(plan.id, wantedModel) : wantedModel;
    return { allowed: granted === 1, used, limit, model };
  }

  /**
   * Takes up to `wanted` messages from today's allowance (the plan's messagesPerDay) and returns how
   * many it got: 0 when the day's messages are used up, and never more than an eighth of what is
   * left. Callers take blocks and spend them locally, so a busy bot writes this counter once per
   * block, not once per message.
   */
  async reserveMessages(tenantId: string, wanted: number): Promise<{ granted: number; limit: number }> {
    // Blocks shrink as the day's allowance runs out, so what reserving instances hold unspent stays small.
    const { granted, limit } = await this.#reserve(tenantId, "messages", (plan) => plan.messagesPerDay, wanted, 8);
    return { granted, limit };
  }

  /**
   * Takes one message from today's allowance inside the caller's transaction (call it after the
   * transaction's own reads and before its writes), so that what it queues and the count commit
   * together; throws PlanLimitError when today's messages are used up. For API sends.
   */
  async takeMessageIn(tx: Transaction, tenantId: string): Promise<void> {
    const { granted, limit, plan, tenant } = await this.#reserveIn(
      tx,
      tenantId,
      "messages",
      (p) => p.messagesPerDay,
      1,
    );
    // Outbound sending waits for a paid invoice once the grace period is over (bots keep answering):
    // throwing here aborts the caller's transaction, the count with it.
    if (tenant && outboundRestricted(tenant.billing, this.#now())) {
      throw new PaymentRequiredError(
        "Sending is paused: the subscription's payment failed and the grace period is over. Pay the open invoice (POST …/billing/portal) to resume.",
        { details: { restrictFrom: tenant.billing.restrictFrom?.toDate().toISOString() ?? null } },
      );
    }
    if (granted === 1) return;
    throw new PlanLimitError(
      `Today's messages are used up (${limit} a day on the ${plan?.name ?? "tenant's"} plan); try again after midnight UTC or upgrade.`,
      { details: { plan: plan?.id ?? null, limit, day: usageDay(this.#now()) } },
    );
  }

  /**
   * Today's counter against the tenant's plan, in one transaction so concurrent callers cannot
   * overshoot: grants up to `wanted` (at most 1/`shareOfLeft` of what is left, rounded up).
   */
  #reserve(
    tenantId: string,
    counter: UsageCounter,
    limitOf: (plan: Plan) => number,
    wanted: number,
    shareOfLeft = 1,
  ): Promise<{ granted: number; used: number; limit: number }> {
    return this.#db.runTransaction((tx) => this.#reserveIn(tx, tenantId, counter, limitOf, wanted, shareOfLeft));
  }

  async #reserveIn(
    tx: Transaction,
    tenantId: string,
    counter: UsageCounter,
    limitOf: (plan: Plan) => number,
    wanted: number,
    shareOfLeft = 1,
  ): Promise<{ granted: number; used: number; limit: number; plan: Plan | undefined; tenant: TenantDoc | undefined }> {
    const day = usageDay(this.#now());
    // Read through the schema; written with increments (which a converter would refuse to parse).
    const usageRef = this.#db.doc(usagePath(tenantId, day));
    const tenantRef = this.#db.doc(tenantPath(tenantId)).withConverter(tenantConverter);
    const [tenant, usage] = await Promise.all([tx.get(tenantRef), tx.get(usageRef.withConverter(usageConverter))]);
    const tenantDoc = tenant.data();
    if (!tenantDoc) return { granted: 0, used: 0, limit: 0, plan: undefined, tenant: undefined };
    const plan = PlanCatalog.get(tenantDoc.plan);
    const limit = limitOf(plan);
    const used = usage.data()?.[counter] ?? 0;
    const left = limit - used;
    const granted = Math.max(0, Math.min(wanted, left, Math.ceil(left / shareOfLeft)));
    if (granted > 0) {
      tx.set(usageRef, { day, [counter]: FieldValue.increment(granted), updatedAt: Timestamp.now() }, { merge: true });
    }
    return { granted, used: used + granted, limit, plan, tenant: tenantDoc };
  }

  async recordAiTokens(tenantId: string, tokens: { input: number; output: number }): Promise<void> {
    const day = usageDay(this.#now());
    await this.#db.doc(usagePath(tenantId, day)).set(
      {
        day,
        aiInputTokens: FieldValue.increment(tokens.input),
        aiOutputTokens: FieldValue.increment(tokens.output),
        updatedAt: Timestamp.now(),
      },
      { merge: true },
    );
  }
}
