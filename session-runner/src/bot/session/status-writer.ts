import {
  type BotRef,
  botPath,
  type botStateSchema,
  type LinkingDoc,
  linkingDocSchema,
  linkingPath,
  type WriteFence,
  zodConverter,
} from "@whatsdex/core";
import { type Firestore, Timestamp } from "firebase-admin/firestore";
import type { z } from "zod";

const linkingConverter = zodConverter(linkingDocSchema);

export type BotState = z.output<typeof botStateSchema>;

export interface Linking {
  qr: { code: string; expiresAt: Date } | null;
  pairingCode: { code: string; expiresAt: Date } | null;
}

/**
 * What the runner tells the dashboard about a bot: its connection state on the bot document, and
 * QR / pairing codes on `bots/{b}/linking/current` (owners and admins only, by the rules). Every
 * write is fenced: a deposed runner cannot overwrite the new owner's view.
 */
export class StatusWriter {
  readonly #db: Firestore;
  readonly #bot: BotRef;
  readonly #fence: WriteFence;

  constructor(db: Firestore, bot: BotRef, fence: WriteFence) {
    this.#db = db;
    this.#bot = bot;
    this.#fence = fence;
  }

  async write(
    state: BotState,
    options: { reason?: string | null; linking?: Linking; stop?: boolean; phoneNumber?: string } = {},
  ): Promise<void> {
    const botRef = this.#db.doc(botPath(this.#bot.tenantId, this.#bot.botId));
    const linkingRef = this.#db.doc(linkingPath(this.#bot.tenantId, this.#bot.botId)).withConverter(linkingConverter);
    const now = Timestamp.now();
    await this.#db.runTransaction(async (tx) => {
      await this.#fence.assertHeld(tx);
      const bot = await tx.get(botRef);
      if (!bot.exists) return; // deleted meanwhile: its trigger removes what lies under it
      tx.update(botRef, {
        status: { state, reason: options.reason ?? null, updatedAt: now },
        ...(options.stop ? { desiredState: "stopped" } : {}),
        ...(options.phoneNumber ? { phoneNumber: options.phoneNumber } : {}),
        updatedAt: now,
      });
      const linking = options.linking ?? { qr: null, pairingCode: null };
      const doc: LinkingDoc = {
        qr: linking.qr ? { code: linking.qr.code, expiresAt: Timestamp.fromDate(linking.qr.expiresAt) } : null,
        pairingCode: linking.pairingCode
          ? { code: linking.pairingCode.code, expiresAt: Timestamp.fromDate(linking.pairingCode.expiresAt) }
          : null,
        updatedAt: now,
      };
      tx.set(linkingRef, doc);
    });
  }
}
