import { z } from "zod";

/**
 * The phone API, both sides of the wire: requests the server validates, events the client reads.
 * Two servers speak it — the in-process simulator's phones (session-runner) and the local WhatsApp
 * server (the `local-whatsapp` workspace) — and devtools' PhoneClient talks to either.
 */

const digits = z
  .string()
  .transform((value) => value.replace(/[\s+()-]/g, ""))
  .pipe(z.string().regex(/^\d{7,15}$/, "must be a phone number: 7-15 digits, optionally with +, spaces or dashes"));

const person = z.object({ number: digits, name: z.string().trim().min(1).max(60).optional() });
const base64 = z.base64("must be base64").max(20_000_000, "must be at most 15 MB of media");

export const linkSchema = z.object({ qr: z.string().min(1), number: digits });
export const pairSchema = z.object({ code: z.string().regex(/^[A-Z0-9]{8}$/, "must be the 8-character pairing code") });
export const groupSchema = z.object({
  subject: z.string().trim().min(1).max(100),
  participants: z
    .array(z.object({ number: digits, admin: z.enum(["admin", "superadmin"]).nullable().default(null) }))
    .min(1)
    .max(256),
});
export const messageSchema = z
  .object({
    /** The bot's linked number: who the message is for. */
    to: digits,
    from: person,
    /** A group JID (from POST /v1/groups); a private chat with the bot when absent. */
    group: z
      .string()
      .regex(/^\d{6,30}(-\d+)?@g\.us$/, "must be a group JID")
      .optional(),
    text: z.string().max(65_536).optional(),
    image: z.object({ data: base64, mimetype: z.enum(["image/jpeg", "image/png", "image/webp"]) }).optional(),
    sticker: z.object({ data: base64, animated: z.boolean().default(false) }).optional(),
    /** Replies to this message (one the bot sent, or one sent through this API). */
    quotedId: z.string().min(1).max(128).optional(),
    mentions: z.array(digits).max(256).default([]),
  })
  .refine((m) => [m.text !== undefined || m.image, m.sticker].filter(Boolean).length === 1, {
    message: "needs text, an image (with optional text as its caption) or a sticker",
  });

export type PhoneMessage = z.input<typeof messageSchema>;

/** The phone's device acknowledges a message a bot sent it: read (the blue ticks), played, or delivered. */
export const receiptSchema = z.object({
  /** The bot's message (`id` of its phone event). */
  id: z.string().min(1).max(128),
  status: z.enum(["delivered", "read", "played"]).default("read"),
  /** Who read it: required in a group (each member's device sends its own receipt). */
  from: person.optional(),
});

/**
 * WhatsApp's own signals about a bot's number, on demand (`POST /v1/signals`): what the server
 * would send when it warns, locks or refuses the number, so tests and `npm run dev` can show them.
 */
export const signalSchema = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("capping"),
    botNumber: digits,
    status: z.enum(["NONE", "FIRST_WARNING", "SECOND_WARNING", "CAPPED"]),
    used: z.number().int().min(0).max(1_000_000).optional(),
    total: z.number().int().min(0).max(1_000_000).optional(),
    /** When the quota's cycle ends (ISO 8601). */
    cycleEndsAt: z.iso.datetime({ offset: true }).optional(),
  }),
  z.object({
    kind: z.literal("reachoutLock"),
    botNumber: digits,
    /** false lifts the lock. */
    active: z.boolean().default(true),
    /** When the lock ends (ISO 8601); WhatsApp Web assumes a minute when the server does not say. */
    endsAt: z.iso.datetime({ offset: true }).optional(),
    type: z
      .string()
      .regex(/^[A-Z_]{1,64}$/, "must be an enforcement type such as BIZ_QUALITY")
      .default("BIZ_QUALITY"),
  }),
  z.object({
    kind: z.literal("sendRefused463"),
    botNumber: digits,
    /** How many of the bot's next sends WhatsApp answers with error 463. */
    sends: z.number().int().min(1).max(10_000).default(1),
  }),
]);
export type PhoneSignal = z.input<typeof signalSchema>;

/** What a bot sent, as the phone on the other end sees it (`GET /v1/events`, one per server-sent event). */
export const phoneEventSchema = z.object({
  id: z.string(),
  /** The bot's number. */
  bot: z.string(),
  chat: z.string(),
  /** The private chat's number; absent for groups. */
  number: z.string().optional(),
  kind: z.enum(["text", "image", "sticker", "video", "audio", "document", "location", "contact", "reaction", "other"]),
  text: z.string().optional(),
  /** `GET /v1/media?url=…` fetches it. */
  mediaUrl: z.string().optional(),
  mimetype: z.string().optional(),
  mentions: z.array(z.string()),
  quotedId: z.string().optional(),
  at: z.string(),
});
export type PhoneEvent = z.infer<typeof phoneEventSchema>;

export const phoneBotsSchema = z.array(
  z.object({
    state: z.string(),
    number: z.string().optional(),
    qr: z.string().optional(),
    pairingCode: z.string().optional(),
  }),
);

export const phoneProblemSchema = z.object({ code: z.string(), message: z.string() });

/** A refusal of the phone API, on either side of the wire: the HTTP status and a stable code. */
export class PhoneApiError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}
