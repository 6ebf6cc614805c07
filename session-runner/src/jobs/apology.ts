import { derivedId, type OutboxWriter, resourceIdSchema } from "@whatsdex/core";
import { type FailedJob, jobScope } from "@whatsdex/core/jobs";
import { z } from "zod";
import { translator } from "../i18n/messages.ts";

/** What a job done for a WhatsApp user carries about them: the bot, the chat to answer, the language. */
const requesterSchema = z.object({
  tenantId: resourceIdSchema,
  botId: resourceIdSchema,
  to: z.string().min(3).max(200),
  language: z.enum(["en", "id"]).catch("en"),
});

/**
 * For the workers that act on a WhatsApp user's behalf (media, AI): a job that failed for good
 * sends that user one short apology in the bot's language, so nobody waits for an answer that will
 * never come. One per job however often the failure is reported (the outbox item is named after it).
 */
export function apologizeForFailedJobs(outbox: OutboxWriter): (failed: FailedJob) => Promise<void> {
  return async (failed) => {
    const requester = requesterSchema.safeParse(failed.data);
    // A payload that does not say whom to tell (it failed validation) is left to the dead letter.
    if (!requester.success) return;
    const { tenantId, botId, to, language } = requester.data;
    const itemId = derivedId("apology", failed.queue, jobScope({ tenantId, botId }), failed.id);
    await outbox.queueSend({ tenantId, botId }, itemId, {
      to,
      content: { type: "text", text: translator(language)("error.job_failed") },
      requestedBy: `job:${failed.name}`,
    });
  };
}
