import { randomUUID } from "node:crypto";
import { formatBytes, mediaKindSchema, mediaKinds, mediaLimits, NotFoundError, resourceIdSchema } from "@whatsdex/core";
import { z } from "zod";
import { defineRoute } from "../http/route.ts";
import { tenantParams } from "../http/schemas.ts";
import { receiveUpload } from "./upload-body.ts";

const uploadSchema = z
  .object({
    id: z.string().meta({ description: "Send it as `content.media.mediaId` (`POST …/bots/{botId}/messages`)." }),
    kind: mediaKindSchema,
    mimetype: z.string().meta({ description: "Read from the file's bytes, not from what the client declared." }),
    bytes: z.number().int(),
    fileName: z.string().nullable(),
    expiresAt: z.iso
      .datetime()
      .meta({ description: "After this the upload is gone; send it any number of times before." }),
  })
  .meta({ id: "MediaUpload" });

const limits = mediaKinds
  .map((kind) => {
    const { maxBytes, mimetypes } = mediaLimits[kind];
    return `${kind} ${formatBytes(maxBytes)} (${mimetypes ? mimetypes.join(", ") : "any type"})`;
  })
  .join("; ");

/** A file of any type, as bytes. */
const binary = z.string().meta({ format: "binary" });

export const mediaRoutes = [
  defineRoute({
    method: "post",
    path: "/tenants/{tenantId}/media",
    operationId: "uploadMedia",
    summary: "Upload a file to send in messages",
    description:
      "`multipart/form-data` with one `file` part and an optional `kind` (else the file's type decides it). " +
      `Limits per kind, as WhatsApp's: ${limits}; a static sticker at most 100 KB. The type is read from the ` +
      "file's bytes. Nothing is kept when the file is refused (413 over the limit, 400 for a type the kind does " +
      "not take). The upload can be sent many times until `expiresAt` (a day).",
    tag: "Media",
    auth: "user-or-api-key",
    permission: "messages:send",
    params: tenantParams,
    rawBody: {
      contentType: "multipart/form-data",
      schema: z.object({ file: binary, kind: mediaKindSchema.optional() }),
    },
    responses: {
      201: { description: "Kept", schema: uploadSchema },
      413: { description: "The file is over its kind's limit (`details.limitBytes`); nothing was kept." },
    },
    async handle({ params, request, services }) {
      const upload = await receiveUpload(request);
      const id = randomUUID().replaceAll("-", "");
      const info = await services.media.putUpload(params.tenantId, id, {
        kind: upload.media.kind,
        mimetype: upload.media.mimetype,
        data: upload.data,
        fileName: upload.fileName,
      });
      const { createdAt: _createdAt, ...body } = info;
      return { status: 201, body };
    },
  }),
  defineRoute({
    method: "get",
    path: "/tenants/{tenantId}/bots/{botId}/media/{mediaId}",
    operationId: "getReceivedMedia",
    summary: "The media of a message a bot received",
    description:
      "The bytes a `message.received` event names by `content.mediaId`, with their type. Kept for 7 days, and " +
      "only while someone listens to `message.received` when the message arrives.",
    tag: "Media",
    auth: "user-or-api-key",
    permission: "bots:read",
    params: tenantParams.extend({ botId: resourceIdSchema, mediaId: resourceIdSchema }),
    responses: {
      200: { description: "The file", contentType: "*/*", schema: binary },
    },
    async handle({ params, services }) {
      const media = await services.media.getInbound({ tenantId: params.tenantId, botId: params.botId }, params.mediaId);
      if (!media) throw new NotFoundError("No such media: it expired, or the bot did not keep it.");
      return {
        status: 200,
        binary: media.data,
        headers: {
          "Content-Type": media.mimetype,
          // Whatever a sender put in it, it is never rendered as a page of the API's origin.
          "Content-Disposition": "attachment",
          "X-Content-Type-Options": "nosniff",
          "Content-Security-Policy": "default-src 'none'; sandbox",
          "Cache-Control": "private, max-age=3600",
        },
      };
    },
  }),
];
