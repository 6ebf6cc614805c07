import { MAX_QR_CHARS } from "../../media/qr.ts";
import { defineCommand } from "../command.ts";
import { mediaJobOptions } from "./media-input.ts";

/**
 * `.qr <text>` (or in reply to a message: its text) → a QR code image. Cheap to draw, but commands
 * cannot send images themselves: the image goes out as a job's result through the outbox, like
 * every other made image.
 */
export const qr = defineCommand({
  name: "qr",
  aliases: ["qrcode"],
  category: "maker",
  usage: "{prefix}qr <text or link> (or replying to a message)",
  examples: ["{prefix}qr https://example.com", "(replying to a message) {prefix}qr"],
  summary: { en: "Make a QR code of a text or link.", id: "Buat kode QR dari teks atau tautan." },
  cooldownMs: 3_000,
  async run({ message, rest, services, settings, reply, t, prefix }) {
    const text = rest || message.quoted?.text.trim() || "";
    if (!text) {
      await reply(t("maker.qr_needs_text", { prefix }));
      return;
    }
    const length = [...text].length;
    if (length > MAX_QR_CHARS) {
      await reply(t("maker.qr_too_long", { max: MAX_QR_CHARS, length }));
      return;
    }
    const queue = services.queues.media;
    if (!queue) {
      await reply(t("maker.tools_unavailable"));
      return;
    }
    const jobId = `qr:${message.chat}:${message.id}`;
    await queue.add(
      "media.qr",
      { ...services.bot, to: message.chat, text, language: settings.language },
      mediaJobOptions(jobId),
    );
  },
});
