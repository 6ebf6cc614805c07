import { type Firestore, Timestamp } from "firebase-admin/firestore";
import { z } from "zod";
import { PayloadTooLargeError } from "../errors/domain-error.ts";
import { zodConverter } from "../firestore/converter.ts";
import { mediaPath } from "../firestore/paths.ts";
import { timestampSchema } from "../firestore/timestamps.ts";
import type { BotRef } from "../leases/lease-store.ts";

/** Firestore's document limit is 1 MiB; this leaves room for the other fields. */
export const MAX_MEDIA_BYTES = 1_000_000;
/** Media in transit is deleted once sent; anything left behind is stale after this. */
const MEDIA_TTL_MS = 24 * 3_600_000;

const mediaDocSchema = z.object({
  mimetype: z.string().min(1),
  data: z.instanceof(Buffer),
  bytes: z.number().int(),
  createdAt: timestampSchema,
  /** For a Firestore TTL policy on `media`, so nothing lingers if a send never happens. */
  expiresAt: timestampSchema,
});
export type MediaDoc = z.output<typeof mediaDocSchema>;
const converter = zodConverter(mediaDocSchema);

/**
 * Bytes handed between a job and the bot's runner through Firestore (`bots/{b}/media/{id}`): a
 * made sticker waiting for the outbox, an image a command downloaded for a job. Bounded by one
 * document; never readable by clients.
 */
export class MediaStore {
  readonly #db: Firestore;

  constructor(db: Firestore) {
    this.#db = db;
  }

  #ref(bot: BotRef, mediaId: string) {
    return this.#db.doc(mediaPath(bot.tenantId, bot.botId, mediaId)).withConverter(converter);
  }

  async put(bot: BotRef, mediaId: string, media: { mimetype: string; data: Buffer }): Promise<void> {
    if (media.data.length > MAX_MEDIA_BYTES) {
      throw new PayloadTooLargeError(
        `Media is ${media.data.length} bytes; at most ${MAX_MEDIA_BYTES} can be handed on.`,
      );
    }
    const now = Date.now();
    await this.#ref(bot, mediaId).set({
      mimetype: media.mimetype,
      data: media.data,
      bytes: media.data.length,
      createdAt: Timestamp.fromMillis(now),
      expiresAt: Timestamp.fromMillis(now + MEDIA_TTL_MS),
    });
  }

  async get(bot: BotRef, mediaId: string): Promise<MediaDoc | undefined> {
    return (await this.#ref(bot, mediaId).get()).data();
  }

  async delete(bot: BotRef, mediaId: string): Promise<void> {
    await this.#ref(bot, mediaId).delete();
  }
}
