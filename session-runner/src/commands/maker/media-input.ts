import { derivedId, MAX_MEDIA_BYTES } from "@whatsdex/core";
import type { WAMessage } from "baileys";
import type { CommandContext } from "../command.ts";
import { type MediaKind, quotedRaw } from "../inbound/inbound-message.ts";

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
 * Downloads the media and leaves it in the bot's media store for a job, under an id derived from
 * the job's natural key (so a redelivered command overwrites, never duplicates). Over the store's
 * limit the user is told and nothing is stored: undefined.
 */
export async function stashMedia(context: CommandContext, source: MediaSource, naturalKey: string) {
  const { services, reply, t } = context;
  const data = await services.download(source.raw);
  if (data.length > MAX_MEDIA_BYTES) {
    await reply(t("maker.file_too_large", { mb: MAX_MEDIA_BYTES / 1_000_000 }));
    return undefined;
  }
  const inputMediaId = derivedId("in", naturalKey);
  await services.media.put(services.bot, inputMediaId, { mimetype: source.mimetype ?? "image/jpeg", data });
  return inputMediaId;
}

/** Media jobs are retried a few times: a Firestore or sharp hiccup should not cost the user their request. */
export const mediaJobOptions = (jobId: string) =>
  ({ jobId, attempts: 3, backoff: { type: "exponential", delay: 1_000 } }) as const;
