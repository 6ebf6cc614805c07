import { isIP } from "node:net";
import { z } from "zod";
import { resourceIdSchema } from "../firestore/ids.ts";

/**
 * A message's content twice: as the tenant API accepts it (media as an upload id or an https URL)
 * and as an outbox item carries it to the runner (media as the bot's own copy, by id). The API's
 * text shape is also the stored one, so a text request from before media existed reads the same.
 */

/** A person to mention: a phone number's JID or a LID, as `message.received` events name people. */
const personJidSchema = z
  .string()
  .trim()
  .regex(/^(?:[1-9]\d{6,14}@s\.whatsapp\.net|\d{5,20}@lid)$/, "must be a person's JID (…@s.whatsapp.net or …@lid)");

const mentionsSchema = z
  .array(personJidSchema)
  .max(256)
  .meta({ description: "People mentioned; the text (or caption) shows each as `@<number>`." });

/** WhatsApp message ids are letters and digits (`3EB0…`, `BAE5…`); anything else cannot be one. */
export const whatsappMessageIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9]{6,128}$/, "must be a WhatsApp message id (6-128 letters and digits)");

const quotedIdSchema = whatsappMessageIdSchema.meta({
  description:
    "Reply to this WhatsApp message. It must be one the bot sent or received in this chat within the last hour " +
    "(the runner keeps the most recent few hundred); otherwise the message fails with `quoted_not_found` and " +
    "nothing is sent.",
});

const captionSchema = z.string().min(1).max(1_024);
const textSchema = z.string().min(1).max(4_096);

/** A reference the runner can turn into WhatsApp's full message key (`{remoteJid, fromMe, id, participant}`). */
const reactionTargetSchema = z
  .strictObject({
    id: whatsappMessageIdSchema.meta({ description: "The WhatsApp id of the message reacted to." }),
    fromMe: z.boolean().meta({ description: "True if the bot sent that message; false if it received it." }),
    participant: personJidSchema
      .optional()
      .meta({ description: "In a group, who sent the message (required there unless `fromMe`)." }),
  })
  .meta({ id: "ReactionTarget" });

const emojiSchema = z
  .string()
  .refine(isReactionEmoji, "must be one emoji, or empty to remove the bot's reaction")
  .meta({ description: "One emoji; an empty string removes the bot's earlier reaction." });

const vcardSchema = z
  .string()
  .max(16_384, "must be at most 16 KB")
  .refine((v) => /^BEGIN:VCARD\r?\n/i.test(v.trimStart()), "must start with BEGIN:VCARD")
  .refine((v) => /\r?\nEND:VCARD$/i.test(v.trimEnd()), "must end with END:VCARD")
  .refine((v) => /^VERSION:/im.test(v), "must have a VERSION line")
  .refine((v) => /^FN[;:]/im.test(v), "must have an FN (formatted name) line")
  .meta({ description: "One vCard (3.0 or 4.0): BEGIN:VCARD … END:VCARD, at most 16 KB." });

const locationFields = {
  latitude: z.number().min(-90).max(90),
  longitude: z.number().min(-180).max(180),
};

/** Only `https` on a public name: the fetch itself (S's SSRF guard) also checks every resolved address. */
export const mediaUrlSchema = z
  .url({ protocol: /^https$/, error: "must be an https URL" })
  .max(2_048)
  .refine((value) => {
    const url = new URL(value);
    return url.username === "" && url.password === "";
  }, "must not carry credentials")
  .refine((value) => isPublicHostname(new URL(value).hostname), "must name a public host, not an internal one");

export const mediaSourceSchema = z
  .strictObject({
    mediaId: resourceIdSchema.optional().meta({ description: "An upload from POST /v1/tenants/{tenantId}/media." }),
    url: mediaUrlSchema.optional().meta({ description: "An https URL, fetched once when the message is queued." }),
  })
  .refine((m) => (m.mediaId === undefined) !== (m.url === undefined), "needs exactly one of mediaId or url")
  .meta({ id: "MediaSource" });
export type MediaSource = z.output<typeof mediaSourceSchema>;

const text = z.strictObject({
  type: z.literal("text"),
  text: textSchema,
  mentions: mentionsSchema.optional(),
  quotedId: quotedIdSchema.optional(),
});
const location = z.strictObject({
  type: z.literal("location"),
  ...locationFields,
  name: z.string().min(1).max(256).optional(),
  address: z.string().min(1).max(512).optional(),
  quotedId: quotedIdSchema.optional(),
});
const contact = z.strictObject({
  type: z.literal("contact"),
  displayName: z.string().trim().min(1).max(256),
  vcard: vcardSchema,
  quotedId: quotedIdSchema.optional(),
});
const reaction = z.strictObject({ type: z.literal("reaction"), emoji: emojiSchema, target: reactionTargetSchema });

/** What the tenant API accepts as a message's content. */
export const messageContentSchema = z
  .discriminatedUnion("type", [
    text,
    z.strictObject({
      type: z.literal("image"),
      media: mediaSourceSchema,
      caption: captionSchema.optional(),
      mentions: mentionsSchema.optional(),
      quotedId: quotedIdSchema.optional(),
    }),
    z.strictObject({
      type: z.literal("video"),
      media: mediaSourceSchema,
      caption: captionSchema.optional(),
      gifPlayback: z.boolean().optional().meta({ description: "Play as a looping GIF (a short MP4)." }),
      mentions: mentionsSchema.optional(),
      quotedId: quotedIdSchema.optional(),
    }),
    z.strictObject({
      type: z.literal("audio"),
      media: mediaSourceSchema,
      voiceNote: z.boolean().optional().meta({ description: "Send as a voice note (push-to-talk; OGG/Opus)." }),
      quotedId: quotedIdSchema.optional(),
    }),
    z.strictObject({
      type: z.literal("document"),
      media: mediaSourceSchema,
      fileName: z
        .string()
        .min(1)
        .max(255)
        .regex(/^[^/\\\p{Cc}]+$/u, "must be a file name, without slashes or control characters"),
      caption: captionSchema.optional(),
      quotedId: quotedIdSchema.optional(),
    }),
    z.strictObject({
      type: z.literal("sticker"),
      media: mediaSourceSchema,
      animated: z.boolean().optional(),
      quotedId: quotedIdSchema.optional(),
    }),
    location,
    contact,
    reaction,
  ])
  .meta({ id: "MessageContent" });
export type MessageContent = z.output<typeof messageContentSchema>;
export type MediaMessageContent = Extract<MessageContent, { media: MediaSource }>;
export type MediaMessageKind = MediaMessageContent["type"];

const stored = { mediaId: z.string().min(1) };

/**
 * What an outbox item carries: the API's content with media replaced by the bot's own copy
 * (`bots/{b}/media/{mediaId}`, deleted once sent), or media a job left there (a made sticker).
 * Fields added after the first items were written are optional, so older items still parse.
 */
export const outboxContentSchema = z.discriminatedUnion("type", [
  text,
  z.strictObject({
    type: z.literal("image"),
    ...stored,
    caption: captionSchema.nullable(),
    mentions: mentionsSchema.optional(),
    quotedId: quotedIdSchema.optional(),
  }),
  z.strictObject({
    type: z.literal("video"),
    ...stored,
    caption: captionSchema.nullable(),
    gifPlayback: z.boolean(),
    mentions: mentionsSchema.optional(),
    quotedId: quotedIdSchema.optional(),
  }),
  z.strictObject({ type: z.literal("audio"), ...stored, voiceNote: z.boolean(), quotedId: quotedIdSchema.optional() }),
  z.strictObject({
    type: z.literal("document"),
    ...stored,
    fileName: z.string().min(1).max(255),
    caption: captionSchema.nullable(),
    quotedId: quotedIdSchema.optional(),
  }),
  z.strictObject({ type: z.literal("sticker"), ...stored, animated: z.boolean(), quotedId: quotedIdSchema.optional() }),
  location,
  contact,
  reaction,
]);
export type OutboxContent = z.output<typeof outboxContentSchema>;

/** The outbox content for an API request, once its media is the bot's copy `mediaId`. */
export function outboxContentOf(content: MessageContent, mediaId: string | undefined): OutboxContent {
  if (!("media" in content)) return content;
  if (mediaId === undefined) throw new Error(`a ${content.type} message needs its media copied first`);
  const optional = <K extends string, V>(key: K, value: V | undefined) =>
    (value === undefined ? {} : { [key]: value }) as Partial<Record<K, V>>;
  switch (content.type) {
    case "image":
      return {
        type: "image",
        mediaId,
        caption: content.caption ?? null,
        ...optional("mentions", content.mentions),
        ...optional("quotedId", content.quotedId),
      };
    case "video":
      return {
        type: "video",
        mediaId,
        caption: content.caption ?? null,
        gifPlayback: content.gifPlayback ?? false,
        ...optional("mentions", content.mentions),
        ...optional("quotedId", content.quotedId),
      };
    case "audio":
      return {
        type: "audio",
        mediaId,
        voiceNote: content.voiceNote ?? false,
        ...optional("quotedId", content.quotedId),
      };
    case "document":
      return {
        type: "document",
        mediaId,
        fileName: content.fileName,
        caption: content.caption ?? null,
        ...optional("quotedId", content.quotedId),
      };
    case "sticker":
      return {
        type: "sticker",
        mediaId,
        animated: content.animated ?? false,
        ...optional("quotedId", content.quotedId),
      };
  }
}

/** Which uploaded types each kind may send (WhatsApp renders nothing for, say, a PDF sent as an image). */
export function mimetypeFits(kind: MediaMessageKind, mimetype: string): boolean {
  const type = mimetype.split(";")[0]?.trim().toLowerCase() ?? "";
  if (kind === "document") return type.length > 0;
  if (kind === "sticker") return type === "image/webp";
  return type.startsWith(`${kind}/`);
}

function isReactionEmoji(value: string): boolean {
  if (value === "") return true;
  const graphemes = [...new Intl.Segmenter(undefined, { granularity: "grapheme" }).segment(value)];
  return graphemes.length === 1 && /\p{Extended_Pictographic}|\p{Regional_Indicator}|\u20E3/u.test(value);
}

/** Names and literals that can only mean this network or the cloud's metadata server. */
function isPublicHostname(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (host === "localhost" || host.endsWith(".localhost") || host.endsWith(".internal") || host.endsWith(".local")) {
    return false;
  }
  const version = isIP(host);
  if (version === 4) {
    const [a = 0, b = 0] = host.split(".").map(Number);
    return !(
      a === 0 ||
      a === 10 ||
      a === 127 ||
      (a === 100 && b >= 64 && b <= 127) ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      a >= 224
    );
  }
  if (version === 6) {
    // Loopback, unspecified, unique-local, link-local, multicast and IPv4-mapped: none is a public server here.
    return !/^(?:::1?$|f[cd]|fe[89ab]|ff|::ffff:)/.test(host);
  }
  return host.includes(".");
}
