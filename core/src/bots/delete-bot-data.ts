import type { Firestore } from "@google-cloud/firestore";
import { botPath } from "../firestore/paths.ts";
import type { MediaStore } from "../media/media-store.ts";

/**
 * Deletes everything stored under a bot (auth state, outbox, contacts, lease, and its media in
 * Cloud Storage) once the bot document itself is gone. Firestore never deletes subcollections with
 * their parent, so without this a deleted bot would leave its WhatsApp session keys behind. Safe to
 * run twice: a second run finds nothing to delete.
 */
export async function deleteBotData(
  stores: { db: Firestore; media: MediaStore },
  tenantId: string,
  botId: string,
): Promise<void> {
  const { db, media } = stores;
  await Promise.all([db.recursiveDelete(db.doc(botPath(tenantId, botId))), media.deleteBot({ tenantId, botId })]);
}
