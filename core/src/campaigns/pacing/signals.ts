import { z } from "zod";
import { cappingStatuses } from "./profile.ts";

const ms = z.number().int().min(0);

/**
 * WhatsApp's own signals about a number, as the session-runner's transport reads them from Baileys
 * (or the simulator emits them), and as the governor records them. One contract for both sides.
 */
export const whatsAppSignalSchema = z.discriminatedUnion("kind", [
  /** `message-capping.update`: how much of its new-chat quota the number used, and WhatsApp's verdict. */
  z.object({
    kind: z.literal("capping"),
    status: z.enum(cappingStatuses),
    used: z.number().int().min(0).nullable(),
    total: z.number().int().min(0).nullable(),
    cycleEndsAt: ms.nullable(),
  }),
  /** `connection.update.reachoutTimeLock`: WhatsApp refuses new chats until `endsAt`. */
  z.object({
    kind: z.literal("reachoutLock"),
    active: z.boolean(),
    endsAt: ms.nullable(),
    type: z.string().max(100).nullable(),
  }),
  /** A send answered with error 463 (the account may not start new chats): never retried. */
  z.object({ kind: z.literal("sendRefused463"), messageId: z.string().max(128).nullable() }),
  /** The number was linked (again) now: its warm-up starts over. */
  z.object({ kind: z.literal("linked") }),
]);
export type WhatsAppSignal = z.output<typeof whatsAppSignalSchema>;
