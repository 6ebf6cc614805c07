import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { LocalWhatsApp } from "../src/server/local-whatsapp.ts";
import { loadState, saveStateOnChange } from "../src/state/state-file.ts";
import { Companion } from "./support/companion.ts";
import { serverLogger } from "./support/logger.ts";

const dir = mkdtempSync(join(tmpdir(), "local-whatsapp-state-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the server's state across a restart", () => {
  it("keeps linked devices and the phones' Signal stores: the bot logs in again and both sides keep decrypting", async () => {
    const path = join(dir, "state.json");
    const first = await LocalWhatsApp.start({ logger: serverLogger() });
    const owner = await first.createPhone("6281400000001", "Owner");
    const alice = await first.createPhone("6281400000002", "Alice");
    const bot = new Companion(first);
    bot.connect();
    const { qr } = await bot.next("connection.update", (u) => typeof u.qr === "string");
    await first.scanQr(owner, qr ?? "");
    await bot.next("connection.update", (u) => u.connection === "close");
    let mark = bot.events.length;
    bot.connect();
    await bot.next("connection.update", (u) => u.connection === "open", { since: mark });
    const before = await alice.sendText(owner.account, "before");
    await bot.next("messages.upsert", (u) => u.messages.some((m) => m.key.id === before), { since: mark });
    const stopSaving = saveStateOnChange(first, path, pino({ level: "silent" }));
    await stopSaving();
    bot.end();
    await first.close();

    const saved = loadState(path);
    if (!saved) throw new Error("nothing was saved");
    const second = await LocalWhatsApp.start({ logger: serverLogger(), state: saved });
    expect(Buffer.from(second.rootPublicKey)).toEqual(Buffer.from(first.rootPublicKey));
    const again = new Companion(second, bot);
    mark = again.events.length;
    again.connect();
    await again.next("connection.update", (u) => u.connection === "open", { since: mark });
    expect(again.events.some((e) => e.event === "connection.update" && e.data.qr)).toBe(false);

    const aliceAgain = second.phone(alice.account.pn);
    const ownerAgain = second.phone(owner.account.pn);
    if (!aliceAgain || !ownerAgain) throw new Error("the phones were not restored");
    expect(aliceAgain.account.lid).toBe(alice.account.lid);
    const after = await aliceAgain.sendText(ownerAgain.account, "after");
    const got = await again.next("messages.upsert", (u) => u.messages.some((m) => m.key.id === after), { since: mark });
    expect(got.messages.find((m) => m.key.id === after)?.message?.conversation).toBe("after");
    const reply = await again.socket?.sendMessage(aliceAgain.account.lidJid, { text: "welcome back" });
    const received = await aliceAgain.waitFor(() => aliceAgain.inbox.find((e) => e.id === reply?.key.id));
    expect(received.message.extendedTextMessage?.text ?? received.message.conversation).toBe("welcome back");
    expect(aliceAgain.failures).toEqual([]);
    again.end();
    await second.close();
  });

  it("refuses a file that is not a state file, naming what is wrong", async () => {
    const { writeFileSync } = await import("node:fs");
    const path = join(dir, "bad.json");
    writeFileSync(path, JSON.stringify({ version: 1, rootKey: "nope" }));
    expect(() => loadState(path)).toThrow(/is not a local WhatsApp state file: rootKey/);
  });
});
