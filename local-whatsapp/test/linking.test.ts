import { DisconnectReason } from "baileys";
import { afterEach, describe, expect, it } from "vitest";
import type { SimulatedPhone } from "../src/phone/simulated-phone.ts";
import { LocalWhatsApp } from "../src/server/local-whatsapp.ts";
import { Companion } from "./support/companion.ts";
import { serverLogger } from "./support/logger.ts";

let server: LocalWhatsApp | undefined;
afterEach(async () => {
  await server?.close();
});

const statusOf = (error: unknown) => (error as { output?: { statusCode?: number } } | undefined)?.output?.statusCode;

/** A bot linked to `phone` by QR and logged in. */
async function linked(server: LocalWhatsApp, phone: SimulatedPhone): Promise<Companion> {
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

describe("linking a real Baileys socket to the local server", () => {
  it("QR → scan → 515 → login → open, and a restart resumes without relinking", async () => {
    server = await LocalWhatsApp.start({ logger: serverLogger() });
    const phone = await server.createPhone("6281200000001", "Owner");
    const bot = new Companion(server);
    bot.connect();
    const { qr } = await bot.next("connection.update", (u) => typeof u.qr === "string");
    const jid = await server.scanQr(phone, qr ?? "");
    expect(jid).toMatch(/^6281200000001:1@s\.whatsapp\.net$/);
    const closed = await bot.next("connection.update", (u) => u.connection === "close");
    expect(statusOf(closed.lastDisconnect?.error)).toBe(DisconnectReason.restartRequired);
    expect(bot.auth.creds.me?.id).toBe(jid);

    const mark = bot.events.length;
    bot.connect();
    await bot.next("connection.update", (u) => u.connection === "open", { since: mark });
    expect(server.isConnected(jid)).toBe(true);
    bot.end();
  });

  it("a phone and a linked bot exchange Signal-encrypted messages both ways, with receipts", async () => {
    server = await LocalWhatsApp.start({ logger: serverLogger() });
    const owner = await server.createPhone("6281200000002", "Owner");
    const alice = await server.createPhone("6281300000003", "Alice");
    const bot = await linked(server, owner);

    const mark = bot.events.length;
    const sentId = await alice.sendText(owner.account, "hello bot");
    const upsert = await bot.next("messages.upsert", (u) => u.messages.some((m) => m.key.id === sentId), {
      since: mark,
    });
    const received = upsert.messages.find((m) => m.key.id === sentId);
    expect(received?.message?.conversation).toBe("hello bot");
    expect(received?.key.remoteJid).toBe(alice.account.lidJid);
    expect(received?.key.remoteJidAlt).toBe(alice.account.pnJid);
    expect(received?.pushName).toBe("Alice");

    const reply = await bot.socket?.sendMessage(received?.key.remoteJid ?? "", { text: "hello alice" });
    const got = await alice.waitFor(() => alice.inbox.find((entry) => entry.id === reply?.key.id));
    expect(got.message.conversation ?? got.message.extendedTextMessage?.text).toBe("hello alice");
    expect(alice.failures).toEqual([]);
    // The bot's own phone got the copy a companion sends to its account's other devices.
    const copy = await owner.waitFor(() => owner.inbox.find((entry) => entry.id === reply?.key.id));
    expect(copy.recipient).toBe(alice.account.lidJid);

    // Receipts: Alice's phone said delivered; the bot acknowledged hers.
    await bot.next(
      "messages.update",
      (updates) => updates.some((u) => u.key.id === reply?.key.id && u.update.status !== undefined),
      { since: mark },
    );
    await alice.waitFor(() => alice.receipts.find((r) => r.id === sentId));

    // A second exchange rides the established sessions (msg, not pkmsg).
    const second = await alice.sendText(owner.account, "again");
    const again = await bot.next("messages.upsert", (u) => u.messages.some((m) => m.key.id === second), {
      since: mark,
    });
    expect(again.messages[0]?.message?.conversation).toBe("again");
    bot.end();
  });
});
