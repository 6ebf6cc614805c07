import type { proto, WASocket } from "baileys";
import type { SimulatedPhone } from "../../src/phone/simulated-phone.ts";
import type { LocalWhatsApp } from "../../src/server/local-whatsapp.ts";
import { Companion } from "./companion.ts";

/** A bot linked to `phone` by QR (scan, 515, log in again) and open. */
export async function linkedBot(server: LocalWhatsApp, phone: SimulatedPhone): Promise<Companion> {
  const bot = new Companion(server);
  bot.connect();
  const { qr } = await bot.next("connection.update", (u) => typeof u.qr === "string");
  await server.scanQr(phone, qr ?? "");
  await bot.next("connection.update", (u) => u.connection === "close");
  const mark = bot.events.length;
  bot.connect();
  await bot.next("connection.update", (u) => u.connection === "open", { since: mark });
  return bot;
}

/**
 * What a refused query threw: Baileys turns `<error code text>` into a Boom whose message is the
 * text and whose `data` is the code.
 */
export async function refusal(query: Promise<unknown>): Promise<{ code: unknown; text: string }> {
  try {
    await query;
  } catch (error) {
    if (error instanceof Error) return { code: "data" in error ? error.data : undefined, text: error.message };
    throw error;
  }
  throw new Error("the query was expected to be refused, and succeeded");
}

/** The bot's open socket (a test that lost it has nothing left to check). */
export function socketOf(bot: Companion): WASocket {
  if (!bot.socket) throw new Error("the bot has no socket: connect it first");
  return bot.socket;
}

/** A message's text, whichever way the sender wrapped it. */
export function textOf(message: proto.IMessage | null | undefined): string | null | undefined {
  return message?.conversation ?? message?.extendedTextMessage?.text;
}
