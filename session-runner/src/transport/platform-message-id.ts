import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * Message ids that say "a WhatsDeX bot sent this". Every message a bot on the platform sends
 * carries one (WhatsApp delivers the sender's id unchanged), and no bot on the platform takes such
 * a message as a command: text the platform generates (AI answers, translations, search results,
 * welcome templates, tenants' API sends) could otherwise start with another bot's prefix and be
 * obeyed by it — prefixes are any 1-3 characters, so no rewriting of the text could rule that out.
 *
 * The shape is WhatsApp Web's (`3EB0` + upper-case hex; 40 characters, as Baileys' older ids) with
 * 96 random bits and a 48-bit tag. The tag's key is no secret, and need not be: forging the mark
 * only makes our bots ignore the forger's own commands (guards such as antilink still apply to it).
 * The tag keeps an ordinary user's random id from looking like ours (a 2^-48 chance).
 */
const TAG_KEY = "whatsdex: sent by a bot on the platform (v1)";
const PREFIX = "3EB0";
const RANDOM_HEX = 24;
const TAG_HEX = 12;
const SHAPE = new RegExp(`^${PREFIX}[0-9A-F]{${RANDOM_HEX + TAG_HEX}}$`);

function tagOf(body: string): Buffer {
  return Buffer.from(createHmac("sha256", TAG_KEY).update(body).digest("hex").slice(0, TAG_HEX).toUpperCase());
}

/** A fresh id for a message a bot is about to send. */
export function platformMessageId(): string {
  const body = `${PREFIX}${randomBytes(RANDOM_HEX / 2)
    .toString("hex")
    .toUpperCase()}`;
  return `${body}${tagOf(body).toString()}`;
}

/** Whether a message id was made by `platformMessageId` (by any bot on the platform). */
export function isPlatformMessageId(id: string | null | undefined): boolean {
  if (!id || !SHAPE.test(id)) return false;
  const body = id.slice(0, PREFIX.length + RANDOM_HEX);
  return timingSafeEqual(Buffer.from(id.slice(body.length)), tagOf(body));
}
