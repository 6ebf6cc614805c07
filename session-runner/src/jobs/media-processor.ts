import { type BotRef, derivedId, type MediaStore, mediaLimits, type OutboxWriter } from "@whatsdex/core";
import { type Job, type mediaJobs, type Processors, UnrecoverableError } from "@whatsdex/core/jobs";
import { type Language, type MessageKey, translator } from "../i18n/messages.ts";
import { MediaError, type MediaErrorCode } from "../media/media-error.ts";
import { makeMeme } from "../media/meme.ts";
import { makeQr } from "../media/qr.ts";
import { makeSticker } from "../media/sticker.ts";
import { stickerToImage } from "../media/to-image.ts";

export interface MediaProcessorDeps {
  media: MediaStore;
  outbox: OutboxWriter;
}

/** What the user is told when their file or text cannot be made into an image. */
const refusals: Record<MediaErrorCode, MessageKey> = {
  image_too_large: "maker.image_too_large",
  unreadable_image: "maker.unreadable_image",
  result_too_large: "maker.result_too_large",
  text_too_long: "maker.qr_does_not_fit",
};

interface ImageJob {
  bot: BotRef;
  to: string;
  language: Language;
  /** Names the result and its outbox item, with the job's id. */
  kind: "toimage" | "qr" | "meme";
  /** The input in the media store, if the job has one: deleted last. */
  inputMediaId?: string;
}

type MadeImage = { data: Buffer; mimetype: string };

/**
 * What every image-making job shares (toimage, qr, meme): the result and its outbox item are
 * named after the job, a MediaError becomes a text reply (the user's file, not our failure), and
 * the input is deleted only once the result is queued.
 */
async function sendImage(deps: MediaProcessorDeps, job: Job<unknown>, spec: ImageJob, make: () => Promise<MadeImage>) {
  const { bot, to, inputMediaId } = spec;
  const itemId = derivedId(spec.kind, job.id);
  const requestedBy = `job:${job.name}`;
  // A rerun after the item was queued (the job died before deleting its input) makes nothing again.
  if (await deps.outbox.has(bot, itemId)) {
    if (inputMediaId) await deps.media.delete(bot, inputMediaId);
    return { itemId, already: true };
  }
  let image: MadeImage;
  try {
    image = await make();
  } catch (error) {
    if (!(error instanceof MediaError)) throw error;
    const text = translator(spec.language)(refusals[error.code]);
    await deps.outbox.queueSend(bot, itemId, { to, content: { type: "text", text }, requestedBy });
    if (inputMediaId) await deps.media.delete(bot, inputMediaId);
    return { itemId, refused: error.code };
  }
  await deps.media.put(bot, itemId, image);
  const queued = await deps.outbox.queueSend(bot, itemId, {
    to,
    content: { type: "image", mediaId: itemId, caption: null },
    requestedBy,
  });
  if (!queued.queued && queued.reason !== "exists") await deps.media.delete(bot, itemId);
  if (inputMediaId) await deps.media.delete(bot, inputMediaId);
  return { itemId, bytes: image.data.length, queued: queued.queued };
}

/** As sendImage, from the input a command left in the media store. Gone and answered already: a rerun. */
async function sendImageOf(
  deps: MediaProcessorDeps,
  job: Job<unknown>,
  spec: ImageJob & { inputMediaId: string },
  make: (input: Buffer) => Promise<MadeImage>,
) {
  const input = await deps.media.get(spec.bot, spec.inputMediaId);
  if (!input) {
    const itemId = derivedId(spec.kind, job.id);
    if (await deps.outbox.has(spec.bot, itemId)) return { itemId, already: true };
    throw new UnrecoverableError(`The media ${spec.inputMediaId} is gone; nothing to make an image of.`);
  }
  return sendImage(deps, job, spec, () => make(input.data));
}

/**
 * MediaProcessor: turns what a user sent into a sticker or an image and queues it in the bot's outbox.
 * Idempotent: the output media and the outbox item are named after the job, written before the
 * input is deleted, so a job that crashed anywhere and runs again ends the same way, once.
 */
export function mediaProcessors(deps: MediaProcessorDeps): Processors<typeof mediaJobs> {
  return {
    "media.sticker": async (job) => {
      const { tenantId, botId, to, inputMediaId, pack, author, language } = job.data;
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
        if (!(error instanceof MediaError)) throw error;
        // The user's file cannot become a sticker: tell them, and the job is done (not a failure of ours).
        await deps.outbox.queueSend(bot, itemId, {
          to,
          content: { type: "text", text: translator(language)(refusals[error.code]) },
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
    "media.toimage": async (job) => {
      const { tenantId, botId, to, inputMediaId, language } = job.data;
      const spec = { bot: { tenantId, botId }, to, language, kind: "toimage", inputMediaId } as const;
      return sendImageOf(deps, job, spec, (input) => stickerToImage(input, { maxBytes: mediaLimits.image.maxBytes }));
    },
    "media.qr": async (job) => {
      const { tenantId, botId, to, text, language } = job.data;
      return sendImage(deps, job, { bot: { tenantId, botId }, to, language, kind: "qr" }, () => makeQr(text));
    },
    "media.meme": async (job) => {
      const { tenantId, botId, to, inputMediaId, top, bottom, language } = job.data;
      const spec = { bot: { tenantId, botId }, to, language, kind: "meme", inputMediaId } as const;
      return sendImageOf(deps, job, spec, (input) =>
        makeMeme(input, { top, bottom }, { maxBytes: mediaLimits.image.maxBytes }),
      );
    },
  };
}
