import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { testFirebase, waitFor } from "@whatsdex/core/testing";
import { LocalWhatsApp, type SimulatedPhone } from "@whatsdex/local-whatsapp";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tenantWithBots } from "./support/fleet.ts";
import { lifetimes, overlaps, runnerProcess } from "./support/runner-process.ts";

/**
 * Two real runner processes hold four bots on the real Baileys socket against the local WhatsApp
 * server; one is SIGKILLed. The survivor takes its bots over from Firestore alone (credentials and
 * Signal sessions), never while the dead one still had a socket for them, and every bot still
 * decrypts and answers after the takeover.
 */
const firebase = testFirebase();
const db = firebase.firestore;
const children: ChildProcess[] = [];
let server: LocalWhatsApp;

beforeAll(async () => {
  server = await LocalWhatsApp.start({ logger: pino({ level: process.env.LOCAL_WHATSAPP_LOG ?? "silent" }) });
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await server.close();
  await firebase.close();
});

const TTL_MS = 3_000;
const GRACE_MS = 500;
const SCAN_MS = 200;
const BOTS = 4;

describe("two runner processes on the real Baileys socket", () => {
  it("hand a SIGKILLed instance's linked bots to the other, never with two sockets for one bot, and they keep decrypting", {
    timeout: 120_000,
  }, async () => {
    const { tenantId, botIds } = await tenantWithBots(db, BOTS, "enterprise", "baileys");
    const settings = {
      ttlMs: TTL_MS,
      graceMs: GRACE_MS,
      scanMs: SCAN_MS,
      env: {
        LOCAL_WHATSAPP_URL: server.url,
        LOCAL_WHATSAPP_ROOT_KEY: Buffer.from(server.rootPublicKey).toString("base64"),
      },
    };
    const lease = (b: string) => db.doc(`tenants/${tenantId}/bots/${b}/lease/current`);
    const bot = (b: string) => db.doc(`tenants/${tenantId}/bots/${b}`);
    const owners = () => Promise.all(botIds.map(async (b) => (await lease(b).get()).get("owner") as string | null));
    const count = async (owner: string) => (await owners()).filter((o) => o === owner).length;
    const allOpen = async () =>
      (await Promise.all(botIds.map(async (b) => (await bot(b).get()).get("status.state")))).every((s) => s === "open")
        ? true
        : undefined;

    const a = runnerProcess("runner-a", tenantId, { ...settings, capacity: BOTS / 2 }, children);
    await waitFor(
      "runner-a to hold half the bots",
      async () => ((await count("runner-a")) === BOTS / 2 ? true : undefined),
      {
        timeoutMs: 30_000,
      },
    );
    const b = runnerProcess("runner-b", tenantId, { ...settings, capacity: BOTS }, children);
    await waitFor(
      "runner-b to hold the others",
      async () => ((await count("runner-b")) === BOTS / 2 ? true : undefined),
      {
        timeoutMs: 30_000,
      },
    );

    // Each bot's number is linked by its owner's phone scanning the QR code its runner published.
    const owners_ = new Map<string, SimulatedPhone>();
    for (const [i, botId] of botIds.entries()) {
      const phone = await server.createPhone(String(6281700000000 + i), `Owner ${i}`);
      owners_.set(botId, phone);
      const qr = await waitFor(
        `bot ${i}'s QR code`,
        async () => (await bot(botId).collection("linking").doc("current").get()).get("qr.code") as string | undefined,
        { timeoutMs: 30_000 },
      );
      await server.scanQr(phone, qr);
    }
    await waitFor("every bot to be open", allOpen, { timeoutMs: 30_000 });

    const alice = await server.createPhone("6281799999999", "Alice");
    const pingAll = async () => {
      for (const [botId, phone] of owners_) {
        const since = alice.inbox.length;
        await alice.sendText(phone.account, ".ping");
        const reply = await alice.waitFor(
          () => alice.inbox.slice(since).find((e) => e.chat !== alice.account.lidJid),
          20_000,
        );
        expect(reply.message.extendedTextMessage?.text ?? reply.message.conversation, `bot ${botId}`).toMatch(/pong/i);
      }
    };
    await pingAll();

    // Killed between two rounds of renewals (see takeover.test.ts for why).
    const expiries = async () =>
      (await Promise.all(botIds.map(async (id) => (await lease(id).get()).data())))
        .filter((held) => held?.owner === "runner-a")
        .map((held) => Number(held?.expiresAt?.toMillis() ?? 0));
    const before = await expiries();
    await waitFor(
      "a round of runner-a's renewals to finish",
      async () => ((await expiries()).every((at, i) => at > (before[i] ?? 0)) ? true : undefined),
      { intervalMs: 20 },
    );
    const killedAt = Date.now();
    a.child.kill("SIGKILL");
    await once(a.child, "exit");
    await waitFor("runner-b to hold every bot", async () => ((await count("runner-b")) === BOTS ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 50,
    });
    await waitFor("every bot to be open again", allOpen, { timeoutMs: 30_000 });
    const takeoverMs = Date.now() - killedAt;
    console.log(`takeover of ${BOTS / 2} Baileys bots after SIGKILL, open again: ${takeoverMs} ms`);

    // The Signal sessions came back from Firestore: every bot decrypts and answers.
    await pingAll();
    expect(alice.failures).toEqual([]);
    // No login ever replaced a live one: the dead process's sockets were gone before the new ones.
    expect(server.replacedLogins).toEqual([]);
    const inA = lifetimes(a.events, killedAt);
    const inB = lifetimes(b.events, Date.now());
    expect(inA.size).toBe(BOTS / 2);
    expect(overlaps(inA, inB)).toEqual([]);

    const stopped = once(b.child, "exit");
    b.child.kill("SIGTERM");
    expect((await stopped)[0]).toBe(0);
  });
});
