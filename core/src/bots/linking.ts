import { z } from "zod";
import { botPath, collections } from "../firestore/paths.ts";
import { timestampSchema } from "../firestore/timestamps.ts";

/** One code a phone can link the number with, and when WhatsApp stops accepting it. */
export const linkingCodeSchema = z.object({ code: z.string().min(1), expiresAt: timestampSchema });

/**
 * `tenants/{t}/bots/{b}/linking/current`: the QR code or pairing code the bot is waiting to be
 * linked with (both null otherwise). Written by the runner (its StatusWriter, with the bot's state);
 * read by the dashboard, `npm run dev` and the TUI. Owners and admins only, by the rules: whoever
 * holds a code can link the number to their own phone.
 */
export const linkingDocSchema = z.object({
  qr: linkingCodeSchema.nullable(),
  pairingCode: linkingCodeSchema.nullable(),
  updatedAt: timestampSchema,
});
export type LinkingDoc = z.output<typeof linkingDocSchema>;

/**
 * The same document's codes alone, for readers that get it without Firestore's types (the REST API:
 * `npm run dev`'s watcher, the end-to-end test), where timestamps arrive as text.
 */
export const linkingCodesSchema = z.object({
  qr: linkingCodeSchema.pick({ code: true }).nullable(),
  pairingCode: linkingCodeSchema.pick({ code: true }).nullable(),
});

export function linkingPath(tenantId: string, botId: string): string {
  return `${botPath(tenantId, botId)}/${collections.linking}/current`;
}
