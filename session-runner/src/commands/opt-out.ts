import { type BotRef, optOutIntent, recordOptIn, recordOptOut } from "@whatsdex/core";
import { type Firestore, Timestamp } from "firebase-admin/firestore";
import type { Logger } from "pino";
import type { Guard } from "./engine.ts";
import { TokenBuckets } from "./limits.ts";

/** The log line of every opt-out or opt-in keyword handled (fields: intent, changed, answered). */
export const OPT_OUT_HANDLED = "opt-out keyword handled";

export interface OptOutGuardOptions {
  db: Firestore;
  bot: BotRef;
  logger: Logger;
  now?: () => number;
}

/**
 * Confirmations one person can draw: someone toggling STOP and START (or an auto-responder doing it
 * for them) gets a few answers, then only the change itself. Each is already at most one per change.
 */
const ANSWERS = { capacity: 4, refillPerSecond: 1 / 600 };

/**
 * Opt-out by WhatsApp reply, before any command: a private message whose whole text is an opt-out
 * keyword (the bot's language's or an any-language one: STOP, BERHENTI, PARAR, BAJA…) opts the
 * tenant's contact out of campaigns; an opt-in keyword (START, MULAI…) from someone opted out clears
 * it. Each is answered once, when it changed something: a repeated STOP (a redelivery, a second bot
 * of the tenant, an auto-responder) gets no answer, so nothing can loop. Keyword messages are never
 * commands. Owners are handled like anyone (they may test it); banned people are recorded, not
 * answered. Not subject to any command limit or the tenant's daily allowance: stopping must always work.
 */
export function optOutGuard(options: OptOutGuardOptions): Guard {
  const now = options.now ?? Date.now;
  const answers = new TokenBuckets(ANSWERS, { now });
  return async ({ message, sender, settings, services, t, send }) => {
    if (message.isGroup || message.media) return false;
    const intent = optOutIntent(message.text, settings.language);
    if (!intent) return false;
    const at = Timestamp.fromMillis(now());
    const { tenantId, botId } = options.bot;
    let changed: boolean;
    try {
      ({ changed } =
        intent === "opt_out"
          ? await recordOptOut(options.db, tenantId, sender, { botId, text: message.text, at })
          : await recordOptIn(options.db, tenantId, sender, { at }));
    } catch (error) {
      // Unanswered, so the person sees nothing happened and writes again; never run as a command.
      options.logger.error({ err: error, intent }, "could not record an opt-out or opt-in");
      return true;
    }
    const answer = changed && !services.bans.has(sender) && answers.take(sender.id);
    if (answer) await send(t(intent === "opt_out" ? "optout.stopped" : "optout.started"), { quote: false });
    // Logged once handled (answer sent), so what reads the log knows the outcome is final.
    options.logger.info({ intent, changed, answered: answer }, OPT_OUT_HANDLED);
    // START from someone who was never opted out is not ours: it goes on like any message.
    return changed || intent === "opt_out";
  };
}
