import { derivedId } from "@whatsdex/core";
import { defineCommand } from "../command.ts";
import { quotedRaw } from "../inbound-message.ts";
import { downloadOrTell } from "./media-input.ts";

/**
 * `.sticker` on an image (its caption) or in reply to one: the image is handed to MediaProcessor
 * through the bot's media store and the sticker comes back through the outbox, so a slow conversion
 * never holds up the bot's other messages.
 */
export const sticker = defineCommand({
  name: "sticker",
  aliases: ["s", "stiker"],
  category: "maker",
  usage: "{prefix}sticker (as an image's caption, or replying to an image)",
  examples: ["(an image captioned) {prefix}sticker", "(replying to an image) {prefix}s"],
  summary: { en: "Turn an image into a sticker.", id: "Ubah gambar menjadi stiker." },
  cooldownMs: 5_000,
  async run(context) {
    const { message, raw, services, settings, reply, t, prefix } = context;
    const own = message.media ? raw : undefined;
    const source = own ?? (message.quoted?.media ? quotedRaw(raw) : undefined);
    const kind = message.media?.kind ?? message.quoted?.media?.kind;
    if (!source || !kind || !["image", "sticker", "video", "gif"].includes(kind)) {
      await reply(t("maker.sticker_needs_image", { prefix }));
      return;
    }
    // sharp decodes images and GIFs, not MP4 (which is what WhatsApp sends for videos and "GIFs").
    if (kind === "video" || kind === "gif") {
      await reply(t("maker.video_unsupported"));
      return;
    }
    const queue = services.queues.media;
    if (!queue) {
      await reply(t("maker.unavailable"));
      return;
    }
    const data = await downloadOrTell(context, source);
    if (!data) return;
    const naturalKey = `sticker:${message.chat}:${message.id}`;
    const inputMediaId = derivedId("in", naturalKey);
    await services.media.put(services.bot, inputMediaId, {
      mimetype: message.media?.mimetype ?? message.quoted?.media?.mimetype ?? "image/jpeg",
      data,
    });
    await queue.add(
      "media.sticker",
      {
        ...services.bot,
        to: message.chat,
        inputMediaId,
        pack: settings.sticker.pack,
        author: settings.sticker.author,
        language: settings.language,
      },
      { jobId: naturalKey, attempts: 3, backoff: { type: "exponential", delay: 1_000 } },
    );
  },
});
