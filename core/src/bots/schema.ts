import { z } from "zod";
import { timestampSchema } from "../firestore/timestamps.ts";
import { aiModels } from "../plans/plan-catalog.ts";

export const botNameSchema = z.string().trim().min(1, "must not be empty").max(100, "must be at most 100 characters");

/** E.164 without the `+`: what WhatsApp's pairing code and PN JIDs use. */
export const phoneDigitsSchema = z
  .string()
  .transform((value) => value.replace(/[\s()+-]/g, ""))
  .pipe(z.string().regex(/^[1-9]\d{6,14}$/, "must be a phone number in international format, e.g. +62 812 3456 7890"));

export const transportSchema = z.enum(["baileys", "simulator"]);
export const desiredStateSchema = z.enum(["running", "stopped"]);
export const connectMethodSchema = z.enum(["qr", "pairing_code"]);

/** The session-runner's view of the connection, written only by the runner that holds the lease. */
export const botStateSchema = z.enum([
  "stopped",
  "connecting",
  "qr",
  "pairing",
  "open",
  "reconnecting",
  "logged_out",
  "forbidden",
  "replaced",
]);

const prefixSchema = z.string().regex(/^\S{1,3}$/, "must be 1-3 characters without spaces");
/** A bot owner: a phone number (digits) or a LID (`123…@lid`). */
const ownerSchema = z.union([phoneDigitsSchema, z.string().regex(/^\d{5,20}@lid$/, "must be a phone number or a LID")]);

/**
 * What one WhatsApp user (owners excepted) may use of the bot per UTC day, so that a single stranger
 * cannot spend the tenant's whole messages/day or AI allowance. Counted in the owning runner's memory.
 */
export const botLimitsSchema = z.strictObject({
  /** Commands answered per sender per day (AI and search ones included); 0 = only owners get answers. */
  commandsPerSenderPerDay: z.number().int().min(0).max(100_000),
  /** AI and search commands per sender per day; 0 = only owners may use them. */
  aiPerSenderPerDay: z.number().int().min(0).max(10_000),
});
export type BotLimits = z.output<typeof botLimitsSchema>;

export const defaultBotLimits: BotLimits = { commandsPerSenderPerDay: 50, aiPerSenderPerDay: 10 };

/**
 * Whether the bot keeps the messages it receives and sends, readable through `GET …/chats`, and
 * for how long (a Firestore TTL policy deletes them after). Off by default: nothing is kept unasked.
 */
export const messageStoreSettingsSchema = z.strictObject({
  enabled: z.boolean(),
  retentionDays: z.number().int().min(1).max(90),
});
export type MessageStoreSettings = z.output<typeof messageStoreSettingsSchema>;
export const defaultMessageStore: MessageStoreSettings = { enabled: false, retentionDays: 30 };

const settingsShape = {
  prefixes: z.array(prefixSchema).min(1).max(5),
  language: z.enum(["en", "id"]),
  mode: z.enum(["public", "self", "group"]),
  owners: z.array(ownerSchema).max(20),
  disabledCommands: z.array(z.string().regex(/^[a-z0-9_-]{1,32}$/, "must be a command name")).max(200),
  sticker: z.strictObject({ pack: z.string().max(64), author: z.string().max(64) }),
  ai: z.strictObject({
    persona: z.string().max(2_000),
    // Stored as text so a document written before a plan change still parses; the service allows
    // only the tenant's plan's models (PlanCatalog), and the runner falls back to the plan's default.
    model: z
      .string()
      .min(1)
      .max(64)
      .meta({ description: `One of the tenant's plan's AI models (${aiModels.join(", ")}).` }),
  }),
};

export const botSettingsSchema = z.strictObject({
  ...settingsShape,
  // Defaulted, so bot documents written before per-sender limits existed still parse.
  limits: botLimitsSchema.default(defaultBotLimits),
  messageStore: messageStoreSettingsSchema.default(defaultMessageStore),
});
export type BotSettings = z.output<typeof botSettingsSchema>;

/**
 * A settings change: top-level keys replace the current value, absent keys keep it. Built without
 * the defaults, so a patch that leaves `limits` out does not reset them.
 */
export const botSettingsPatchSchema = z
  .strictObject({ ...settingsShape, limits: botLimitsSchema, messageStore: messageStoreSettingsSchema })
  .partial();
export type BotSettingsPatch = z.output<typeof botSettingsPatchSchema>;

export const defaultBotSettings: BotSettings = {
  prefixes: [".", "!", "/"],
  language: "en",
  mode: "public",
  owners: [],
  disabledCommands: [],
  sticker: { pack: "WhatsDeX", author: "" },
  ai: { persona: "", model: "gemini-2.5-flash" },
  limits: defaultBotLimits,
  messageStore: defaultMessageStore,
};

/**
 * `tenants/{tenantId}/bots/{botId}`. The QR code and pairing code are not here: whoever holds them
 * can link the number to their own phone, so they live in `bots/{botId}/linking/current`, which only
 * owners and admins may read, while every member may read this document.
 */
export const botDocSchema = z.object({
  name: botNameSchema,
  transport: transportSchema,
  /** The WhatsApp number once linked (or the one a pairing code was requested for). */
  phoneNumber: z.string().nullable(),
  desiredState: desiredStateSchema,
  /** How to link when the session has no credentials yet. */
  connectMethod: connectMethodSchema,
  status: z.object({ state: botStateSchema, reason: z.string().nullable(), updatedAt: timestampSchema }),
  settings: botSettingsSchema,
  /** Kept running when a downgrade leaves room for fewer bots (the rest stop, newest first). */
  keepOnDowngrade: z.boolean().default(false),
  /** Why the platform stopped the bot (a downgrade); cleared when it is connected again within the plan. */
  stoppedFor: z
    .object({ reason: z.literal("plan_limit"), plan: z.string(), at: timestampSchema })
    .nullable()
    .default(null),
  createdBy: z.string().min(1),
  createdAt: timestampSchema,
  updatedAt: timestampSchema,
});
export type BotDoc = z.output<typeof botDocSchema>;
