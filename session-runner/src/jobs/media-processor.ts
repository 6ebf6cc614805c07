import { derivedId, type MediaStore, type OutboxWriter } from "@whatsdex/core";
import { type mediaJobs, type Processors, UnrecoverableError } from "@whatsdex/core/jobs";
import { makeSticker, StickerError } from "../media/sticker.ts";

export interface MediaProcessorDeps {
  media: MediaStore;
  outbox: OutboxWriter;
}

/**
 * MediaProcessor: turns the image a user sent into a sticker and queues it in the bot's outbox.
 * Idempotent: the output media and the outbox item are named after the job, written before the
 * input is deleted, so a job that crashed anywhere and runs again ends the same way, once.
 */
export function mediaProcessors(deps: MediaProcessorDeps): Processors<typeof mediaJobs> {
  return {
    "media.sticker": async (job) => {
      const { tenantId, botId, to, inputMediaId, pack, author } = job.data;
      const bot = { tenantId, botId };
      // The outbox item (and output media) is named after the job, so a rerun queues nothing new.
      const itemId = derivedId("sticker", job.id);
      const input = await deps.media.get(bot, inputMediaId);
      if (!input) {
        if (await deps.outbox.has(bot, itemId)) return { itemId, already: true };
        throw new UnrecoverableError(`The image ${inputMediaId} is gone; nothing to make a sticker of.`);
      }
      let sticker: Awaited<ReturnType<typeof makeSticker>>;
      try {
        sticker = await makeSticker(input.data, {
          packId: `whatsdex-${botId}`,
          packName: pack,
          publisher: author,
          emojis: [],
        });
      } catch (error) {
        if (!(error instanceof StickerError)) throw error;
        // The user's file cannot become a sticker: tell them, and the job is done (not a failure of ours).
        await deps.outbox.queueSend(bot, itemId, {
          to,
          content: { type: "text", text: error.message },
          requestedBy: `job:${job.name}`,
        });
        await deps.media.delete(bot, inputMediaId);
        return { itemId, refused: error.code };
      }
      await deps.media.put(bot, itemId, { mimetype: "image/webp", data: sticker.data });
      const queued = await deps.outbox.queueSend(bot, itemId, {
        to,
        content: { type: "sticker", mediaId: itemId, animated: sticker.animated },
        requestedBy: `job:${job.name}`,
      });
      if (!queued.queued && queued.reason !== "exists") await deps.media.delete(bot, itemId);
      await deps.media.delete(bot, inputMediaId);
      return { itemId, bytes: sticker.bytes, animated: sticker.animated, queued: queued.queued };
    },
  };
}
