import { DomainError, UnavailableError, ValidationError } from "../errors/domain-error.ts";
import type { BotRef } from "../leases/lease-store.ts";
import { mediaTooLarge } from "../media/media-check.ts";
import { mediaLimits } from "../media/media-kinds.ts";
import type { MediaStore } from "../media/media-store.ts";
import { type MediaMessageContent, type MediaMessageKind, mimetypeFits } from "./message-content.ts";

/** What the bot's copy of a send's media turned out to be. */
export interface StagedMedia {
  mimetype: string;
  bytes: number;
}

/**
 * Where a send's media comes from when the API queues it: the tenant's uploads
 * (`POST /v1/tenants/{t}/media`) or an https URL fetched once through the SSRF guard. Either way the
 * result is the bot's own copy (transit media, `mediaId`), which the runner sends and deletes.
 */
export interface SendMediaSource {
  /** Copies the tenant's upload to the bot as `mediaId`; undefined when there is no such upload (or it expired). */
  copyUpload(tenantId: string, uploadId: string, bot: BotRef, mediaId: string): Promise<StagedMedia | undefined>;
  /** Fetches `url` once (within the limits of `kind`) and keeps it for the bot as `mediaId`. */
  fetchUrl(url: string, kind: MediaMessageKind, bot: BotRef, mediaId: string): Promise<StagedMedia>;
  delete(bot: BotRef, mediaId: string): Promise<void>;
}

/** Fetches a URL's media (through the SSRF guard, within the kind's limits), as the media module does. */
export type FetchMedia = (url: string, kind: MediaMessageKind) => Promise<{ mimetype: string; data: Buffer }>;

/** The source over the media store, with URL fetching where the deployment has it (else such sends are 503). */
export function mediaStoreSource(store: MediaStore, fetchMedia?: FetchMedia): SendMediaSource {
  return {
    async copyUpload(tenantId, uploadId, bot, mediaId) {
      const info = await store.copyUploadToBot(tenantId, uploadId, bot, mediaId);
      return info && { mimetype: info.mimetype, bytes: info.bytes };
    },
    async fetchUrl(url, kind, bot, mediaId) {
      if (!fetchMedia) throw new UnavailableError("Media from URLs is not available on this deployment.");
      const media = await fetchMedia(url, kind);
      await store.put(bot, mediaId, media);
      return { mimetype: media.mimetype, bytes: media.data.length };
    },
    delete: (bot, mediaId) => store.delete(bot, mediaId),
  };
}

/** The bot's copy of an outbox item's media: one per item, so a retried request overwrites rather than adds. */
export function sendMediaId(outboxId: string): string {
  return `${outboxId}-media`;
}

/**
 * Makes the bot's copy of the media a message names and checks it fits the kind sent (a PDF is no
 * image; a 50 MB document is no video). Bad input names its field; nothing is left behind when it
 * is refused.
 */
export async function stageSendMedia(
  source: SendMediaSource,
  bot: BotRef,
  outboxId: string,
  content: MediaMessageContent,
): Promise<string> {
  const mediaId = sendMediaId(outboxId);
  const { media } = content;
  const path = media.mediaId === undefined ? "body.content.media.url" : "body.content.media.mediaId";
  let staged: StagedMedia;
  if (media.mediaId !== undefined) {
    const copied = await source.copyUpload(bot.tenantId, media.mediaId, bot, mediaId);
    if (!copied) {
      throw new ValidationError("No such upload.", [
        { path, message: "is not an upload of this tenant (or it expired)" },
      ]);
    }
    staged = copied;
  } else if (media.url !== undefined) {
    try {
      staged = await source.fetchUrl(media.url, content.type, bot, mediaId);
    } catch (error) {
      if (error instanceof DomainError && !(error instanceof ValidationError)) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      throw new ValidationError("The media URL could not be fetched.", [{ path, message: reason }], { cause: error });
    }
  } else {
    throw new Error("a media source has a mediaId or a url");
  }
  // An upload made as one kind may be sent as another (a photo as a document), within the limits of the kind sent.
  const limit = mediaLimits[content.type].maxBytes;
  if (staged.bytes > limit) {
    await source.delete(bot, mediaId);
    throw mediaTooLarge(content.type, limit);
  }
  if (!mimetypeFits(content.type, staged.mimetype)) {
    await source.delete(bot, mediaId);
    throw new ValidationError(`The media is ${staged.mimetype}, which cannot be sent as ${content.type}.`, [
      { path, message: `is ${staged.mimetype}; a ${content.type} needs ${expected(content.type)}` },
    ]);
  }
  return mediaId;
}

function expected(kind: MediaMessageKind): string {
  return kind === "sticker" ? "image/webp" : kind === "document" ? "any type" : `${kind}/*`;
}
