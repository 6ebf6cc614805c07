import type { Bucket, File } from "@google-cloud/storage";
import { z } from "zod";
import { ValidationError } from "../errors/domain-error.ts";
import { resourceIdSchema } from "../firestore/ids.ts";
import type { BotRef } from "../leases/lease-store.ts";
import { mediaTooLarge } from "./media-check.ts";
import { kindOfMimetype, MAX_MEDIA_BYTES, type MediaKind, mediaKindSchema, mediaLimits } from "./media-kinds.ts";

/**
 * How long each kind of object lives. The bucket's lifecycle rules (docs/deploy.md) delete by these
 * ages, by prefix; the store also treats an expired upload as gone, since lifecycle deletion runs
 * up to a day late.
 */
export const mediaRetention = {
  /** A job's input or output, or a send's own copy: deleted once sent; the rule catches leftovers. */
  transitDays: 1,
  /** An API upload, sendable (many times) until then. */
  uploadDays: 1,
  /** A received message's media, for `GET …/bots/{b}/media/{id}` (events name it). */
  inboundDays: 7,
} as const;

/** The top-level prefixes, one per kind of object: lifecycle rules match on a prefix. */
export const mediaPrefixes = {
  transit: "transit/",
  uploads: "uploads/",
  inbound: "inbound/",
  /** A message template's own copy of its media, kept as long as the template (no lifecycle rule). */
  templates: "templates/",
} as const;

const DAY_MS = 86_400_000;
/** Buffers larger than this go up as resumable uploads (what the client recommends past ~10 MB). */
const RESUMABLE_FROM_BYTES = 8 * 1024 * 1024;

/** Bytes and their content type: what a job, the runner or an upload hands over. */
export interface Media {
  mimetype: string;
  data: Buffer;
}

export interface StoredMedia extends Media {
  bytes: number;
}

/** One stored object of a tenant, as an export names it. */
export interface TenantObject {
  kind: keyof typeof mediaPrefixes;
  botId: string | null;
  id: string;
  contentType: string | null;
  bytes: number;
  createdAt: string | null;
}

/** An upload as the API describes it (`POST /v1/tenants/{t}/media` answers with this). */
export interface UploadInfo {
  id: string;
  kind: MediaKind;
  mimetype: string;
  bytes: number;
  fileName: string | null;
  createdAt: string;
  expiresAt: string;
}

/** Custom metadata on an upload object (Cloud Storage keeps string values). */
const uploadMetadataSchema = z.object({
  kind: mediaKindSchema,
  fileName: z.string().max(255).optional(),
  expiresAt: z.iso.datetime(),
});

const fileNameSchema = z
  .string()
  .max(255)
  // Control characters and path separators would make a misleading or unsafe name when saved.
  .transform((name) =>
    [...name]
      .map((c) => (c.charCodeAt(0) < 0x20 || c === "\u007f" || c === "/" || c === "\\" ? "_" : c))
      .join("")
      .trim(),
  );

function checkedId(value: string, what: string): string {
  const parsed = resourceIdSchema.safeParse(value);
  if (!parsed.success) {
    const message = parsed.error.issues[0]?.message ?? "is not a valid id";
    throw new ValidationError(`Invalid ${what}: ${message}.`, [{ path: what, message }]);
  }
  return parsed.data;
}

function isNotFound(error: unknown): boolean {
  return typeof error === "object" && error !== null && "code" in error && error.code === 404;
}

/**
 * Media in Cloud Storage, in one bucket (built by the composition root, passed in):
 * - transit: `transit/{tenant}/{bot}/{id}`, bytes handed between a job and the bot's runner (a made
 *   sticker, an image a command downloaded, a send's copy of an upload), deleted once used;
 * - uploads: `uploads/{tenant}/{id}`, a tenant's API uploads, copied into transit for each send so
 *   that one upload can be sent many times;
 * - inbound: `inbound/{tenant}/{bot}/{id}`, received media kept for the events that name it.
 * Every id is checked (resourceIdSchema) before it becomes part of a name, so no name can leave its
 * prefix (`..`, `/`). Never readable by clients directly: the API serves what they may see.
 */
export class MediaStore {
  readonly #bucket: Bucket;
  readonly #now: () => number;

  constructor(bucket: Bucket, options: { now?: () => number } = {}) {
    this.#bucket = bucket;
    this.#now = options.now ?? Date.now;
  }

  #transit(bot: BotRef, mediaId: string): File {
    const name = `${mediaPrefixes.transit}${checkedId(bot.tenantId, "tenantId")}/${checkedId(bot.botId, "botId")}/${checkedId(mediaId, "mediaId")}`;
    return this.#bucket.file(name);
  }

  #upload(tenantId: string, uploadId: string): File {
    return this.#bucket.file(
      `${mediaPrefixes.uploads}${checkedId(tenantId, "tenantId")}/${checkedId(uploadId, "uploadId")}`,
    );
  }

  #inbound(bot: BotRef, mediaId: string): File {
    const name = `${mediaPrefixes.inbound}${checkedId(bot.tenantId, "tenantId")}/${checkedId(bot.botId, "botId")}/${checkedId(mediaId, "mediaId")}`;
    return this.#bucket.file(name);
  }

  async #save(file: File, media: Media, metadata: Record<string, string> = {}): Promise<void> {
    await file.save(media.data, {
      resumable: media.data.length > RESUMABLE_FROM_BYTES,
      contentType: media.mimetype,
      metadata: { customTime: new Date(this.#now()).toISOString(), metadata },
    });
  }

  async #read(file: File): Promise<{ media: StoredMedia; metadata: Record<string, unknown> } | undefined> {
    try {
      const [info] = await file.getMetadata();
      // The generation read above, so that bytes and type belong to the same write.
      const [data] = await this.#bucket
        .file(file.name, info.generation === undefined ? {} : { generation: info.generation })
        .download();
      const mimetype = info.contentType ?? "application/octet-stream";
      return { media: { mimetype, data, bytes: data.length }, metadata: { ...info.metadata } };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async #delete(file: File): Promise<void> {
    await file.delete({ ignoreNotFound: true });
  }

  /** Keeps a job's input or output (or anything else in transit) for the bot; replaces one of the same id. */
  async put(bot: BotRef, mediaId: string, media: Media): Promise<void> {
    if (media.data.length > MAX_MEDIA_BYTES) {
      throw mediaTooLarge(kindOfMimetype(media.mimetype), MAX_MEDIA_BYTES, "Media handed to a bot");
    }
    await this.#save(this.#transit(bot, mediaId), media);
  }

  async get(bot: BotRef, mediaId: string): Promise<StoredMedia | undefined> {
    return (await this.#read(this.#transit(bot, mediaId)))?.media;
  }

  /** Gone already is fine: deleting after a send may run twice. */
  async delete(bot: BotRef, mediaId: string): Promise<void> {
    await this.#delete(this.#transit(bot, mediaId));
  }

  /**
   * Keeps a tenant's upload for `mediaRetention.uploadDays`. The caller has checked the bytes
   * (checkMedia); the kind's size limit is checked again here, where media enters storage.
   */
  async putUpload(
    tenantId: string,
    uploadId: string,
    upload: Media & { kind?: MediaKind; fileName?: string | null },
  ): Promise<UploadInfo> {
    const kind = upload.kind ?? kindOfMimetype(upload.mimetype);
    if (upload.data.length > mediaLimits[kind].maxBytes) throw mediaTooLarge(kind);
    const now = this.#now();
    const fileName = upload.fileName ? fileNameSchema.parse(upload.fileName) || null : null;
    const expiresAt = new Date(now + mediaRetention.uploadDays * DAY_MS).toISOString();
    await this.#save(this.#upload(tenantId, uploadId), upload, {
      kind,
      expiresAt,
      ...(fileName ? { fileName } : {}),
    });
    return {
      id: uploadId,
      kind,
      mimetype: upload.mimetype,
      bytes: upload.data.length,
      fileName,
      createdAt: new Date(now).toISOString(),
      expiresAt,
    };
  }

  #info(
    uploadId: string,
    file: { contentType?: string | undefined; size?: string | number | undefined; timeCreated?: string | undefined },
    raw: Record<string, unknown>,
  ): UploadInfo | undefined {
    const metadata = uploadMetadataSchema.safeParse(raw);
    // Not one of ours, or past its time (lifecycle deletion may lag by a day): as good as gone.
    if (!metadata.success || Date.parse(metadata.data.expiresAt) <= this.#now()) return undefined;
    return {
      id: uploadId,
      kind: metadata.data.kind,
      mimetype: file.contentType ?? "application/octet-stream",
      bytes: Number(file.size ?? 0),
      fileName: metadata.data.fileName ?? null,
      createdAt: file.timeCreated ?? new Date(0).toISOString(),
      expiresAt: metadata.data.expiresAt,
    };
  }

  /** An upload's description, without its bytes; undefined when it is gone or expired. */
  async uploadInfo(tenantId: string, uploadId: string): Promise<UploadInfo | undefined> {
    try {
      const [file] = await this.#upload(tenantId, uploadId).getMetadata();
      return this.#info(uploadId, file, { ...file.metadata });
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async getUpload(tenantId: string, uploadId: string): Promise<(UploadInfo & { data: Buffer }) | undefined> {
    const file = this.#upload(tenantId, uploadId);
    const read = await this.#read(file);
    if (!read) return undefined;
    const info = this.#info(uploadId, { contentType: read.media.mimetype, size: read.media.bytes }, read.metadata);
    return info ? { ...info, data: read.media.data } : undefined;
  }

  /**
   * A send's own copy of an upload, made inside Cloud Storage (no bytes through us): the send
   * deletes its copy when done, and the upload stays for other sends until it expires. Copying
   * again to the same id replaces the copy with the same bytes, so a retried send is harmless.
   * Undefined when the upload is gone or expired (or another tenant's bot asks).
   */
  async copyUploadToBot(
    tenantId: string,
    uploadId: string,
    bot: BotRef,
    mediaId: string,
  ): Promise<UploadInfo | undefined> {
    if (bot.tenantId !== tenantId) return undefined;
    const info = await this.uploadInfo(tenantId, uploadId);
    if (!info) return undefined;
    const target = this.#transit(bot, mediaId);
    try {
      await this.#upload(tenantId, uploadId).copy(target, {
        contentType: info.mimetype,
        metadata: { customTime: new Date(this.#now()).toISOString() },
      });
    } catch (error) {
      // Deleted between the look and the copy.
      if (isNotFound(error)) return undefined;
      throw error;
    }
    return info;
  }

  #template(tenantId: string, mediaId: string): File {
    return this.#bucket.file(
      `${mediaPrefixes.templates}${checkedId(tenantId, "tenantId")}/${checkedId(mediaId, "mediaId")}`,
    );
  }

  /**
   * A template's own copy of an upload (inside Cloud Storage), which outlives the upload's day: what
   * a campaign sends for as long as the template exists. Undefined when the upload is gone or expired.
   */
  async copyUploadToTemplate(tenantId: string, uploadId: string, mediaId: string): Promise<UploadInfo | undefined> {
    const info = await this.uploadInfo(tenantId, uploadId);
    if (!info) return undefined;
    try {
      await this.#upload(tenantId, uploadId).copy(this.#template(tenantId, mediaId), {
        contentType: info.mimetype,
        metadata: { customTime: new Date(this.#now()).toISOString() },
      });
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
    return info;
  }

  /** A send's own copy of a template's media, as copyUploadToBot; false when the template's copy is gone. */
  async copyTemplateMediaToBot(tenantId: string, mediaId: string, bot: BotRef, transitId: string): Promise<boolean> {
    if (bot.tenantId !== tenantId) return false;
    try {
      await this.#template(tenantId, mediaId).copy(this.#transit(bot, transitId), {
        metadata: { customTime: new Date(this.#now()).toISOString() },
      });
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  /** Gone already is fine: a template's media is deleted with it, or when replaced. */
  async deleteTemplateMedia(tenantId: string, mediaId: string): Promise<void> {
    await this.#delete(this.#template(tenantId, mediaId));
  }

  /** Keeps a received message's media for `mediaRetention.inboundDays`. */
  async putInbound(bot: BotRef, mediaId: string, media: Media): Promise<void> {
    if (media.data.length > MAX_MEDIA_BYTES) {
      throw mediaTooLarge(kindOfMimetype(media.mimetype), MAX_MEDIA_BYTES, "Received media");
    }
    await this.#save(this.#inbound(bot, mediaId), media);
  }

  async getInbound(bot: BotRef, mediaId: string): Promise<StoredMedia | undefined> {
    return (await this.#read(this.#inbound(bot, mediaId)))?.media;
  }

  /**
   * Every object kept for a tenant (uploads, and each bot's transit and inbound media), a page at a
   * time: an account's export lists them by reference, never their bytes.
   */
  async *tenantObjects(tenantId: string, pageSize = 500): AsyncGenerator<TenantObject> {
    const tenant = checkedId(tenantId, "tenantId");
    for (const [kind, prefix] of Object.entries(mediaPrefixes) as Array<[TenantObject["kind"], string]>) {
      let pageToken: string | undefined;
      do {
        const [files, next] = await this.#bucket.getFiles({
          prefix: `${prefix}${tenant}/`,
          maxResults: pageSize,
          autoPaginate: false,
          ...(pageToken ? { pageToken } : {}),
        });
        for (const file of files) {
          // `{prefix}{tenant}/{id}` for uploads, `{prefix}{tenant}/{bot}/{id}` for the rest.
          const parts = file.name.slice(prefix.length + tenant.length + 1).split("/");
          yield {
            kind,
            botId: parts.length > 1 ? (parts[0] ?? null) : null,
            id: parts[parts.length - 1] ?? file.name,
            contentType: file.metadata.contentType ?? null,
            bytes: Number(file.metadata.size ?? 0),
            createdAt: file.metadata.timeCreated ?? null,
          };
        }
        pageToken = next?.pageToken;
      } while (pageToken);
    }
  }

  /** Everything kept for a tenant whose account is closed (every prefix); safe to run twice. */
  async deleteTenant(tenantId: string): Promise<void> {
    const tenant = checkedId(tenantId, "tenantId");
    for (const prefix of Object.values(mediaPrefixes)) await this.#deletePrefix(`${prefix}${tenant}/`);
  }

  /** Everything kept for a deleted bot (transit and inbound); safe to run twice. */
  async deleteBot(bot: BotRef): Promise<void> {
    const tenant = checkedId(bot.tenantId, "tenantId");
    const botId = checkedId(bot.botId, "botId");
    for (const prefix of [mediaPrefixes.transit, mediaPrefixes.inbound]) {
      await this.#deletePrefix(`${prefix}${tenant}/${botId}/`);
    }
  }

  /**
   * Deletes every object under `prefix`, a page at a time. An object already gone is fine: two
   * deletions may run at once (the onBotDeleted trigger and a redelivery of it, or an account
   * closing), and Bucket.deleteFiles fails on the first object the other one deleted first.
   */
  async #deletePrefix(prefix: string): Promise<void> {
    for (;;) {
      // The first page again each time: what was listed is gone, whoever deleted it.
      const [files] = await this.#bucket.getFiles({ prefix, autoPaginate: false, maxResults: 500 });
      if (files.length === 0) return;
      await Promise.all(files.map((file) => file.delete({ ignoreNotFound: true })));
    }
  }
}
