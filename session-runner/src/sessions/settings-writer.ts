import {
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
 * by the lease like every other write of the runner.
 */
export class SettingsWriter {
  readonly #db: Firestore;
  readonly #bot: BotRef;
  readonly #fence: WriteFence;

  constructor(db: Firestore, bot: BotRef, fence: WriteFence) {
    this.#db = db;
    this.#bot = bot;
    this.#fence = fence;
  }

  async patch(patch: BotSettingsPatch): Promise<BotSettings> {
    const ref = this.#db.doc(botPath(this.#bot.tenantId, this.#bot.botId));
    return this.#db.runTransaction(async (tx) => {
      await this.#fence.assertHeld(tx);
      const current = parseOrThrow(botSettingsSchema, (await tx.get(ref)).get("settings"), "stored bot settings");
      const next = parseOrThrow(botSettingsSchema, { ...current, ...patch }, "bot settings");
      tx.update(ref, { settings: next, updatedAt: Timestamp.now() });
      return next;
    });
  }
}
