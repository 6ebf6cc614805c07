import {
  AuditLog,
  type BotRef,
  type BotSettings,
  type BotSettingsPatch,
  botPath,
  botSettingsSchema,
  parseOrThrow,
  type WriteFence,
} from "@whatsdex/core";
import { type Firestore, Timestamp } from "firebase-admin/firestore";

/**
 * Settings changed from WhatsApp by the bot's owners (`setprefix`, `mode`): merged into the bot
 * document like the API's PATCH (top-level keys replace), validated with the same schema, fenced
 * by the lease like every other write of the runner, and audited in the same transaction with the
 * owner who asked as the actor.
 */
export class SettingsWriter {
  readonly #db: Firestore;
  readonly #bot: BotRef;
  readonly #fence: WriteFence;
  readonly #audit: AuditLog;

  constructor(db: Firestore, bot: BotRef, fence: WriteFence) {
    this.#db = db;
    this.#bot = bot;
    this.#fence = fence;
    this.#audit = new AuditLog(db);
  }

  /** `ownerId`: the owner's person id (never a raw number where the LID is known), the audit entry's actor. */
  async patch(patch: BotSettingsPatch, ownerId: string): Promise<BotSettings> {
    const { tenantId, botId } = this.#bot;
    const ref = this.#db.doc(botPath(tenantId, botId));
    return this.#db.runTransaction(async (tx) => {
      await this.#fence.assertHeld(tx);
      const current = parseOrThrow(botSettingsSchema, (await tx.get(ref)).get("settings"), "stored bot settings");
      const next = parseOrThrow(botSettingsSchema, { ...current, ...patch }, "bot settings");
      tx.update(ref, { settings: next, updatedAt: Timestamp.now() });
      this.#audit.record(
        tx,
        tenantId,
        { actor: { kind: "whatsapp", id: ownerId }, requestId: null },
        {
          action: "bot.settings_changed",
          target: `bot:${botId}`,
          botId,
          before: { settings: current },
          after: { settings: next },
        },
      );
      return next;
    });
  }
}
