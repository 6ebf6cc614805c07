import { DomainError, ValidationError } from "../errors/domain-error.ts";
import type { BotRef } from "../leases/lease-store.ts";
import { type MediaMessageKind, type MediaMessageContent, mimetypeFits } from "./message-content.ts";

/**
 * Where a send's media comes from when the API queues it: the tenant's uploads
 * (`POST /v1/tenants/{t}/media`) or an https URL fetched once through the SSRF guard. Either way the
 * result is the bot's own copy (`bots/{b}/media/{mediaId}`), which the runner sends and deletes.
 * The composition root adapts the media store and URL fetcher to this.
 */
export interface SendMediaSource {
  /** Copies the tenant's upload to the bot as `mediaId`; undefined when there is no such upload (or it expired). */
  copyUpload(
    tenantId: string,
    uploadId: string,
    bot: BotRef,
    mediaId: string,
  ): Promise<{ mimetype: string } | undefined>;
  /** Fetches `url` once (size and type limits of `kind`) and keeps it for the bot as `mediaId`. */
  fetchUrl(url: string, kind: MediaMessageKind, bot: BotRef, mediaId: string): Promise<{ mimetype: string }>;
  delete(bot: BotRef, mediaId: string): Promise<void>;
}

/** The bot's copy of an outbox item's media: one per item, so a retried request overwrites rather than adds. */
export function sendMediaId(outboxId: string): string {
  return `${outboxId}-media`;
}

/**
 * Makes the bot's copy of the media a message names and checks it fits the kind (a PDF is no
 * image). Bad input names its field; nothing is left behind when it is refused.
 */
export async function stageSendMedia(
  source: SendMediaSource,
  bot: BotRef,
  outboxId: string,
  content: MediaMessageContent,
): Promise<string> {
  const mediaId = sendMediaId(outboxId);
  const { media } = content;
  let mimetype: string;
  if (media.mediaId !== undefined) {
    const copied = await source.copyUpload(bot.tenantId, media.mediaId, bot, mediaId);
    if (!copied) {
      throw new ValidationError("No such upload.", [
        { path: "body.content.media.mediaId", message: "is not an upload of this tenant (or it expired)" },
      ]);
    }
    mimetype = copied.mimetype;
  } else if (media.url !== undefined) {
    try {
      mimetype = (await source.fetchUrl(media.url, content.type, bot, mediaId)).mimetype;
    } catch (error) {
      if (error instanceof DomainError && !(error instanceof ValidationError)) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      throw new ValidationError(
        "The media URL could not be fetched.",
        [{ path: "body.content.media.url", message: reason }],
        { cause: error },
      );
    }
  } else {
    throw new Error("a media source has a mediaId or a url");
  }
  if (!mimetypeFits(content.type, mimetype)) {
    await source.delete(bot, mediaId);
    const path = media.mediaId === undefined ? "body.content.media.url" : "body.content.media.mediaId";
    throw new ValidationError(`The media is ${mimetype}, which cannot be sent as ${content.type}.`, [
      { path, message: `is ${mimetype}; a ${content.type} needs ${expected(content.type)}` },
    ]);
  }
  return mediaId;
}

function expected(kind: MediaMessageKind): string {
  return kind === "sticker" ? "image/webp" : kind === "document" ? "any type" : `${kind}/*`;
}
