import type { OutboxContent } from "../../outbox/message-content.ts";
import type { TemplateMedia } from "../../templates/schema.ts";

/** WhatsApp's longest caption: a campaign message with media must fit in it. */
export const MAX_CAPTION_LENGTH = 1_024;

/** Media a campaign message can carry with its text as the caption (audio and stickers have none). */
export const captionedMediaKinds = ["image", "video", "document"] as const;

/** Why a template cannot be a campaign's message as it is, or undefined if it can. */
export function campaignMessageProblem(template: {
  media: TemplateMedia | null;
  maxLength: number;
}): string | undefined {
  const media = template.media;
  if (!media) return undefined;
  if (!(captionedMediaKinds as readonly string[]).includes(media.kind)) {
    return `its ${media.kind} cannot carry the text as a caption; campaigns send images, videos or documents with text`;
  }
  if (template.maxLength > MAX_CAPTION_LENGTH) {
    return `with media the text is a caption, at most ${MAX_CAPTION_LENGTH} characters; this one can render to ${template.maxLength}`;
  }
  return undefined;
}

/**
 * The outbox content of one recipient's message: the rendered text, or the template's media with
 * the text as its caption. `mediaId` is the send's own copy of the media (the driver makes it from
 * the template's before sending).
 */
export function campaignContent(text: string, media: TemplateMedia | null, mediaId: string): OutboxContent {
  if (!media) return { type: "text", text };
  const caption = text.length > 0 ? text.slice(0, MAX_CAPTION_LENGTH) : null;
  switch (media.kind) {
    case "image":
      return { type: "image", mediaId, caption };
    case "video":
      return { type: "video", mediaId, caption, gifPlayback: false };
    case "document":
      return { type: "document", mediaId, caption, fileName: media.fileName ?? "document" };
    default:
      throw new Error(`a campaign cannot send ${media.kind} media (refused when it was scheduled)`);
  }
}
