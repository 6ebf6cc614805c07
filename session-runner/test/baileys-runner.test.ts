import { testFirebase, waitFor } from "@whatsdex/core/testing";
import { LocalWhatsApp, type SimulatedPhone } from "@whatsdex/local-whatsapp";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allCommands } from "../src/commands/all-commands.ts";
import { CommandRegistry } from "../src/commands/command.ts";
import type { Supervisor } from "../src/runner/supervisor.ts";
import { baileysTransport } from "../src/transport/baileys/baileys-transport.ts";
import { trustLocalWhatsApp } from "../src/transport/baileys/local-whatsapp.ts";
import { tenantWithBots, testSupervisor } from "./support/fleet.ts";

/**
 * The whole runner path — supervisor, bot runtime, command engine, outbox — on the production
 * transport against the local WhatsApp server: a phone writes a command and reads the bot's
 * answer, both Signal-encrypted on the wire.
 */
let server: LocalWhatsApp;
const started: Supervisor[] = [];
const firebase = testFirebase();
const db = firebase.firestore;

beforeAll(async () => {
  server = await LocalWhatsApp.start({ logger: pino({ level: process.env.LOCAL_WHATSAPP_LOG ?? "silent" }) });
  trustLocalWhatsApp({ url: server.url, rootKey: server.rootPublicKey }, "test");
});
afterAll(async () => {
  for (const s of started) await s.stop();
  await server.close();
  await firebase.close();
});

let nextNumber = 6281600000000;

/** A tenant's Baileys bot held by an in-process runner, linked by the owner's phone scanning its QR code. */
async function linkedBaileysBot() {
  const { tenantId, botIds } = await tenantWithBots(db, 1, "business", "baileys");
  const botId = botIds[0] ?? "";
  const supervisor = testSupervisor(db, {
    baileys: baileysTransport({ waWebSocketUrl: server.url, connectTimeoutMs: 10_000 }),
    tenantIds: [tenantId],
    commands: new CommandRegistry(allCommands),
    logger: pino({ level: process.env.BAILEYS_LOG ?? "silent" }),
  });
  started.push(supervisor);
  supervisor.start();
  const bot = db.doc(`tenants/${tenantId}/bots/${botId}`);
  const owner = await server.createPhone(String(nextNumber++), "Owner");
  const qr = await waitFor(
    "the bot's QR code",
    async () => (await bot.collection("linking").doc("current").get()).get("qr.code") as string | undefined,
  );
  await server.scanQr(owner, qr);
  await waitFor("the bot to be open", async () =>
    (await bot.get()).get("status.state") === "open" ? true : undefined,
  );
  return { tenantId, botId, owner, supervisor, bot };
}

/** The text of the bot's next message to `phone` after `since` entries. */
async function answer(phone: SimulatedPhone, since: number): Promise<string> {
  const entry = await phone.waitFor(() => phone.inbox.slice(since).find((e) => !e.recipient));
  return entry.message.extendedTextMessage?.text ?? entry.message.conversation ?? "";
}

describe("the runner on the real Baileys socket", () => {
  it("answers a command from a phone, end to end through Signal", async () => {
    const { owner } = await linkedBaileysBot();
    const alice = await server.createPhone(String(nextNumber++), "Alice");
    const since = alice.inbox.length;
    await alice.sendText(owner.account, ".ping");
    expect(await answer(alice, since)).toMatch(/pong/i);
    expect(alice.failures).toEqual([]);
  });
});
