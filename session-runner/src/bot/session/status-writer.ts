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
export type StatusWrite = { reason?: string | null; linking?: Linking; stop?: boolean; phoneNumber?: string };

export class StatusWriter {
  readonly #db: Firestore;
  readonly #bot: BotRef;
  readonly #fence: WriteFence;
  readonly #onWritten: ((state: BotState, write: StatusWrite) => void) | undefined;

  /** `onWritten` hears each state once it is stored (events follow what the dashboard sees, fenced alike). */
  constructor(
    db: Firestore,
    bot: BotRef,
    fence: WriteFence,
    onWritten?: (state: BotState, write: StatusWrite) => void,
  ) {
    this.#db = db;
    this.#bot = bot;
    this.#fence = fence;
    this.#onWritten = onWritten;
  }

  async write(state: BotState, options: StatusWrite = {}): Promise<void> {
    const botRef = this.#db.doc(botPath(this.#bot.tenantId, this.#bot.botId));
    const linkingRef = this.#db.doc(linkingPath(this.#bot.tenantId, this.#bot.botId)).withConverter(linkingConverter);
    const now = Timestamp.now();
    const written = await this.#db.runTransaction(async (tx) => {
      await this.#fence.assertHeld(tx);
      const bot = await tx.get(botRef);
      if (!bot.exists) return false; // deleted meanwhile: its trigger removes what lies under it
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
      return true;
    });
    if (written) this.#onWritten?.(state, options);
  }
}
