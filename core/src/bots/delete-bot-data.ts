import type { Firestore } from "@google-cloud/firestore";
import { botPath } from "../firestore/paths.ts";

/**
 * Deletes everything stored under a bot (auth state, outbox, contacts, lease) once the bot document
 * itself is gone. Firestore never deletes subcollections with their parent, so without this a
 * deleted bot would leave its WhatsApp session keys behind. Safe to run twice: a second run finds
 * nothing to delete.
 */
export async function deleteBotData(db: Firestore, tenantId: string, botId: string): Promise<void> {
  await db.recursiveDelete(db.doc(botPath(tenantId, botId)));
}
