import { derivedId, mediaLimits } from "@whatsdex/core";

/** What a maker command takes in: an image's limit (stickers and memes are made from images). */
const MAX_INPUT_BYTES = mediaLimits.image.maxBytes;

import type { WAMessage } from "baileys";
import { MediaDownloadError } from "../../transport/baileys/media-download.ts";
import type { CommandContext } from "../command.ts";
import { type MediaKind, quotedRaw } from "../inbound-message.ts";

export interface MediaSource {
  raw: WAMessage;
  kind: MediaKind;
  mimetype: string | null;
}

/** The media a maker command works on: the message's own (the command is its caption), else the one it replies to. */
export function mediaSource({ message, raw }: Pick<CommandContext, "message" | "raw">): MediaSource | undefined {
  if (message.media) return { raw, ...message.media };
  const quoted = message.quoted?.media ? quotedRaw(raw) : undefined;
  return quoted && message.quoted?.media ? { raw: quoted, ...message.quoted.media } : undefined;
}

/**
 * The file of a media message, at most an image's limit: over that, or when
 * it cannot be had (gone, refused, not on WhatsApp's media hosts), the user is told why and the
 * answer is undefined. The download itself stops at the limit, so nothing larger is ever buffered.
 */
export async function downloadOrTell(context: CommandContext, raw: WAMessage): Promise<Buffer | undefined> {
  const { services, reply, t } = context;
  try {
    return await services.download(raw, { maxBytes: MAX_INPUT_BYTES });
  } catch (error) {
    if (!(error instanceof MediaDownloadError)) throw error;
    await reply(
      error.code === "too_large"
        ? t("maker.file_too_large", { mb: MAX_INPUT_BYTES / (1024 * 1024) })
        : t("maker.media_unavailable"),
    );
    return undefined;
  }
}

/**
 * Downloads the media and leaves it in the bot's media store for a job, under an id derived from
 * the job's natural key (so a redelivered command overwrites, never duplicates). When it cannot be
 * had the user is told and nothing is stored: undefined.
 */
export async function stashMedia(context: CommandContext, source: MediaSource, naturalKey: string) {
  const { services } = context;
  const data = await downloadOrTell(context, source.raw);
  if (!data) return undefined;
  const inputMediaId = derivedId("in", naturalKey);
  await services.media.put(services.bot, inputMediaId, { mimetype: source.mimetype ?? "image/jpeg", data });
  return inputMediaId;
}

/** Media jobs are retried a few times: a Firestore or sharp hiccup should not cost the user their request. */
export const mediaJobOptions = (jobId: string) =>
  ({ jobId, attempts: 3, backoff: { type: "exponential", delay: 1_000 } }) as const;
