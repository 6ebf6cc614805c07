import { defineCommand } from "../command.ts";
import { mediaJobOptions, mediaSource, stashMedia } from "./media-input.ts";

/** Per caption, in characters: more would not be legible on a phone anyway. */
export const MAX_MEME_CHARS = 200;

/** `top|bottom`, `top` or `|bottom`: the first `|` splits; each side trimmed. */
export function memeText(rest: string): { top: string; bottom: string } {
  const split = rest.indexOf("|");
  if (split === -1) return { top: rest.trim(), bottom: "" };
  return { top: rest.slice(0, split).trim(), bottom: rest.slice(split + 1).trim() };
}

/**
 * `.meme top|bottom` as an image's caption or in reply to one: MediaProcessor draws the captions
 * and the meme comes back as an image through the outbox.
 */
export const meme = defineCommand({
  name: "meme",
  aliases: ["smeme"],
  category: "maker",
  usage: "{prefix}meme <top text>|<bottom text> (as an image's caption, or replying to an image)",
  examples: [
    "(an image captioned) {prefix}meme when the build|passes first time",
    "(replying) {prefix}meme |bottom only",
  ],
  summary: { en: "Write meme text on an image.", id: "Tulis teks meme di atas gambar." },
  cooldownMs: 5_000,
  async run(context) {
    const { message, rest, services, settings, reply, t, prefix } = context;
    const source = mediaSource(context);
    if (source?.kind !== "image") {
      await reply(t("maker.meme_needs_image", { prefix }));
      return;
    }
    const { top, bottom } = memeText(rest);
    if (!top && !bottom) {
      await reply(t("maker.meme_needs_text", { prefix }));
      return;
    }
    if ([...top].length > MAX_MEME_CHARS || [...bottom].length > MAX_MEME_CHARS) {
      await reply(t("maker.meme_too_long", { max: MAX_MEME_CHARS }));
      return;
    }
    const queue = services.queues.media;
    if (!queue) {
      await reply(t("maker.tools_unavailable"));
      return;
    }
    const naturalKey = `meme:${message.chat}:${message.id}`;
    const inputMediaId = await stashMedia(context, source, naturalKey);
    if (!inputMediaId) return;
    await queue.add(
      "media.meme",
      { ...services.bot, to: message.chat, inputMediaId, top, bottom, language: settings.language },
      mediaJobOptions(naturalKey),
    );
  },
});
