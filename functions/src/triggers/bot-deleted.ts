import type { Tracer } from "@opentelemetry/api";
import { deleteBotData, inSpan, type Logger, type MediaStore } from "@whatsdex/core";
import type { Firestore } from "firebase-admin/firestore";

export interface BotDeletedDeps {
  firebase: { firestore: Firestore };
  media: MediaStore;
  logger: Logger;
  tracing: { tracer: Tracer };
}

/**
 * Runs for every deleted bot document, at least once: Firestore triggers may be redelivered, and a
 * second run finds nothing left to delete.
 */
export async function cleanUpDeletedBot(
  deps: BotDeletedDeps,
  params: { tenantId: string; botId: string },
): Promise<void> {
  const { tenantId, botId } = params;
  const attributes = { "whatsdex.tenant_id": tenantId, "whatsdex.bot_id": botId };
  await inSpan(deps.tracing.tracer, "trigger onBotDeleted", attributes, () =>
    deleteBotData({ db: deps.firebase.firestore, media: deps.media }, tenantId, botId),
  );
  deps.logger.info({ tenantId, botId }, "deleted the data of a deleted bot");
}
