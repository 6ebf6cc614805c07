import { defineCommand } from "../command.ts";
import { mediaJobOptions, mediaSource, stashMedia } from "./media-input.ts";

/**
 * `.toimg` in reply to a sticker (a sticker has no caption to put the command in): the sticker goes
 * to MediaProcessor through the media store and comes back as a PNG image through the outbox. An
 * animated sticker gives its first frame.
 */
export const toimg = defineCommand({
  name: "toimg",
  aliases: ["toimage", "topng"],
  category: "maker",
  usage: "{prefix}toimg (replying to a sticker)",
  examples: ["(replying to a sticker) {prefix}toimg"],
  summary: { en: "Turn a sticker back into an image.", id: "Ubah stiker menjadi gambar." },
  cooldownMs: 5_000,
  async run(context) {
    const { message, services, settings, reply, t, prefix } = context;
    const source = mediaSource(context);
    if (source?.kind !== "sticker") {
      await reply(t("maker.toimg_needs_sticker", { prefix }));
      return;
    }
    const queue = services.queues.media;
    if (!queue) {
      await reply(t("maker.tools_unavailable"));
      return;
    }
    const naturalKey = `toimage:${message.chat}:${message.id}`;
    const inputMediaId = await stashMedia(context, source, naturalKey);
    if (!inputMediaId) return;
    await queue.add(
      "media.toimage",
      { ...services.bot, to: message.chat, inputMediaId, language: settings.language },
      mediaJobOptions(naturalKey),
    );
  },
});
